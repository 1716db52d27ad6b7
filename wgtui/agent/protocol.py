"""Provides the agent protocol's framing and the JSON forms of interface state, peers and config views."""

# One JSON object per line over the ssh session's stdin/stdout (the agent's stderr is for words, never protocol).
# A request is {"id": N, "op": "...", ...}; its answer is {"id": N, "ok": true|false, "error": "…"|null, ...}.
# Versioned by `VERSION` in the hello exchange: a local wgtui refuses an agent of another version, saying so.

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from wgtui.conf import PeerView
from wgtui.config_source import ConfigView, PeerMeta
from wgtui.model import InterfaceState, PeerState

VERSION = 2
"""2: peers carry a session id, and a peer whose only change is its counters is sent as [id, handshake, rx, tx]."""
MAX_LINE = 256 * 1024 * 1024
"""A full poll of 100,000 peers is ~20 MB; anything longer is not an agent talking."""


class ProtocolError(Exception):
    """The other side said something that is not the protocol: the session is ended."""


def send(stream: IO[bytes], message: Mapping[str, Any]) -> int:
    """Write one message; returns the bytes written (for the wire-cost figures)."""
    line = (json.dumps(message, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    stream.write(line)
    stream.flush()
    return len(line)


def receive(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message, or None at the end of the stream."""
    line = stream.readline(MAX_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_LINE:
        raise ProtocolError("a line longer than the protocol allows")
    try:
        message = json.loads(line)
    except ValueError:
        text = line[:200].decode("utf-8", errors="replace").strip()
        raise ProtocolError(f"not a protocol line: {text!r}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a protocol line must be a JSON object")
    return message


def peer_to_json(peer: PeerState) -> list[Any]:
    """Compact: a list in a fixed order (a poll of 10,000 peers carries no field names)."""
    return [peer.public_key, peer.endpoint, list(peer.allowed_ips), peer.latest_handshake, peer.rx_bytes,
            peer.tx_bytes, peer.persistent_keepalive, peer.has_preshared_key]


def peer_from_json(data: list[Any]) -> PeerState:
    key, endpoint, ips, handshake, rx, tx, keepalive, psk = data[:8]
    return PeerState(str(key), endpoint, tuple(str(i) for i in ips), int(handshake), int(rx), int(tx),
                     int(keepalive), bool(psk))


def only_counters(old: PeerState, new: PeerState) -> bool:
    """Traffic moves handshakes and byte counters every poll; everything else changes when someone changes it."""
    return (old.endpoint == new.endpoint and old.allowed_ips == new.allowed_ips
            and old.persistent_keepalive == new.persistent_keepalive
            and old.has_preshared_key == new.has_preshared_key)


def with_counters(old: PeerState, data: list[Any]) -> PeerState:
    """`old` with the counters of a `[id, handshake, rx, tx]` update."""
    return PeerState(old.public_key, old.endpoint, old.allowed_ips, int(data[1]), int(data[2]), int(data[3]),
                     old.persistent_keepalive, old.has_preshared_key)


def iface_to_json(state: InterfaceState) -> dict[str, Any]:
    return {"name": state.name, "backend": state.backend, "up": state.up, "public_key": state.public_key,
            "listen_port": state.listen_port, "fwmark": state.fwmark, "error": state.error}


def iface_from_json(data: Mapping[str, Any], peers: Mapping[str, PeerState]) -> InterfaceState:
    return InterfaceState(name=str(data["name"]), backend=str(data["backend"]), up=bool(data["up"]),
                          public_key=data["public_key"], listen_port=int(data["listen_port"]),
                          fwmark=int(data["fwmark"]), peers=peers, error=data["error"])


def view_to_json(view: PeerView) -> dict[str, Any]:
    """A file peer without its preshared key (only whether it has one): nothing secret crosses the wire."""
    return {"public_key": view.public_key, "allowed_ips": list(view.allowed_ips), "endpoint": view.endpoint,
            "keepalive": view.persistent_keepalive, "psk": bool(view.preshared_key), "name": view.name}


def config_to_json(config: ConfigView) -> dict[str, Any]:
    return {"names": dict(config.names), "error": config.error,
            "peers": None if config.peers is None else [view_to_json(v) for v in config.peers.values()],
            "disabled": [view_to_json(v) for v in config.disabled.values()],
            "meta": {k: [m.key_created, m.rotating_to, m.rotation_started, m.replaces] for k, m in config.meta.items()}}


def config_from_json(data: Mapping[str, Any]) -> ConfigView:
    from wgtui.conf import Document

    def views(items: list[dict[str, Any]]) -> dict[str, PeerView]:
        # A remote file peer is rebuilt as a tiny document of its own, so drift and forms read it like a local one.
        out = {}
        for item in items:
            lines = ["[Peer]", f"PublicKey = {item['public_key']}"]
            if item["allowed_ips"]:
                lines.append(f"AllowedIPs = {', '.join(item['allowed_ips'])}")
            if item["endpoint"]:
                lines.append(f"Endpoint = {item['endpoint']}")
            if item["keepalive"] is not None:
                lines.append(f"PersistentKeepalive = {item['keepalive']}")
            if item["psk"]:
                lines.append("PresharedKey = (the host keeps it)")
            doc = Document.parse("\n".join(lines) + "\n")
            out[str(item["public_key"])] = doc.peers[0]
        return out

    peers = None if data["peers"] is None else views(data["peers"])
    meta = {k: PeerMeta(v[0], v[1], v[2], v[3]) for k, v in data["meta"].items()}
    return ConfigView(names=dict(data["names"]), peers=peers, error=data["error"], meta=meta,
                      disabled=views(data["disabled"]))
