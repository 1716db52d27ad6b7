"""Provides the agent protocol's framing and the JSON forms of interface state, peers and config views."""

# One JSON object per line over the ssh session's stdin/stdout (the agent's stderr is for words, never protocol).
# A request is {"id": N, "op": "...", ...}; its answer is {"id": N, "ok": true|false, "error": "…"|null, ...}.
# Versioned by `VERSION` in the hello exchange: a local wgtui refuses an agent of another version, saying so. So a
# field is added without a new version where the other side ignores it unread: a peer's meta grew from 4 items to 8
# (an older viewer reads the first four; an older agent's 4-item list still decodes), and an operation an older agent
# lacks is answered "no operation" (the asking side then does without).

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from wgtui.conf import PeerView
from wgtui.config_source import ConfigView, PeerMeta
from wgtui.lifecycle.periods import Period, Quota
from wgtui.model import InterfaceState, PeerState

VERSION = 2
"""2: peers carry a session id, and a peer whose only change is its counters is sent as [id, handshake, rx, tx].
Since then, without a new version (see above): meta lists of 8 items (expiry, quota, disabled reason), and the
`lifecycle` operation."""
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
            "meta": {k: meta_to_json(m) for k, m in config.meta.items()}}


def meta_to_json(meta: PeerMeta) -> list[Any]:
    """[key_created, rotating_to, rotation_started, replaces], then, only when the peer has a policy or a disabled
    reason, [expires, expires_text, [quota bytes, period] | null, disabled_reason]: a file of 10,000 peers without
    policies costs what it did, and an older viewer, which reads the first four, still understands every peer."""
    head = [meta.key_created, meta.rotating_to, meta.rotation_started, meta.replaces]
    if meta.expires is None and meta.quota is None and meta.disabled_reason is None:
        return head
    quota = None if meta.quota is None else [meta.quota.bytes, meta.quota.period.value]
    return [*head, meta.expires, meta.expires_text, quota, meta.disabled_reason]


def meta_from_json(data: list[Any]) -> PeerMeta:
    """Either form of meta_to_json (an older agent sends only the first four items). The expiry is the instant the
    host worked out (a bare date ends in the host's zone, not the viewer's), so it is taken as sent."""
    created, rotating_to, started, replaces = data[:4]
    meta = PeerMeta(None if created is None else int(created), str(rotating_to or ""), int(started or 0),
                    str(replaces or ""))
    if len(data) < 8:
        return meta
    expires, text, quota, reason = data[4:8]
    return PeerMeta(meta.key_created, meta.rotating_to, meta.rotation_started, meta.replaces,
                    None if expires is None else int(expires), str(text or ""),
                    None if quota is None else Quota(int(quota[0]), Period(str(quota[1]))),
                    None if reason is None else str(reason))


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
    meta = {str(k): meta_from_json(v) for k, v in data["meta"].items()}
    return ConfigView(names=dict(data["names"]), peers=peers, error=data["error"], meta=meta,
                      disabled=views(data["disabled"]))
