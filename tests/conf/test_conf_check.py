"""Provides tests of the config checker: each error and warning at its line, and no error on any corpus file."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest

from wgtui.conf import Document, ParseError
from wgtui.conf.check import Finding, Severity, check_bytes, errors, format_findings
from wgtui.keys import keypair

from .helpers import corpus_files, raw

E, W = Severity.ERROR, Severity.WARNING

SERVER_PRIV, SERVER_PUB = keypair()
ALICE = keypair()[1]
BOB = keypair()[1]
CAROL = keypair()[1]
PSK = base64.b64encode(bytes(range(32))).decode()


def check(lines: list[str], **kwargs: str) -> list[Finding]:
    return check_bytes(("\n".join(lines) + "\n").encode(), **kwargs)


def summary(findings: list[Finding]) -> list[tuple[Severity, int | None, str]]:
    return [(f.severity, f.line, f.code) for f in findings]


def server(*extra: str) -> list[str]:
    """A well-formed server with two named peers; `extra` lines go at the end of [Interface] (line 4 on)."""
    return [
        "[Interface]",
        f"PrivateKey = {SERVER_PRIV}",
        "ListenPort = 51820",
        *extra,
        "",
        "# Name = alice",
        "[Peer]",
        f"PublicKey = {ALICE}",
        "AllowedIPs = 10.0.0.2/32",
        "",
        "# Name = bob",
        "[Peer]",
        f"PublicKey = {BOB}",
        "AllowedIPs = 10.0.0.3/32",
    ]


def with_peer(*body: str, name: str = "carol") -> list[str]:
    """`server()` plus a third peer whose settings are `body`: its header is line 16, its body from 17 on."""
    return [*server(), "", f"# Name = {name}", "[Peer]", *body]


def test_a_clean_file_has_no_findings() -> None:
    assert check(server()) == []
    assert check(with_peer(f"PublicKey = {CAROL}", f"PresharedKey = {PSK}", "AllowedIPs = 10.0.0.4/32")) == []


# -- the corpus: every generator's file is free of errors ----------------------------------------------------


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_no_corpus_file_has_an_error(path: Path) -> None:
    assert errors(check_bytes(path.read_bytes())) == []


CORPUS_WARNINGS: dict[str, list[tuple[Severity, int | None, str]]] = {
    "01-client-minimal.conf": [],
    "05-wireguard-ui.conf": [],
    "06-wgdashboard.conf": [(W, 3, "save-config")],
    "09-hooks-unknown-keys.conf": [(W, 11, "unknown-key"), (W, 12, "unknown-key"), (W, 13, "unknown-key")],
    "13-wg-quick-save.conf": [(W, 4, "save-config")],
    "14-bom-crlf-no-final-newline.conf": [(W, 1, "bom")],
    "15-peers-only-fragment.conf": [(W, None, "no-interface")],
    "17-pivpn.conf": [],
    "18-wg-easy.conf": [],
    "19-pivpn-disabled.conf": [],
    "20-hand-tabs.conf": [],
}


@pytest.mark.parametrize("name", sorted(CORPUS_WARNINGS))
def test_corpus_warnings_are_exactly_the_true_ones(name: str) -> None:
    assert summary(check_bytes(raw(name))) == CORPUS_WARNINGS[name]


# -- bytes that stop the check ---------------------------------------------------------------------------


def test_nul_byte_is_reported_on_its_line_and_stops_the_check() -> None:
    data = b"[Interface]\nPrivateKey = nope\n# a\x00b\n[Interface]\n"
    found = check_bytes(data)
    assert summary(found) == [(E, 3, "nul-byte")]


def test_non_utf8_is_reported_on_its_line_and_stops_the_check() -> None:
    data = f"[Interface]\nPrivateKey = {SERVER_PRIV}\n\n# caf".encode() + b"\xe9\n[Interface]\n"
    found = check_bytes(data)
    assert summary(found) == [(E, 4, "not-utf8")]
    assert "0xe9" in found[0].message


def test_nul_and_non_utf8_are_both_reported_in_line_order() -> None:
    data = b"[Interface]\n# \xff\n# \x00\n"
    assert summary(check_bytes(data)) == [(E, 2, "not-utf8"), (E, 3, "nul-byte")]


def test_what_the_parser_refuses_is_a_parse_error_and_stops_the_check() -> None:
    text = "[Interface]\nPrivateKey = nope\nthis is not a setting\n[Interface]\n"
    found = check_bytes(text.encode())
    assert summary(found) == [(E, 3, "parse")]
    with pytest.raises(ParseError) as info:
        Document.parse(text)
    assert found[0].message == info.value.reason


# -- structure -------------------------------------------------------------------------------------------


def test_a_second_interface_section_is_an_error_at_its_header() -> None:
    lines = [*server(), "", "[Interface]", "MTU = 1400"]
    found = check(lines)
    assert summary(found) == [(E, 15, "two-interfaces")]
    assert "line 1" in found[0].message


def test_a_peer_without_public_key_is_an_error_at_its_header_naming_it() -> None:
    found = check(with_peer("AllowedIPs = 10.0.0.4/32"))
    assert summary(found) == [(E, 16, "peer-without-key")]
    assert "'carol'" in found[0].message


def test_a_file_without_interface_is_a_warning_about_the_whole_file() -> None:
    lines = server()[5:]
    found = check(lines)
    assert summary(found) == [(W, None, "no-interface")]


# -- keys ------------------------------------------------------------------------------------------------


def noncanonical(key: str) -> str:
    """`key` with its last base64 character's unused low bits set: Python decodes it, wg refuses it."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    index = alphabet.index(key[42]) | 1
    return key[:42] + alphabet[index] + "="


