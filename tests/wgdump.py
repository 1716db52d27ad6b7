"""Provides `wg show IF dump` read as an InterfaceState, and every field where two states differ: the reference that
the live tests compare a backend's reads with."""

from __future__ import annotations

from dataclasses import fields

from wgtui.model import InterfaceState, PeerState


def parse_dump(text: str, ifname: str, up: bool = True) -> InterfaceState:
    """`wg show IF dump` as an InterfaceState (backend "wg"), comparable with what a backend reads."""
    lines = text.splitlines()
    _, public, port, fwmark = lines[0].split("\t")
    peers: dict[str, PeerState] = {}
    for line in lines[1:]:
        pub, psk, endpoint, allowed, handshake, rx, tx, keepalive = line.split("\t")
        peers[pub] = PeerState(
            public_key=pub, endpoint=None if endpoint == "(none)" else endpoint,
            allowed_ips=() if allowed == "(none)" else tuple(allowed.split(",")),
            latest_handshake=int(handshake), rx_bytes=int(rx), tx_bytes=int(tx),
            persistent_keepalive=0 if keepalive == "off" else int(keepalive), has_preshared_key=psk != "(none)")
    return InterfaceState(name=ifname, backend="wg", up=up, public_key=None if public == "(none)" else public,
                          listen_port=int(port), fwmark=0 if fwmark == "off" else int(fwmark, 0), peers=peers)


def state_differences(actual: InterfaceState, expected: InterfaceState) -> list[str]:
    """Every field where two states differ (backend ignored; peers compared by key, not order)."""
    diffs = [f"{f.name}: {getattr(actual, f.name)!r} != {getattr(expected, f.name)!r}"
             for f in fields(InterfaceState) if f.name not in ("backend", "peers")
             and getattr(actual, f.name) != getattr(expected, f.name)]
    for key in sorted(set(actual.peers) | set(expected.peers)):
        mine, theirs = actual.peers.get(key), expected.peers.get(key)
        if mine is None or theirs is None:
            diffs.append(f"peer {key}: {'missing' if mine is None else 'unexpected'}")
            continue
        diffs.extend(f"peer {key[:8]} {f.name}: {getattr(mine, f.name)!r} != {getattr(theirs, f.name)!r}"
                     for f in fields(PeerState) if getattr(mine, f.name) != getattr(theirs, f.name))
    return diffs
