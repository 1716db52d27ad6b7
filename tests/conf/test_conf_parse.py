"""Provides tests of parsing: line endings, refusals with line numbers, views, which comments belong where."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wgtui.conf import AmbiguousPeer, Document, LineKind, ParseError, PeerNotFound

from .helpers import NEW_KEY, NEW_KEY_2

K1, K2 = NEW_KEY, NEW_KEY_2


def parse_error(text: str | bytes) -> ParseError:
    with pytest.raises(ParseError) as info:
        if isinstance(text, bytes):
            Document.from_bytes(text)
        else:
            Document.parse(text)
    return info.value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n",
        "\r\n\r\n",
        "   ",
        "# only a comment",
        "[Interface]",
        "[Interface]\r\nPrivateKey=x\nAddress = 10.0.0.1/24\r\n",
        "\ufeff[Interface]\r\n",
        "# a lone \r inside a comment stays in the line\n",
        "[interface]\n[PEER]\n  [Peer]  # spaced header with a comment\n",
        "[Peer]\nPublicKey = x\nAllowedIPs =\nDNS=\n",
    ],
)
def test_round_trip_edge_cases(text: str) -> None:
    assert Document.parse(text).render() == text


def test_lines_keep_their_own_endings() -> None:
    doc = Document.parse("[Interface]\r\nPrivateKey = x\n# c\r\nListenPort = 1")
    assert [ln.eol for ln in doc.lines] == ["\r\n", "\n", "\r\n", ""]
    assert [ln.kind for ln in doc.lines] == [LineKind.SECTION, LineKind.SETTING, LineKind.COMMENT, LineKind.SETTING]
    assert doc.eol == "\r\n"
    assert Document.parse("").eol == "\n"


def test_bom_is_kept_and_not_part_of_the_first_line() -> None:
    doc = Document.parse("\ufeff[Interface]\nListenPort = 1\n")
    assert doc.bom == "\ufeff" and doc.lines[0].text == "[Interface]"
    assert doc.to_bytes().startswith(b"\xef\xbb\xbf[Interface]")


def test_keys_and_sections_are_case_insensitive() -> None:
    doc = Document.parse(f"[interface]\nlistenport = 51820\n[PEER]\npublickey={K1}\nALLOWEDIPS = 10.0.0.2/32\n")
    assert doc.interface is not None and doc.interface.listen_port == 51820
    assert doc.peers[0].public_key == K1 and doc.peers[0].allowed_ips == ("10.0.0.2/32",)
    assert doc.lines[1].key == "listenport"


def test_values_stop_at_hash_like_wg_quick() -> None:
    doc = Document.parse('[Interface]\nPostUp = echo "a # b" # note\nAddress = 10.0.0.1/24#x\n')
    assert doc.interface is not None
    assert doc.interface.post_up == ('echo "a',)
    assert doc.interface.addresses == ("10.0.0.1/24",)
    assert doc.lines[1].comment == '# b" # note'


def test_keepalive_off_and_garbage() -> None:
    doc = Document.parse(
        f"[Peer]\nPublicKey = {K1}\nPersistentKeepalive = off\n[Peer]\nPublicKey = {K2}\nPersistentKeepalive = x\n"
    )
    assert [p.persistent_keepalive for p in doc.peers] == [0, None]


def test_single_valued_keys_take_the_last_line_like_wg() -> None:
    doc = Document.parse(f"[Peer]\nPublicKey = {K1}\nEndpoint = a:1\nEndpoint = b:2\n")
    assert doc.peers[0].endpoint == "b:2"


# -- refusals ----------------------------------------------------------------------------------------------


def test_garbage_line_is_refused_with_its_line_number() -> None:
    err = parse_error("[Interface]\nPrivateKey = x\n\nthis is not a setting\n")
    assert err.line == 4
    assert err.reason == "this line is neither a comment, a [Section] header nor a 'Key = value' setting"
    assert err.text == "this is not a setting"
    assert str(err) == f"line 4: {err.reason}"


def test_unknown_section_is_refused() -> None:
    err = parse_error("[Interface]\n[Match]\n")
    assert (err.line, err.reason) == (
        2, "unknown section [Match]: a wg-quick file has only [Interface] and [Peer] sections"
    )


@pytest.mark.parametrize("header", ["[Peer", "[ Peer ]", "[Peer]]", "[Peer 1]", "[]"])
def test_malformed_headers_are_refused(header: str) -> None:
    err = parse_error(f"# x\r\n{header}\r\n")
    assert err.line == 2
    assert err.reason == f"{header!r} is not a section header: write [Interface] or [Peer]"


def test_setting_before_any_section_is_refused() -> None:
    err = parse_error("# top comment\n\nPrivateKey = x\n[Interface]\n")
    assert (err.line, err.reason) == (3, "the setting 'PrivateKey' comes before any [Interface] or [Peer] section")


def test_setting_without_key_is_refused() -> None:
    err = parse_error("[Interface]\n = 10.0.0.1\n")
    assert (err.line, err.reason) == (2, "this setting has no key before its '='")


def test_key_with_spaces_is_refused() -> None:
    err = parse_error("[Peer]\nAllowed IPs = 10.0.0.1/32\n")
    assert (err.line, err.reason) == (2, "'Allowed IPs' is not a key name (a key is one word, like AllowedIPs)")


def test_invalid_utf8_is_refused_with_line_offset_and_why() -> None:
    err = parse_error(b"[Interface]\r\nPrivateKey = \xff\n")
    assert err.line == 2
    assert err.reason == "the file is not valid UTF-8: byte 0xff at byte offset 26 (invalid start byte)"


def test_truncated_utf8_at_end_is_refused() -> None:
    err = parse_error(b"[Interface]\n\n# caf\xc3")
    assert err.line == 3 and "byte 0xc3 at byte offset 18 (unexpected end of data)" in err.reason


def test_latin1_file_is_refused_on_its_line() -> None:
    err = parse_error("[Interface]\n# Büro\n".encode("latin-1"))
    assert err.line == 2 and "byte 0xfc" in err.reason


# -- finding peers -----------------------------------------------------------------------------------------


def two_peers() -> Document:
    return Document.parse(
        f"[Interface]\nListenPort = 1\n\n# Name = alice\n[Peer]\nPublicKey = {K1}\n\n"
        f"# Name = bob\n[Peer]\nPublicKey = {K2}\n"
    )


def test_resolve_by_key_name_and_prefix() -> None:
    doc = two_peers()
    assert doc.resolve_peer(K1).name == "alice"
    assert doc.resolve_peer("bob").public_key == K2
    assert doc.resolve_peer(K2[:5]).name == "bob"
    assert doc.names == {K1: "alice", K2: "bob"}


def test_resolve_refusals() -> None:
    doc = two_peers()
    with pytest.raises(PeerNotFound, match="no peer 'carol' in this file"):
        doc.resolve_peer("carol")
    with pytest.raises(PeerNotFound):
        doc.peer(K1[:10])
    shared = Document.parse(f"[Peer]\nPublicKey = {K1}\n[Peer]\nPublicKey = {K1[:5]}Zsame=\n")
    with pytest.raises(AmbiguousPeer, match="matches 2 peers"):
        shared.resolve_peer(K1[:5])


def test_a_key_in_two_blocks_is_ambiguous_for_edits() -> None:
    doc = Document.parse(f"[Peer]\nPublicKey = {K1}\n[Peer]\nPublicKey = {K1}\n")
    assert len(doc.peers) == 2
    with pytest.raises(AmbiguousPeer):
        doc.peer(K1)


# -- which lines belong to a block -------------------------------------------------------------------------


def spans(doc: Document) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in doc.sections]


def test_comments_directly_above_belong_to_the_next_block() -> None:
    doc = Document.parse(
        "# preamble\n\n[Interface]\nListenPort = 1\n# about alice\n# friendly_name = alice\n[Peer]\nPublicKey = x\n"
    )
    assert spans(doc) == [(2, 4), (4, 8)]
    assert doc.peers[0].name == "alice"
    assert [ln.text for ln in doc.preamble] == ["# preamble", ""]


def test_comments_after_a_blank_line_are_free_floating() -> None:
    doc = Document.parse(
        "[Peer]\nPublicKey = a\n\n# retired:\n#[Peer]\n#PublicKey = z\n\n[Peer]\nPublicKey = b\n\n# end\n"
    )
    assert spans(doc) == [(0, 2), (7, 9)]


def test_comments_inside_and_right_after_the_settings_belong_to_the_block() -> None:
    doc = Document.parse("[Peer]\n# friendly_name = a\nPublicKey = a\n\n# between\nAllowedIPs = 10.0.0.1/32\n# after\n")
    assert spans(doc) == [(0, 7)]
    assert doc.peers[0].name == "a"


def test_nyr_end_marker_closes_the_block_above() -> None:
    doc = Document.parse(
        "[Interface]\nListenPort = 1\n\n# BEGIN_PEER a\n[Peer]\nPublicKey = a\n# END_PEER a\n"
        "# BEGIN_PEER b\n[Peer]\nPublicKey = b\n# END_PEER b\n"
    )
    assert spans(doc) == [(0, 2), (3, 7), (7, 11)]
    assert [len(p.marks) for p in doc.peers] == [2, 2]


# -- names in every spelling -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "name"),
    [
        ("# friendly_name = alice", "alice"),
        ("#friendly_name=alice smith  ", "alice smith"),
        ('# friendly_json = {"name": "alice", "device": "phone"}', "alice"),
        ('# friendly_json = {"Username": "alice"}', "alice"),
        ('# friendly_json = {"device": "phone"}', None),
        ("# friendly_json = {not json}", None),
        ("# friendly_json = [1, 2]", None),
        ("### Client alice", "alice"),
        ("###Client   alice  ", "alice"),
        ("# BEGIN_PEER alice", "alice"),
        ("# Name = alice", "alice"),
        ("# Name: alice", "alice"),
        ("## name:alice", "alice"),
        ("# Name:", None),
        ("#Name# = alice", "alice"),
        ("# a note about alice", None),
    ],
)
def test_name_conventions_are_read(comment: str, name: str | None) -> None:
    doc = Document.parse(f"{comment}\n[Peer]\nPublicKey = {K1}\n")
    assert doc.peers[0].name == name


def test_the_package_imports_without_textual() -> None:
    code = "import sys, wgtui.conf, wgtui.conf.validate; assert 'textual' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_documents_compare_by_content() -> None:
    a, b = Document.parse("[Interface]\n"), Document.parse("[Interface]\n")
    assert a == b and hash(a) == hash(b) and a != Document.parse("[Interface]\r\n")
    assert repr(a) == "<Document 1 lines, 0 peers>"