@pytest.mark.parametrize(
    ("lines", "line"),
    [
        (["[Interface]", "PrivateKey = c2hvcnQ="], 2),
        (["[Interface]", "PrivateKey ="], 2),
        (with_peer("PublicKey = not-a-key", "AllowedIPs = 10.0.0.4/32"), 17),
        (with_peer(f"PublicKey = {CAROL[:-1]}", "AllowedIPs = 10.0.0.4/32"), 17),
        (with_peer(f"PublicKey = {CAROL}", f"PresharedKey = {noncanonical(PSK)}"), 18),
        (with_peer(f"PublicKey = {CAROL}", "PresharedKey = "), 18),
    ],
)
def test_a_value_that_is_no_key_is_bad_key_at_its_line(lines: list[str], line: int) -> None:
    assert summary(check(lines)) == [(E, line, "bad-key")]


def test_a_public_key_in_two_peers_is_an_error_at_the_second_naming_the_first() -> None:
    found = check(with_peer(f"PublicKey = {ALICE}", "AllowedIPs = 10.0.0.4/32"))
    assert summary(found) == [(E, 17, "duplicate-public-key")]
    assert "'alice' (line 6)" in found[0].message and "'carol'" in found[0].message


def test_own_public_key_derived_from_the_private_key_in_the_file() -> None:
    found = check(with_peer(f"PublicKey = {SERVER_PUB}", "AllowedIPs = 10.0.0.4/32"))
    assert summary(found) == [(E, 17, "own-public-key")]
    assert "PrivateKey" in found[0].message


def test_own_public_key_given_by_the_running_interface() -> None:
    lines = ["[Interface]", "ListenPort = 51820", "", "[Peer]", f"PublicKey = {BOB}", "AllowedIPs = 10.0.0.3/32"]
    assert check(lines) == []
    found = check(lines, interface_public_key=BOB)
    assert summary(found) == [(E, 5, "own-public-key")]
    assert "running interface" in found[0].message


def test_the_files_own_private_key_wins_over_the_running_interfaces_key() -> None:
    # The file is what will be applied: its PrivateKey decides which key is the interface's own.
    assert check(server(), interface_public_key=ALICE) == []


# -- values ----------------------------------------------------------------------------------------------


VALUES_OK = [
    ("ListenPort", "0"), ("ListenPort", "65535"), ("FwMark", "0xca6c"), ("FwMark", "off"), ("FwMark", "4294967295"),
    ("Address", "10.0.0.1/24, fd00::1/64"), ("Address", "10.0.0.1/24 fd00::1/64"), ("Address", "10.0.0.1"),
    ("Address", ""), ("DNS", "1.1.1.1, 2606:4700::1111, corp.example"), ("DNS", "home"), ("MTU", "1420"),
    ("MTU", "0x58c"), ("MTU", ""), ("Table", "off"), ("Table", "main"), ("SaveConfig", "false"), ("PreDown", ""),
]
VALUES_BAD = [
    ("ListenPort", "65536"), ("ListenPort", "-1"), ("ListenPort", ""), ("ListenPort", "51 820x"),
    ("FwMark", "0x"), ("FwMark", "0X10"), ("FwMark", "4294967296"), ("FwMark", "mark"),
    ("Address", "10.0.0.300/24"), ("Address", "10.0.0.1/33"), ("DNS", "1.1.1"), ("MTU", "big"),
    ("MTU", "09"), ("SaveConfig", "yes"), ("SaveConfig", ""),
]


