"""Provides tests of the edits: in-place values, new lines in the file's style, separators, names, refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from wgtui.conf import (
    Convention,
    Document,
    DuplicatePeer,
    EditError,
    NameStyle,
    PeerNotFound,
    Placement,
    ValidationError,
)

from .helpers import NEW_KEY, NEW_KEY_2, changed_lines

K1, K2 = NEW_KEY, NEW_KEY_2
K3 = "Q2vUQf9TRzJ2lojKnILF4/IsQvfLVeimQPFoZTP4X1g="


def test_value_edited_in_place_keeps_case_spacing_and_comment() -> None:
    doc = Document.parse(f"[Peer]\npublickey={K1}\n  allowedips\t=  10.0.0.2/32   # laptop\r\n")
    after = doc.set_peer_field(K1, "AllowedIPs", "10.0.0.3/32")
    assert after.lines[2].raw == "  allowedips\t=  10.0.0.3/32   # laptop\r\n"
    assert changed_lines(doc, after) == [2]


def test_empty_value_gets_a_space() -> None:
    doc = Document.parse(f"[Peer]\nPublicKey = {K1}\nEndpoint =\nDNS =# c\n")
    after = doc.set_peer_field(K1, "Endpoint", "a.example:1").set_peer_field(K1, "DNS", "1.1.1.1")
    assert after.render() == f"[Peer]\nPublicKey = {K1}\nEndpoint = a.example:1\nDNS = 1.1.1.1 # c\n"


def test_same_value_changes_nothing() -> None:
    doc = Document.parse(f"[Peer]\nPublicKey = {K1}\nPersistentKeepalive = 25\n")
    assert doc.set_peer_field(K1, "PersistentKeepalive", 25) == doc
    assert doc.set_peer_field(K1, "Endpoint", None) == doc


def test_new_line_copies_the_blocks_own_style_and_goes_after_its_last_setting() -> None:
    doc = Document.parse(
        f"[Interface]\nListenPort = 1\n\n[Peer]\n\tPublicKey\t=\t{K1}\n\tAllowedIPs\t=\t10.0.0.2/32\n# note\n\n"
    )
    after = doc.set_peer_field(K1, "PersistentKeepalive", 25)
    assert after.render() == doc.render().replace(
        "10.0.0.2/32\n", "10.0.0.2/32\n\tPersistentKeepalive\t=\t25\n"
    )


def test_new_line_in_an_empty_block_goes_after_the_header() -> None:
    doc = Document.parse(f"[Interface]\n[Peer] # x\nPublicKey = {K1}\n")
    assert doc.set_interface_field("ListenPort", 51820).render() == (
        f"[Interface]\nListenPort = 51820\n[Peer] # x\nPublicKey = {K1}\n"
    )


def test_delete_removes_every_line_of_the_key() -> None:
    doc = Document.parse(f"[Peer]\nPublicKey = {K1}\nAllowedIPs = a\nallowedips = b\nEndpoint = e:1\n")
    for empty in (None, "", " ", [], ["", " "]):
        assert doc.set_peer_field(K1, "AllowedIPs", empty).render() == f"[Peer]\nPublicKey = {K1}\nEndpoint = e:1\n"


def test_unknown_keys_can_be_set_and_kept() -> None:
    doc = Document.parse("[Interface]\nJc = 4\nListenPort = 1\n")
    assert doc.set_interface_field("Jc", 5).render() == "[Interface]\nJc = 5\nListenPort = 1\n"
    assert doc.set_interface_field("SaveConfig", True).render().endswith("ListenPort = 1\nSaveConfig = true\n")


def test_list_values_use_the_files_separator() -> None:
    doc = Document.parse(f"[Interface]\nAddress = 10.0.0.1/24,fd00::1/64\n[Peer]\nPublicKey = {K1}\n")
    after = doc.set_peer_field(K1, "AllowedIPs", ["10.0.0.2/32", "fd00::2/128"])
    assert after.peers[0].section.fields[-1].value == "10.0.0.2/32,fd00::2/128"


def test_interface_fields_span_every_interface_section() -> None:
    doc = Document.parse("[Interface]\nDNS = a\n[Interface]\nDNS = b\n")
    assert doc.set_interface_field("DNS", "c").render() == "[Interface]\nDNS = c\n[Interface]\n"


def test_edit_refusals() -> None:
    doc = Document.parse(f"[Peer]\nPublicKey = {K1}\n")
    with pytest.raises(EditError, match="replace_public_key"):
        doc.set_peer_field(K1, "PublicKey", K2)
    with pytest.raises(EditError, match="is not a key name"):
        doc.set_peer_field(K1, "Allowed IPs", "x")
    with pytest.raises(EditError, match="no \\[Interface\\] section"):
        doc.set_interface_field("ListenPort", 1)
    assert doc.set_interface_field("ListenPort", None) == doc
    with pytest.raises(PeerNotFound):
        doc.set_peer_field(K2, "Endpoint", "a:1")
    with pytest.raises(ValidationError, match="takes a single value"):
        doc.set_peer_field(K1, "Endpoint", ["a:1", "b:2"])


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("10.0.0.2/32\n[Peer]", "a line break (U+000A)"),
        ("10.0.0.2/32\r", "a line break (U+000D)"),
        ("a\u2028b", "a line break (U+2028)"),
        ("a\x0bb", "a line break (U+000B)"),
        ("a # b", "'#', which wg-quick reads as the start of a comment"),
        ("a\x00b", "the control character U+0000"),
        ("a\x7fb", "the control character U+007F"),
        ("a\ud800", "the unpaired surrogate U+D800, which cannot be written as UTF-8"),
    ],
)
def test_values_that_could_break_lines_are_refused_by_every_edit(value: str, why: str) -> None:
    doc = Document.parse(f"[Interface]\nListenPort = 1\n[Peer]\nPublicKey = {K1}\n")
    message = f"must not contain {why}"
    edits: list[Callable[[], Document]] = [
        lambda: doc.set_peer_field(K1, "AllowedIPs", value),
        lambda: doc.set_peer_field(K1, "AllowedIPs", [value]),
        lambda: doc.set_interface_field("PostUp", value),
        lambda: doc.add_peer(K2, allowed_ips=[value]),
        lambda: doc.add_peer(K2, endpoint=value),
        lambda: doc.add_peer(K2, preshared_key=value),
        lambda: doc.add_peer(value),
        lambda: doc.replace_public_key(K1, value),
    ]
    for edit in edits:
        with pytest.raises(ValidationError) as info:
            edit()
        assert info.value.message == message


@pytest.mark.parametrize("name", ["a\nb", "a\rb", "x\n[Peer]\nPublicKey = evil", "a#b", "\t", ""])
def test_names_that_could_inject_are_refused(name: str) -> None:
    doc = Document.parse(f"[Peer]\nPublicKey = {K1}\n")
    with pytest.raises(ValidationError):
        doc.rename_peer(K1, name)
    if name:
        with pytest.raises(ValidationError):
            doc.add_peer(K2, name=name)


# -- add and remove ----------------------------------------------------------------------------------------


def test_add_to_an_empty_file() -> None:
    doc = Document.parse("").add_peer(K1, allowed_ips=["10.0.0.2/32"], name="a")
    assert doc.render() == f"[Peer]\n# friendly_name = a\nPublicKey = {K1}\nAllowedIPs = 10.0.0.2/32\n"
    assert doc.remove_peer(K1).render() == ""


def test_add_without_allowed_ips_writes_no_line() -> None:
    doc = Document.parse("[Interface]\nListenPort = 1\n").add_peer(K1)
    assert doc.render() == f"[Interface]\nListenPort = 1\n\n[Peer]\nPublicKey = {K1}\n"


def test_add_with_an_explicit_style() -> None:
    doc = Document.parse("[Interface]\n")
    header = doc.add_peer(K1, name="a", naming=NameStyle(Convention.NAME_EQUALS, Placement.HEADER))
    assert header.render() == f"[Interface]\n\n[Peer] # Name = a\nPublicKey = {K1}\n"
    # WGDashboard only reads its names inside the block, whatever placement is asked for.
    dash = doc.add_peer(K1, name="a", naming=NameStyle(Convention.WGDASHBOARD, Placement.ABOVE))
    assert dash.render() == f"[Interface]\n\n[Peer]\n#Name# = a\nPublicKey = {K1}\n"


def test_add_refuses_a_key_already_there() -> None:
    doc = Document.parse(f"[Peer]\nPublicKey = {K1}\n")
    with pytest.raises(DuplicatePeer, match="already in this file"):
        doc.add_peer(K1)
    with pytest.raises(ValidationError, match="must not be empty"):
        doc.add_peer("  ")


def test_remove_first_block_of_a_peers_only_file_takes_the_blank_after() -> None:
    doc = Document.parse(f"[Peer]\nPublicKey = {K1}\n\n[Peer]\nPublicKey = {K2}\n")
    assert doc.remove_peer(K1).render() == f"[Peer]\nPublicKey = {K2}\n"


def test_remove_middle_block_takes_one_separator() -> None:
    doc = Document.parse(
        f"[Peer]\nPublicKey = {K1}\n\n\n[Peer]\nPublicKey = {K2}\n\n[Peer]\nPublicKey = {K3}\n"
    )
    assert doc.remove_peer(K2).render() == f"[Peer]\nPublicKey = {K1}\n\n\n[Peer]\nPublicKey = {K3}\n"


def test_remove_last_block_without_final_newline() -> None:
    doc = Document.parse(f"[Interface]\r\nListenPort = 1\r\n\r\n[Peer]\r\nPublicKey = {K1}")
    assert doc.remove_peer(K1).render() == "[Interface]\r\nListenPort = 1"


def test_edits_leave_the_original_document_alone() -> None:
    text = f"[Peer]\nPublicKey = {K1}\n"
    doc = Document.parse(text)
    doc.add_peer(K2)
    doc.remove_peer(K1)
    doc.rename_peer(K1, "x")
    assert doc.render() == text


# -- key rotation ------------------------------------------------------------------------------------------


def test_replace_public_key() -> None:
    doc = Document.parse(f"# Name = a\n[Peer]\nPublicKey = {K1}\n[Peer]\nPublicKey = {K2}\n")
    after = doc.replace_public_key(K1, K3)
    assert after.render() == doc.render().replace(K1, K3)
    assert doc.replace_public_key(K1, K1) == doc
    with pytest.raises(DuplicatePeer):
        doc.replace_public_key(K1, K2)


def test_staged_rotation_can_be_built_from_the_edits() -> None:
    head = "[Interface]\nListenPort = 1\n\n# Name: a\n[Peer]\n"
    doc = Document.parse(f"{head}PublicKey = {K1}\nAllowedIPs = 10.0.0.2/32\n")
    staged = doc.add_peer(K2, name="a")
    assert staged.peer(K2).allowed_ips == ()
    moved = staged.set_peer_field(K2, "AllowedIPs", "10.0.0.2/32").remove_peer(K1)
    assert moved.render() == f"{head}PublicKey = {K2}\nAllowedIPs = 10.0.0.2/32\n"


# -- names -------------------------------------------------------------------------------------------------


def test_rename_to_none_removes_every_name_comment() -> None:
    nyr = Document.parse(f"[Interface]\n\n# BEGIN_PEER a\n[Peer]\nPublicKey = {K1}\n# END_PEER a\n")
    assert nyr.rename_peer(K1, None).render() == f"[Interface]\n\n[Peer]\nPublicKey = {K1}\n"
    header = Document.parse(f"[Peer]   # Name = a\nPublicKey = {K1}\n")
    assert header.rename_peer(K1, None).render() == f"[Peer]\nPublicKey = {K1}\n"
    plain = Document.parse(f"[Peer]\nPublicKey = {K1}\n")
    assert plain.rename_peer(K1, None) == plain


def test_rename_friendly_json_keeps_its_other_fields() -> None:
    doc = Document.parse(f'[Peer]\n# friendly_json = {{"device": "phone", "user": "a"}}\nPublicKey = {K1}\n')
    assert doc.rename_peer(K1, "b").lines[1].text == '# friendly_json = {"device": "phone", "user": "b"}'
    nameless = Document.parse(f'[Peer]\n# friendly_json = {{"device": "phone"}}\nPublicKey = {K1}\n')
    assert nameless.rename_peer(K1, "b").lines[1].text == '# friendly_json = {"device": "phone", "name": "b"}'
    assert doc.rename_peer(K1, None).lines[1].text == '# friendly_json = {"device": "phone"}'
    only = Document.parse(f'[Peer]\n# friendly_json = {{"name": "a"}}\nPublicKey = {K1}\n')
    assert only.rename_peer(K1, None).render() == f"[Peer]\nPublicKey = {K1}\n"
    broken = Document.parse(f"[Peer]\n# friendly_json = {{oops\nPublicKey = {K1}\n")
    with pytest.raises(EditError, match="line 2: its friendly_json comment is not a JSON object"):
        broken.rename_peer(K1, "b")


def test_rename_an_empty_name_comment() -> None:
    doc = Document.parse(f"# Name:\n[Peer]\nPublicKey = {K1}\n")
    assert doc.rename_peer(K1, "bob").lines[0].text == "# Name: bob"


def test_rename_respects_the_limits_of_the_convention_in_use() -> None:
    doc = Document.parse(f"### Client alice\n[Peer]\nPublicKey = {K1}\n")
    with pytest.raises(ValidationError, match="only use letters, digits"):
        doc.rename_peer(K1, "Alice Laptop")


def test_rename_adds_nyr_markers_around_the_block() -> None:
    doc = Document.parse(
        f"# BEGIN_PEER a\n[Peer]\nPublicKey = {K1}\n# END_PEER a\n\n# note\n[Peer]\nPublicKey = {K2}"
    )
    after = doc.rename_peer(K2, "b")
    assert after.render() == (
        f"# BEGIN_PEER a\n[Peer]\nPublicKey = {K1}\n# END_PEER a\n\n"
        f"# BEGIN_PEER b\n# note\n[Peer]\nPublicKey = {K2}\n# END_PEER b"
    )
    assert after.remove_peer(K2).render() == f"# BEGIN_PEER a\n[Peer]\nPublicKey = {K1}\n# END_PEER a"


def test_rename_adds_inside_with_the_key_indent() -> None:
    doc = Document.parse(f"[Peer]\n  PublicKey = {K1}\n")
    assert doc.rename_peer(K1, "a").render() == f"[Peer]\n  # friendly_name = a\n  PublicKey = {K1}\n"


@pytest.mark.parametrize("removed", ["phone", "laptop"])
def test_removing_a_pivpn_peer_keeps_the_disabled_block_beside_it(removed: str) -> None:
    """PiVPN writes a disabled peer as commented-out lines right between two live blocks: it is nobody's."""
    text = (Path(__file__).parent / "corpus" / "19-pivpn-disabled.conf").read_text()
    doc = Document.parse(text)
    key = next(p.public_key for p in doc.peers if p.name == removed)
    assert key is not None
    after = doc.remove_peer(key).render()
    disabled = [ln for ln in text.splitlines() if ln.startswith("#[disabled]")]
    assert len(disabled) == 6 and all(ln in after.splitlines() for ln in disabled)
    assert f"### begin {removed} ###" not in after and f"### end {removed} ###" not in after
    assert key not in after


def test_wg_easy_names_are_read_and_renamed_without_losing_the_client_id() -> None:
    text = (Path(__file__).parent / "corpus" / "18-wg-easy.conf").read_text()
    doc = Document.parse(text)
    anna = next(p for p in doc.peers if p.name == "Anna iPhone")
    assert anna.public_key is not None
    renamed = doc.rename_peer(anna.public_key, "Anna (new phone)").render()
    assert "# Client: Anna (new phone) (6f0d2c3e-8a41-4b8e-9d7a-2f5b1c9e4a10)\n" in renamed
    assert Document.parse(renamed).names[anna.public_key] == "Anna (new phone)"
    added = doc.add_peer(NEW_KEY, allowed_ips=["10.8.0.4/32"], name="carol").render()
    assert added.endswith(f"\n\n# Client: carol\n[Peer]\nPublicKey = {NEW_KEY}\nAllowedIPs = 10.8.0.4/32")
