"""Provides a backend wrapper that serialises calls, so the poller and the change pipeline never interleave."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from wgtui.backends.base import Backend
from wgtui.model import InterfaceState, PeerUpdate


class LockedBackend:
    """One lock around every call: backends keep per-interface decode caches that a concurrent read would
    corrupt, and a change must not land between the two reads of an undo computation."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.kind = inner.kind
        self._lock = threading.RLock()

    def interfaces(self) -> list[str]:
        with self._lock:
            return self.inner.interfaces()

    def read(self, ifname: str) -> InterfaceState:
        with self._lock:
            return self.inner.read(ifname)

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        with self._lock:
            self.inner.apply(ifname, updates)

    def preshared_key(self, ifname: str, public_key: str) -> str | None:
        with self._lock:
            return self.inner.preshared_key(ifname, public_key)

    def private_key(self, ifname: str) -> str | None:
        with self._lock:
            return self.inner.private_key(ifname)

    def close(self) -> None:
        with self._lock:
            self.inner.close()