@pytest.mark.parametrize(("key", "value"), VALUES_OK)
def test_interface_values_wg_quick_accepts(key: str, value: str) -> None:
    assert check(server(f"{key} = {value}")) == []


@pytest.mark.parametrize(("key", "value"), VALUES_BAD)
def test_interface_values_wg_quick_refuses_are_bad_value_at_their_line(key: str, value: str) -> None:
    found = check(server(f"{key} = {value}"))
    assert summary(found) == [(E, 4, "bad-value")]
    assert found[0].message.startswith(key)


PEER_OK = [
    ("AllowedIPs", "10.0.0.5/24"),  # host bits set: wg warns and zeroes them
    ("AllowedIPs", "10.0.0.4 /32"),  # wg removes every space of a line
    ("AllowedIPs", "10.0.0.4/32,fd00::4/128"), ("AllowedIPs", "+10.0.0.4/32"),
    ("Endpoint", "[2001:db8::1]:51820"), ("Endpoint", "2001:db8::1:51820"), ("Endpoint", "my_host.lan:51820"),
    ("Endpoint", "203.0.113.7:443"), ("Endpoint", "10.1:51820"), ("Endpoint", "[fe80::1%eth0]:51820"),
    ("PersistentKeepalive", "0"), ("PersistentKeepalive", "OFF"), ("PersistentKeepalive", "65535"),
]
PEER_BAD = [
    ("AllowedIPs", "10.0.0.4/33"), ("AllowedIPs", "10.0.0.4/32,"), ("AllowedIPs", "10.0.0.4/32 10.0.0.5/32"),
    ("AllowedIPs", "fe80::1%eth0/128"), ("AllowedIPs", "10.0.0.4/"), ("AllowedIPs", "printer"),
    ("AllowedIPs", ""),  # get_value() finds no value in "AllowedIPs=": "Line unrecognized"
    ("Endpoint", "vpn.example.com"), ("Endpoint", "vpn.example.com:"), ("Endpoint", "[2001:db8::1]51820"),
    ("Endpoint", "[2001:db8::1:51820"), ("Endpoint", "300.1.1.1:51820"), ("Endpoint", "host:0"),
    ("Endpoint", "host:70000"), ("Endpoint", "vpn!.example.com:51820"), ("Endpoint", ":51820"),
    ("PersistentKeepalive", "65536"), ("PersistentKeepalive", "25s"), ("PersistentKeepalive", "-1"),
]


@pytest.mark.parametrize(("key", "value"), PEER_OK)
def test_peer_values_wg_accepts(key: str, value: str) -> None:
    assert check(with_peer(f"PublicKey = {CAROL}", f"{key} = {value}")) == []


@pytest.mark.parametrize(("key", "value"), PEER_BAD)
def test_peer_values_wg_refuses_are_bad_value_at_their_line(key: str, value: str) -> None:
    found = check(with_peer(f"PublicKey = {CAROL}", f"{key} = {value}"))
    assert summary(found) == [(E, 18, "bad-value")]
    assert found[0].message.startswith(key)


def test_a_space_inside_an_allowed_ips_item_is_explained() -> None:
    found = check(with_peer(f"PublicKey = {CAROL}", "AllowedIPs = 10.0.0.4/32 10.0.0.5/32"))
    assert "separate items with commas" in found[0].message


@pytest.mark.parametrize(
    ("lines", "line"),
    [
        (server("Endpoint = 192.0.2.1:51820"), 4),
        (server("PublicKey = " + ALICE), 4),
        (with_peer(f"PublicKey = {CAROL}", "Address = 10.0.0.4/32"), 18),
        (with_peer(f"PublicKey = {CAROL}", "ListenPort = 51820"), 18),
    ],
)
def test_a_key_of_the_other_section_is_an_error(lines: list[str], line: int) -> None:
    assert summary(check(lines)) == [(E, line, "wrong-section")]


# -- warnings --------------------------------------------------------------------------------------------


