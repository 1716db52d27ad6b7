"""Provides tests of the separate peers file (read and lossless edits) and the unified diff helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from wgtui.conf import ParseError, PeersFile, ValidationError, parse_peers_file, read_peers_file, unified_diff

from .helpers import NEW_KEY, NEW_KEY_2

K1, K2 = NEW_KEY, NEW_KEY_2


def test_parse_peers_file() -> None:
    text = f"# comment\n\n{K1} alice laptop  \r\n  {K2}\tbob\nnot-a-key carol\n{K1[:-1]}\n{K2}\n"
    assert parse_peers_file(text) == {K1: "alice laptop", K2: "bob"}
    assert parse_peers_file(f"{K1} a\n{K1} b") == {K1: "b"}


def test_read_peers_file(tmp_path: Path) -> None:
    path = tmp_path / "peers"
    path.write_bytes(f"{K1} alice\n".encode())
    assert read_peers_file(path) == {K1: "alice"}
    path.write_bytes(b"# ok\n\xfe\n")
    with pytest.raises(ParseError) as info:
        read_peers_file(path)
    assert info.value.line == 2
    with pytest.raises(FileNotFoundError):
        read_peers_file(tmp_path / "missing")


def test_peers_file_edits_touch_one_line() -> None:
    text = f"# names\r\n{K1}  alice # not a comment to us\r\n{K2} bob"
    peers = PeersFile(text)
    assert peers.render() == text
    assert peers.set_name(K1, "carol").render() == text.replace("alice # not a comment to us", "carol")
    assert peers.set_name(K2, None).render() == f"# names\r\n{K1}  alice # not a comment to us"
    added = PeersFile(f"{K1} alice\n").set_name(K2, "bob")
    assert added.render() == f"{K1} alice\n{K2} bob\n"
    assert added.set_name(K2, None).render() == f"{K1} alice\n"
    bare = PeersFile(f"{K1} alice")
    assert bare.set_name(K2, "bob").render() == f"{K1} alice\n{K2} bob"
    assert PeersFile().set_name(K1, "a").names == {K1: "a"}
    with pytest.raises(ValidationError):
        peers.set_name(K1, "a\nb")
    with pytest.raises(ValidationError):
        peers.set_name("not a key", "a")


def test_unified_diff_marks_missing_final_newline() -> None:
    assert unified_diff("a\n", "a\n") == ""
    diff = unified_diff("x\ny", "x\ny\nz", "wg0.conf", "wg0.conf")
    assert diff == (
        "--- wg0.conf\n+++ wg0.conf\n@@ -1,2 +1,3 @@\n x\n-y\n\\ No newline at end of file\n+y\n+z\n"
        "\\ No newline at end of file\n"
    )


def test_unified_diff_keeps_crlf() -> None:
    diff = unified_diff("a\r\nb\r\n", "a\r\nc\r\n")
    assert "-b\r\n+c\r\n" in diff
