"""Provides the golden corpus tests: byte-exact round trips, names per file, and exact expected outputs of edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from wgtui.conf import Convention, Document, NameStyle, Placement, read_peers_file

from .helpers import CORPUS, NEW_KEY, NEW_PSK, corpus_files, load, raw, text

C, P = Convention, Placement

EXPECTED: dict[str, tuple[list[str | None], NameStyle]] = {
    "01-client-minimal.conf": ([None], NameStyle(C.FRIENDLY_NAME, P.INSIDE)),
    "02-exporter-friendly.conf": (
        ["OnePlus 6T", "varch.local (laptop)", "cantarch"],
        NameStyle(C.FRIENDLY_NAME, P.INSIDE),
    ),
    "03-angristan.conf": (["alice", "bob-phone"], NameStyle(C.ANGRISTAN, P.ABOVE)),
    "04-nyr.conf": (["laptop", "phone", "tablet"], NameStyle(C.NYR, P.ABOVE)),
    "05-wireguard-ui.conf": (["Alice Laptop", "Bob", "site-b router"], NameStyle(C.NAME_COLON, P.ABOVE)),
    "06-wgdashboard.conf": (["office-nas", "Ärger Phone 📱"], NameStyle(C.WGDASHBOARD, P.INSIDE)),
    "07-windows-crlf.conf": (["router", "backup box"], NameStyle(C.NAME_EQUALS, P.ABOVE)),
    "08-mixed-endings-no-final-newline.conf": (["edge-1", "edge-2"], NameStyle(C.FRIENDLY_NAME, P.INSIDE)),
    "09-hooks-unknown-keys.conf": (["gateway"], NameStyle(C.NAME_COLON, P.INSIDE)),
    "10-comments-everywhere.conf": (["carol", "dave"], NameStyle(C.NAME_COLON, P.ABOVE)),
    "11-ipv6-header-names.conf": (["v6-client-a", "v6-client-b"], NameStyle(C.NAME_EQUALS, P.HEADER)),
    "12-wg-quick-table-mtu-dns.conf": (["hq"], NameStyle(C.FRIENDLY_NAME, P.ABOVE)),
    "13-wg-quick-save.conf": ([None, None], NameStyle(C.FRIENDLY_NAME, P.INSIDE)),
    "14-bom-crlf-no-final-newline.conf": (["kiosk"], NameStyle(C.FRIENDLY_JSON, P.ABOVE)),
    "15-peers-only-fragment.conf": ([None, None], NameStyle(C.FRIENDLY_NAME, P.INSIDE)),
    "17-pivpn.conf": (["phone", "work-laptop"], NameStyle(C.PIVPN, P.ABOVE)),
    "16-mixed-conventions.conf": (
        ["anna", "ben", "Chris (old laptop)", "dora", None],
        NameStyle(C.ANGRISTAN, P.ABOVE),
    ),
    "18-wg-easy.conf": (["Anna iPhone", "office-pc"], NameStyle(C.WG_EASY, P.ABOVE)),
    "19-pivpn-disabled.conf": (["phone", "laptop"], NameStyle(C.PIVPN, P.ABOVE)),
    "20-hand-tabs.conf": (["printer", "nas"], NameStyle(C.NAME_EQUALS, P.HEADER)),
}


def test_corpus_is_complete() -> None:
    assert {p.name for p in corpus_files()} == set(EXPECTED)
    assert len(EXPECTED) >= 12


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_round_trip_is_byte_exact(path: Path) -> None:
    data = path.read_bytes()
    doc = Document.from_bytes(data)
    assert doc.to_bytes() == data
    assert Document.parse(doc.render()) == doc


def test_corpus_files_keep_their_line_endings_in_git_checkout() -> None:
    # Guards .gitattributes: a checkout that normalised endings would make the other tests meaningless.
    assert b"\r\n" in raw("07-windows-crlf.conf")
    assert raw("07-windows-crlf.conf").count(b"\r\n") == raw("07-windows-crlf.conf").count(b"\n")
    mixed = raw("08-mixed-endings-no-final-newline.conf")
    assert b"\r\n" in mixed and b"\n\n" in mixed and not mixed.endswith(b"\n")
    assert raw("14-bom-crlf-no-final-newline.conf").startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_names_and_dominant_convention(name: str) -> None:
    doc = load(name)
    names, style = EXPECTED[name]
    assert [p.name for p in doc.peers] == names
    assert doc.naming == style


def test_peer_conventions_of_a_mixed_file() -> None:
    doc = load("16-mixed-conventions.conf")
    assert [p.naming.convention if p.naming else None for p in doc.peers] == [
        C.ANGRISTAN, C.ANGRISTAN, C.FRIENDLY_NAME, C.NYR, None,
    ]
    assert doc.conventions() == {C.ANGRISTAN: 2, C.FRIENDLY_NAME: 1, C.NYR: 1}


def test_separate_peers_file_names_the_fragment() -> None:
    doc = load("15-peers-only-fragment.conf")
    names = read_peers_file(CORPUS / "15-peers-only-fragment.peers")
    assert [names.get(p.public_key or "") for p in doc.peers] == ["build server", "printer (2nd floor)"]
    assert doc.interface is None


def test_parsed_views_of_the_hooks_file() -> None:
    iface = load("09-hooks-unknown-keys.conf").interface
    assert iface is not None
    assert iface.addresses == ("10.20.0.1/24", "fd20::1/64")
    assert iface.dns == ("9.9.9.9", "2620:fe::fe", "corp.example")
    assert (iface.mtu, iface.table, iface.fwmark, iface.save_config) == (1380, "1234", "0xca6c", False)
    # wg-quick cuts at the first '#', quotes or not: the raw line keeps the rest.
    assert iface.post_up[0] == 'iptables -A FORWARD -i %i -j ACCEPT -m comment --comment "wg'
    assert iface.post_up[1] == "echo 'up: %i' >> /var/log/wg-hooks.log"
    assert iface.pre_down == ('logger -t wg "going down: %i"',)
    assert iface.values("Jc") == ("4",)


def test_parsed_views_of_peers() -> None:
    client = load("01-client-minimal.conf").peers[0]
    assert client.allowed_ips == ("0.0.0.0/0", "::/0")
    assert (client.endpoint, client.persistent_keepalive) == ("vpn.example.com:51820", 25)
    assert client.preshared_key == "MjN3GqKhrpXd7EX4cHb8Na/+IO8vRQ1HXfg/og6VwgE="
    edge = load("08-mixed-endings-no-final-newline.conf").peers[0]
    assert edge.allowed_ips == ("10.10.0.2/32", "10.10.1.0/24", "10.10.2.0/24")
    assert edge.public_key == "SbDNoqJNgoG0Tsouw9isxNpppHfEnlj/pC36oFIkgSs="
    assert load("15-peers-only-fragment.conf").peers[1].persistent_keepalive == 0
    assert load("06-wgdashboard.conf").save_config and load("13-wg-quick-save.conf").save_config
    assert not load("09-hooks-unknown-keys.conf").save_config


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_add_then_remove_gives_back_the_original_bytes(path: Path) -> None:
    doc = Document.from_bytes(path.read_bytes())
    added = doc.add_peer(
        NEW_KEY, allowed_ips=["10.99.0.9/32"], name="carol", preshared_key=NEW_PSK,
        endpoint="192.0.2.9:51820", persistent_keepalive=25,
    )
    assert added.peers[-1].name == "carol" and added.peers[-1].public_key == NEW_KEY
    assert added.peers[-1].naming == doc.naming
    assert added.remove_peer(NEW_KEY).to_bytes() == path.read_bytes()


# -- golden edits: the exact expected text proves the diff is minimal ---------------------------------------


def test_golden_add_in_angristan_convention() -> None:
    before = text("03-angristan.conf")
    after = load("03-angristan.conf").add_peer(
        NEW_KEY, allowed_ips=["10.66.66.4/32", "fd42:42:42::4/128"], name="carol", preshared_key=NEW_PSK
    )
    assert after.render() == before + (
        "\n"
        "### Client carol\n"
        "[Peer]\n"
        f"PublicKey = {NEW_KEY}\n"
        f"PresharedKey = {NEW_PSK}\n"
        "AllowedIPs = 10.66.66.4/32,fd42:42:42::4/128\n"
    )


def test_golden_add_in_nyr_convention() -> None:
    after = load("04-nyr.conf").add_peer(NEW_KEY, allowed_ips="10.7.0.5/32, fddd:2c4:2c4:2c4::5/128", name="tv")
    assert after.render() == text("04-nyr.conf") + (
        "\n"
        "# BEGIN_PEER tv\n"
        "[Peer]\n"
        f"PublicKey = {NEW_KEY}\n"
        "AllowedIPs = 10.7.0.5/32, fddd:2c4:2c4:2c4::5/128\n"
        "# END_PEER tv\n"
    )


def test_golden_add_and_remove_in_pivpn_convention() -> None:
    doc = load("17-pivpn.conf")
    after = doc.add_peer(NEW_KEY, allowed_ips="10.6.0.4/32", name="tv")
    assert after.render() == text("17-pivpn.conf") + (
        f"\n### begin tv ###\n[Peer]\nPublicKey = {NEW_KEY}\nAllowedIPs = 10.6.0.4/32\n### end tv ###\n")
    # Removing the first peer takes its begin and end markers and nothing of its neighbour's.
    first = doc.peers[0].public_key
    assert first is not None
    removed = doc.remove_peer(first).render()
    assert "phone" not in removed and removed.count("### begin work-laptop ###") == 1
    assert removed.endswith("### end work-laptop ###\n")


def test_golden_add_to_crlf_file_uses_crlf() -> None:
    after = load("07-windows-crlf.conf").add_peer(
        NEW_KEY, allowed_ips=["10.9.0.4/32"], name="carol", endpoint="carol.example.net:51820"
    )
    assert after.to_bytes() == raw("07-windows-crlf.conf") + (
        b"\r\n# Name = carol\r\n[Peer]\r\n"
        + f"PublicKey = {NEW_KEY}\r\n".encode()
        + b"AllowedIPs = 10.9.0.4/32\r\nEndpoint = carol.example.net:51820\r\n"
    )


def test_golden_add_to_file_without_final_newline_keeps_it_so() -> None:
    after = load("08-mixed-endings-no-final-newline.conf").add_peer(
        NEW_KEY, allowed_ips=["10.10.0.4/32"], name="edge-3"
    )
    # The file's dominant style: no spaces around '=', LF endings, name just below [Peer].
    assert after.render() == text("08-mixed-endings-no-final-newline.conf") + (
        f"\n\n[Peer]\n# friendly_name = edge-3\nPublicKey={NEW_KEY}\nAllowedIPs=10.10.0.4/32"
    )


def test_golden_add_before_trailing_blank_lines() -> None:
    before = text("05-wireguard-ui.conf")
    assert before.endswith("51820\n\n")
    after = load("05-wireguard-ui.conf").add_peer(NEW_KEY, allowed_ips=["10.252.1.4/32"], name="Dana")
    assert after.render() == before + (
        f"# Name: Dana\n[Peer]\nPublicKey = {NEW_KEY}\nAllowedIPs = 10.252.1.4/32\n\n"
    )


def test_golden_remove_nyr_peer_between_markers() -> None:
    block = (
        "# BEGIN_PEER phone\n"
        "[Peer]\n"
        "PublicKey = qsVs4fEOhhGDjF63iN0IrTvHMnIczF/Hdu/XP/S8sRQ=\n"
        "PresharedKey = XnOYp9fGWLIs/O33Hpda1JqNrvRO1jKQHJRhRUI/g10=\n"
        "AllowedIPs = 10.7.0.3/32, fddd:2c4:2c4:2c4::3/128\n"
        "# END_PEER phone\n"
    )
    before = text("04-nyr.conf")
    assert block in before
    after = load("04-nyr.conf").remove_peer("qsVs4fEOhhGDjF63iN0IrTvHMnIczF/Hdu/XP/S8sRQ=")
    assert after.render() == before.replace(block, "")


def test_golden_remove_first_nyr_peer_keeps_the_interface_separator() -> None:
    doc = load("04-nyr.conf")
    after = doc.remove_peer(doc.resolve_peer("laptop").public_key or "")
    assert "ListenPort = 51820\n\n# BEGIN_PEER phone\n" in after.render()
    assert after.render().count("\n") == doc.render().count("\n") - 6


def test_golden_remove_takes_its_comments_and_one_blank_line() -> None:
    before = text("10-comments-everywhere.conf")
    block = (
        "\n# Name: carol\n# desk PC, 2nd floor\n[Peer]\n"
        "PublicKey = AGFOOXUNrUdHajkhspiBXgqRnPU9ZtG0Da1/3P3gVxk= # carol's key\n"
        "AllowedIPs = 10.30.0.2/32\n# PersistentKeepalive = 25\n"
    )
    assert block in before
    after = load("10-comments-everywhere.conf").remove_peer("AGFOOXUNrUdHajkhspiBXgqRnPU9ZtG0Da1/3P3gVxk=")
    # The free-floating "retired" comments after it stay.
    assert after.render() == before.replace(block, "")


def test_golden_remove_the_only_peer() -> None:
    before = text("12-wg-quick-table-mtu-dns.conf")
    after = load("12-wg-quick-table-mtu-dns.conf").remove_peer("7FM/b0JCyerP61xzmoXOXw7oh7zlInSfjW9OZmbwIE8=")
    # The blank line that separated it goes too: the file ends where the [Interface] block ends.
    assert after.render() == before[: before.index("\n# friendly_name = hq")]


def test_golden_remove_angristan_client_like_its_own_sed() -> None:
    before = text("03-angristan.conf")
    doc = load("03-angristan.conf")
    after = doc.remove_peer(doc.resolve_peer("alice").public_key or "")
    start = before.index("\n### Client alice")
    end = before.index("\n### Client bob-phone")
    assert after.render() == before[:start] + before[end:]


def test_golden_set_allowed_ips_merges_repeated_lines_in_place() -> None:
    doc = load("08-mixed-endings-no-final-newline.conf")
    after = doc.set_peer_field(
        doc.peers[0].public_key or "", "AllowedIPs", ["10.10.0.2/32", "10.10.1.0/24", "10.10.3.0/24"]
    )
    old = "allowedips=10.10.0.2/32\nallowedips=10.10.1.0/24\r\nAllowedIPs = 10.10.2.0/24 \t\n"
    new = "allowedips=10.10.0.2/32, 10.10.1.0/24, 10.10.3.0/24\n"
    assert after.render() == doc.render().replace(old, new)


def test_golden_rotation_keeps_end_of_line_comment() -> None:
    doc = load("10-comments-everywhere.conf")
    old = "AGFOOXUNrUdHajkhspiBXgqRnPU9ZtG0Da1/3P3gVxk="
    after = doc.replace_public_key(old, NEW_KEY)
    assert after.render() == doc.render().replace(
        f"PublicKey = {old} # carol's key", f"PublicKey = {NEW_KEY} # carol's key"
    )
    assert after.peer(NEW_KEY).name == "carol"


def test_golden_turn_save_config_off() -> None:
    for name in ("06-wgdashboard.conf", "13-wg-quick-save.conf"):
        doc = load(name)
        after = doc.set_interface_field("SaveConfig", False)
        assert after.render() == doc.render().replace("SaveConfig = true\n", "SaveConfig = false\n")
        assert not after.save_config


def test_golden_rename_in_place_in_each_convention() -> None:
    cases = [
        ("05-wireguard-ui.conf", "Bob", "Robert", "# Name:         Bob\n", "# Name:         Robert\n"),
        ("04-nyr.conf", "laptop", "work-laptop", "_PEER laptop\n", "_PEER work-laptop\n"),
        ("11-ipv6-header-names.conf", "v6-client-a", "alpha", "[Peer] # Name = v6-client-a", "[Peer] # Name = alpha"),
        ("06-wgdashboard.conf", "office-nas", "NAS", "#Name# = office-nas\n", "#Name# = NAS\n"),
        ("03-angristan.conf", "alice", "alice2", "### Client alice\n", "### Client alice2\n"),
        ("07-windows-crlf.conf", "router", "gw", "# Name = router\r\n", "# Name = gw\r\n"),
        (
            "02-exporter-friendly.conf", "varch.local (laptop)", "varch",
            '{"username":"varch","name":"varch.local (laptop)","admin":true}',
            '{"username": "varch", "name": "varch", "admin": true}',
        ),
    ]
    for name, old_name, new_name, old, new in cases:
        doc = load(name)
        after = doc.rename_peer(doc.resolve_peer(old_name).public_key or "", new_name)
        assert after.render() == doc.render().replace(old, new), name
        assert after.resolve_peer(new_name).name == new_name


def test_golden_rename_adds_a_name_in_the_files_convention() -> None:
    doc = load("13-wg-quick-save.conf")
    key = "fbAmpzowzS9Ya0ILyS0CFSthR8qoilR2r63DACbRWyQ="
    after = doc.rename_peer(key, "web")
    assert after.render() == doc.render().replace(
        f"[Peer]\nPublicKey = {key}", f"[Peer]\n# friendly_name = web\nPublicKey = {key}"
    )
    mixed = load("16-mixed-conventions.conf")
    key = "FOPe35rHfWwZS2lLDW4RIi3x3qn/2zPbPRMgq5JeOX4="
    assert mixed.rename_peer(key, "eve").render() == mixed.render().replace(
        f"\n[Peer]\nPublicKey = {key}", f"\n### Client eve\n[Peer]\nPublicKey = {key}"
    )


def test_golden_add_keepalive_at_end_of_bom_crlf_file() -> None:
    doc = load("14-bom-crlf-no-final-newline.conf")
    after = doc.set_peer_field(doc.peers[0].public_key or "", "PersistentKeepalive", 25)
    assert after.to_bytes() == raw("14-bom-crlf-no-final-newline.conf") + b"\r\nPersistentKeepalive = 25"


def test_golden_delete_last_line_of_file() -> None:
    doc = load("01-client-minimal.conf")
    after = doc.set_peer_field(doc.peers[0].public_key or "", "PersistentKeepalive", None)
    assert after.render() == doc.render().replace("PersistentKeepalive = 25\n", "")


def test_golden_hooks_become_one_line_each_in_place_of_the_first() -> None:
    doc = load("09-hooks-unknown-keys.conf")
    after = doc.set_interface_field("PostUp", ["echo up %i", "echo 'really up'"])
    before = doc.render()
    first = before.index("PostUp = ")
    # wg-quick reads everything from '#' on as a comment, even inside quotes: as every end-of-line comment,
    # it stays on the edited line.
    expected = (
        before[:first]
        + "PostUp = echo up %i # forward\"\nPostUp = echo 'really up'\n"
        + before[before.index("PreDown = ") :]
    )
    assert after.render() == expected
