"""Provides a fast watch for the first handshake of pending rotations' new keys, so their move follows within 0.1 s."""

# From the moment a client switches to its new key until its AllowedIPs move, it is cut off. A dashboard polls
# once a second; a rotation it did not start itself (the CLI's --no-wait, another session) would cost the client up
# to a second of traffic. While such a rotation is young — the admin just handed out the config, the switch is
# likely soon — this reads the interface ten times a second, and only then: a rotation that waits for days costs
# the monitor's own pace. Reads go through the caller's backend (the dashboard's is locked against its poll thread).

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wgtui.backends.base import Backend, BackendError

Seen = Callable[[str, list[tuple[str, str]]], None]
"""Called with an interface and the (old key, new key) pairs whose new key has handshaken, once each."""


@dataclass(frozen=True)
class Waiting:
    old_key: str
    started: float


class HandshakeWatch:
    def __init__(self, backend: Backend, seen: Seen, *, fast: float = 0.1, slow: float = 1.0,
                 young_for: float = 900.0, clock: Callable[[], float] = time.time) -> None:
        self.backend = backend
        self.seen = seen
        self.fast = fast
        self.slow = slow
        self.young_for = young_for
        """Seconds after its start during which a rotation is watched fast (afterwards the monitor's pace)."""
        self.clock = clock
        self._waiting: dict[str, dict[str, Waiting]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update(self, ifname: str, waiting: Mapping[str, tuple[str, float]]) -> None:
        """The rotations of `ifname` that wait now: new key -> (old key, started). Replaces what was known."""
        with self._lock:
            self._waiting[ifname] = {new: Waiting(old, started) for new, (old, started) in waiting.items()}
        if waiting and self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, name="handshake-watch", daemon=True)
            self._thread.start()
        self._wake.set()

    def young(self) -> dict[str, dict[str, Waiting]]:
        now = self.clock()
        with self._lock:
            return {ifname: {k: w for k, w in keys.items() if now - w.started < self.young_for}
                    for ifname, keys in self._waiting.items() if keys}

    def poll_once(self) -> bool:
        """One round over the interfaces with young rotations; whether there were any."""
        young = {i: k for i, k in self.young().items() if k}
        for ifname, waiting in young.items():
            try:
                peers = self.backend.read(ifname).peers
            except BackendError:
                continue
            done = [(w.old_key, new) for new, w in waiting.items()
                    if (p := peers.get(new)) is not None and p.latest_handshake > 0]
            if done:
                with self._lock:
                    for _, new in done:
                        self._waiting.get(ifname, {}).pop(new, None)
                self.seen(ifname, done)
        return bool(young)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            busy = self.poll_once()
            took = time.monotonic() - started
            self._wake.clear()
            # A read of a 10,000-peer interface takes tens of milliseconds: at most a tenth of one core goes here.
            self._wake.wait(max(self.fast, took * 9) if busy else self.slow)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
