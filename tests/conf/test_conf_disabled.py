"""Disabled peers as PiVPN writes them: read back, and disable then enable gives back every byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from wgtui.conf import Document
from wgtui.conf.disabled import PREFIX, disable_peer, disabled_peers, enable_peer, find_disabled

from .helpers import NEW_KEY, NEW_KEY_2, corpus_files, load


def test_pivpns_disabled_peer_is_read_with_its_name_and_settings() -> None:
    doc = load("19-pivpn-disabled.conf")
    (tablet,) = disabled_peers(doc)
    assert tablet.name == "tablet" and tablet.public_key == "Q1Hi/eBzCH6ZG+7Ayqmci3MXQ2Bsc5sW/A51iXlcUmw="
    assert tablet.view.allowed_ips == ("10.215.0.3/32",) and tablet.view.preshared_key
    assert find_disabled(doc, "tablet") == tablet and find_disabled(doc, "Q1Hi") == tablet
    assert "tablet" not in doc.names.values() and len(doc.peers) == 2


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_disable_then_enable_gives_back_every_byte(path: Path) -> None:
    doc = Document.from_bytes(path.read_bytes())
    for peer in doc.peers:
        if not peer.public_key or sum(p.public_key == peer.public_key for p in doc.peers) > 1:
            continue
        off = disable_peer(doc, peer.public_key)
        assert off.find_peer(peer.public_key) is None
        assert any(d.public_key == peer.public_key and d.name == peer.name for d in disabled_peers(off))
        assert all(ln.raw.startswith(PREFIX) for ln in off.lines[peer.section.start:peer.section.end])
        assert enable_peer(off, peer.public_key).to_bytes() == doc.to_bytes()


def test_neighbouring_disabled_blocks_and_inner_blank_lines() -> None:
    text = (f"[Interface]\nListenPort = 1\n\n# Name = a\n[Peer]\nPublicKey = {NEW_KEY}\n\nAllowedIPs = 10.0.0.2/32\n"
            f"# Name = b\n[Peer]\nPublicKey = {NEW_KEY_2}\nAllowedIPs = 10.0.0.3/32\n")
    doc = Document.parse(text)
    both = disable_peer(disable_peer(doc, NEW_KEY), NEW_KEY_2)
    assert {d.name: d.view.allowed_ips for d in disabled_peers(both)} == {"a": ("10.0.0.2/32",),
                                                                          "b": ("10.0.0.3/32",)}
    only_b = enable_peer(both, NEW_KEY_2)
    assert [p.public_key for p in only_b.peers] == [NEW_KEY_2] and [d.name for d in disabled_peers(only_b)] == ["a"]
    assert enable_peer(only_b, NEW_KEY).render() == text


def test_a_live_neighbour_never_takes_a_disabled_block_with_it() -> None:
    text = (f"[Interface]\nListenPort = 1\n\n# Name = a\n[Peer]\nPublicKey = {NEW_KEY}\nAllowedIPs = 10.0.0.2/32\n"
            f"# Name = b\n[Peer]\nPublicKey = {NEW_KEY_2}\nAllowedIPs = 10.0.0.3/32\n")
    only_b = disable_peer(Document.parse(text), NEW_KEY_2)
    without_a = only_b.remove_peer(NEW_KEY)
    assert [d.name for d in disabled_peers(without_a)] == ["b"] and without_a.peers == ()
    only_a = disable_peer(Document.parse(text), NEW_KEY)
    without_b = only_a.remove_peer(NEW_KEY_2)
    assert [d.name for d in disabled_peers(without_b)] == ["a"]