def test_unknown_keys_are_warnings_not_errors() -> None:
    assert summary(check(server("Jc = 4", "Jmin = 40"))) == [(W, 4, "unknown-key"), (W, 5, "unknown-key")]
    found = check(with_peer(f"PublicKey = {CAROL}", "Colour = blue"))
    assert summary(found) == [(W, 18, "unknown-key")]
    assert "AmneziaWG" in found[0].message


def test_save_config_true_is_a_warning_at_the_line_that_counts() -> None:
    assert summary(check(server("SaveConfig = True"))) == [(W, 4, "save-config")]
    assert summary(check(server("SaveConfig = true", "SaveConfig = false"))) == []
    assert summary(check(server("SaveConfig = false", "SaveConfig = true"))) == [(W, 5, "save-config")]


def test_a_prefix_of_two_peers_is_a_warning_at_the_later_one_naming_the_other() -> None:
    # 10.0.0.9/24 is 10.0.0.0/24 to the kernel; alice's line claims it first.
    lines = server()
    lines[7] = "AllowedIPs = 10.0.0.2/32, 10.0.0.0/24"
    found = check(with_peer(f"PublicKey = {CAROL}", "AllowedIPs = 10.0.0.4/32", "AllowedIPs = 10.0.0.9/24"))
    assert found == []  # without the change, nobody else has 10.0.0.0/24
    found = check([*lines, "", "# Name = carol", "[Peer]", f"PublicKey = {CAROL}", "AllowedIPs = 10.0.0.9/24"])
    assert summary(found) == [(W, 18, "shared-allowed-ip")]
    assert "10.0.0.0/24" in found[0].message and "'alice' (line 6)" in found[0].message
    assert "'carol'" in found[0].message


def test_overlapping_but_different_prefixes_and_repeats_in_one_peer_are_fine() -> None:
    lines = with_peer(f"PublicKey = {CAROL}", "AllowedIPs = 10.0.0.0/25, 10.0.0.0/24", "AllowedIPs = 10.0.0.0/24")
    assert check(lines) == []
    keyless = with_peer("AllowedIPs = 10.0.0.0/24", "AllowedIPs = 10.0.0.0/24")
    assert summary(check(keyless)) == [(E, 16, "peer-without-key")]


def test_shared_prefix_names_an_unnamed_peer_by_its_line() -> None:
    lines = ["[Interface]", f"PrivateKey = {SERVER_PRIV}", "[Peer]", f"PublicKey = {ALICE}", "AllowedIPs = 0.0.0.0/0",
             "[Peer]", f"PublicKey = {BOB}", "AllowedIPs = 0.0.0.0/0"]
    found = check(lines)
    assert summary(found) == [(W, 8, "shared-allowed-ip")]
    assert "the peer at line 3" in found[0].message


# -- the report ------------------------------------------------------------------------------------------


def test_findings_are_sorted_with_the_whole_file_first() -> None:
    lines = ["[Peer]", f"PublicKey = {ALICE}", "Colour = red", "[Peer]", "AllowedIPs = 10.0.0.3/32"]
    assert summary(check(lines)) == [(W, None, "no-interface"), (W, 3, "unknown-key"), (E, 4, "peer-without-key")]


def test_errors_keeps_only_errors() -> None:
    found = check(["[Peer]", "AllowedIPs = 10.0.0.3/32"])
    assert summary(errors(found)) == [(E, 1, "peer-without-key")]
    assert errors([]) == []


def test_format_findings_reads_like_a_compiler() -> None:
    findings = [Finding(W, None, "no-interface", "no [Interface]"), Finding(E, 4, "bad-key", "PublicKey is bad")]
    assert format_findings("/etc/wireguard/wg0.conf", findings) == (
        "/etc/wireguard/wg0.conf: warning: no [Interface]\n"
        "/etc/wireguard/wg0.conf:4: error: PublicKey is bad\n"
    )
    assert format_findings("wg0.conf", []) == ""


def test_format_findings_of_a_real_check() -> None:
    text = format_findings("wg0.conf", check(server("MTU = big")))
    assert text.startswith("wg0.conf:4: error: MTU 'big' is not a number")
    assert text.endswith("\n") and text.count("\n") == 1


def test_findings_are_immutable_and_messages_hold_no_own_line_number() -> None:
    found = check(with_peer("AllowedIPs = 10.0.0.4/32"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        found[0].line = 1  # type: ignore[misc]
    assert "16" not in found[0].message
