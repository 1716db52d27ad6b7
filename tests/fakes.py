"""Provides a scriptable in-memory backend and a settable clock for unit tests of the monitor and the UI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from wgtui.backends.base import InterfaceGone
from wgtui.model import InterfaceState, PeerState, PeerUpdate


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
        self.gone: set[str] = set()
        self.applied: list[tuple[str, list[PeerUpdate]]] = []

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
        self.applied.append((ifname, list(updates)))

    def preshared_key(self, ifname: str, public_key: str) -> str | None:
        return None

    def close(self) -> None:
        pass
