"""Provides a scriptable in-memory backend and a settable clock for unit tests of the monitor and the UI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from wgtui.backends.base import BackendError, InterfaceGone
from wgtui.model import KEEP, InterfaceState, PeerState, PeerUpdate


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float = 1.0) -> float:
        self.now += seconds
        return self.now


def key(i: int) -> str:
    """A valid-looking, distinct base64 key for peer number i."""
    import base64

    return base64.b64encode(i.to_bytes(4, "big") * 8).decode()


class FakeBackend:
    """Interfaces are plain dicts that tests edit between polls; reads hand back the same PeerState objects
    for peers the test did not touch, like the real incremental decoders do."""

    kind = "fake"

    def __init__(self) -> None:
        self.ifaces: dict[str, dict[str, PeerState]] = {}
        self.psks: dict[tuple[str, str], str] = {}
        self.gone: set[str] = set()
        self.applied: list[tuple[str, list[PeerUpdate]]] = []
        self.fail_apply: int = 0
        """Refuse the next N apply() calls (after applying the first half of the updates, like wireguard-go
        which applies a set= transaction line by line)."""

    def add_peers(self, ifname: str, n: int, **fields: object) -> list[str]:
        peers = self.ifaces.setdefault(ifname, {})
        start = len(peers)
        keys = [key(start + i) for i in range(n)]
        for k in keys:
            peers[k] = PeerState(public_key=k, **fields)  # type: ignore[arg-type]
        return keys

    def bump(self, ifname: str, k: str, **fields: object) -> None:
        self.ifaces[ifname][k] = replace(self.ifaces[ifname][k], **fields)  # type: ignore[arg-type]

    def interfaces(self) -> list[str]:
        return sorted(set(self.ifaces) - self.gone)

    def read(self, ifname: str) -> InterfaceState:
        if ifname in self.gone or ifname not in self.ifaces:
            raise InterfaceGone(f"{ifname} does not exist.")
        return InterfaceState(name=ifname, backend=self.kind, public_key=key(999_999), listen_port=51820,
                              peers=dict(self.ifaces[ifname]))

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        """WireGuard's semantics: setting a prefix on one peer takes it from any other peer."""
        if ifname in self.gone or ifname not in self.ifaces:
            raise InterfaceGone(f"{ifname} does not exist.")
        self.applied.append((ifname, list(updates)))
        todo = list(updates)
        if self.fail_apply:
            self.fail_apply -= 1
            todo = todo[: len(todo) // 2]
        peers = self.ifaces[ifname]
        for up in todo:
            if up.remove:
                peers.pop(up.public_key, None)
                self.psks.pop((ifname, up.public_key), None)
                continue
            peer = peers.get(up.public_key) or PeerState(public_key=up.public_key)
            if up.allowed_ips is not KEEP:
                for k, other in list(peers.items()):
                    if k != up.public_key and set(up.allowed_ips) & set(other.allowed_ips):
                        peers[k] = replace(other, allowed_ips=tuple(i for i in other.allowed_ips
                                                                   if i not in up.allowed_ips))
                peer = replace(peer, allowed_ips=up.allowed_ips)
            if up.preshared_key is not KEEP:
                if up.preshared_key:
                    self.psks[(ifname, up.public_key)] = up.preshared_key
                else:
                    self.psks.pop((ifname, up.public_key), None)
                peer = replace(peer, has_preshared_key=bool(up.preshared_key))
            if up.endpoint is not KEEP:
                peer = replace(peer, endpoint=up.endpoint)
            if up.persistent_keepalive is not KEEP:
                peer = replace(peer, persistent_keepalive=up.persistent_keepalive)
            peers[up.public_key] = peer
        if len(todo) < len(updates):
            raise BackendError(f"{ifname}: the interface refused an update (errno -22)")

    def preshared_key(self, ifname: str, public_key: str) -> str | None:
        return self.psks.get((ifname, public_key))

    def private_key(self, ifname: str) -> str | None:
        return None

    def close(self) -> None:
        pass
