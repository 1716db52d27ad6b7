"""Provides the headless poller: rates, online/stale/never states, history, and small deltas for the UI."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable

from wgtui.backends.base import Backend, BackendError
from wgtui.config_source import EMPTY as EMPTY_CONFIG
from wgtui.config_source import ConfigView
from wgtui.history import BUCKETS
from wgtui.model import REJECT_AFTER_TIME, InterfaceState
from wgtui.monitor_rows import InterfaceDelta, InterfaceSummary, PeerRow, Update, peer_status
from wgtui.monitor_tracker import Tracker
from wgtui.periodic import Periodic

__all__ = ["ConfigFor", "InterfaceDelta", "InterfaceSummary", "Monitor", "PeerRow", "Update", "peer_status"]

log = logging.getLogger(__name__)

FREEZE_AFTER_PEERS = 1000
"""From this many peers in a first poll, the objects alive after it are frozen out of the cyclic garbage collector
(gc.freeze): its full passes over every peer's state and row took 65 ms at 10,000 peers and 260 ms at 50,000,
stalling the dashboard every half minute. Those objects are freed by reference counting when replaced."""

ConfigFor = Callable[[str], ConfigView]
"""Maps an interface name to what its config file says; returns the same object while nothing changed."""


def _no_config(_ifname: str) -> ConfigView:
    return EMPTY_CONFIG


class Monitor:
    """Polls a backend at a steady interval in one thread (polls never overlap) and reports deltas."""

    def __init__(self, backend: Backend, *, interval: float = 1.0, online_after: float = REJECT_AFTER_TIME,
                 interfaces: list[str] | None = None, config_for: ConfigFor = _no_config,
                 clock: Callable[[], float] = time.time) -> None:
        self.backend = backend
        self.interval = interval
        self.online_after = online_after
        self.fixed_interfaces = interfaces
        self.config_for = config_for
        self.clock = clock
        self._trackers: dict[str, Tracker] = {}
        self._lock = threading.Lock()
        self._poller: Periodic[Update] | None = None
        self._stopped = False
        self._frozen = False
        self._freeze_next = False

    def watched(self) -> list[str]:
        if self.fixed_interfaces is not None:
            return list(self.fixed_interfaces)
        return self.backend.interfaces()

    def poll_once(self) -> Update:
        """Read every watched interface once. Safe to call from tests; the thread calls it too."""
        with self._lock:
            started = time.perf_counter()
            now = self.clock()
            deltas = []
            try:
                names = self.watched()
            except BackendError as exc:
                names = []
                log.warning("discovery failed: %s", exc)
            for gone in set(self._trackers) - set(names):
                del self._trackers[gone]
            if self._freeze_next:
                self._freeze_next = False
                gc.freeze()
            for ifname in names:
                tracker = self._trackers.get(ifname)
                if tracker is None:
                    tracker = self._trackers[ifname] = Tracker(ifname, self.online_after)
                deltas.append(self._poll_interface(tracker, now))
                if deltas[-1].reset and len(deltas[-1].upserts) >= FREEZE_AFTER_PEERS and not self._frozen:
                    # Freeze at the start of the next poll, once the UI has built its rows from this one.
                    self._frozen = self._freeze_next = True
            return Update(time=now, interfaces=tuple(deltas), poll_seconds=time.perf_counter() - started)

    def _poll_interface(self, tracker: Tracker, now: float) -> InterfaceDelta:
        ifname = tracker.name
        try:
            state = self.backend.read(ifname)
        except BackendError as exc:  # InterfaceGone and NotPermitted included: shown as down, with the reason
            return tracker.down(InterfaceState(name=ifname, backend=self.backend.kind, up=False, error=str(exc)))
        try:
            config = self.config_for(ifname)
        except Exception as exc:  # a broken config file must not stop the live view
            log.warning("config for %s: %s", ifname, exc)
            config = tracker.config
        return tracker.poll(state, config, now)

    def history(self, ifname: str, public_key: str, now: float | None = None) -> tuple[list[int], list[int]]:
        """The peer's byte counts per bucket over the last ten minutes (zeros when it has none)."""
        tracker = self._trackers.get(ifname)
        hist = tracker.histories.get(public_key) if tracker else None
        if hist is None:
            return [0] * BUCKETS, [0] * BUCKETS
        return hist.series(self.clock() if now is None else now)

    def start(self, on_update: Callable[[Update], None]) -> None:
        """Poll in a daemon thread and hand each Update to `on_update` (called from that thread)."""
        if self._poller is None:
            self._stopped = False
            self._poller = Periodic("wgtui-monitor", "poll", lambda: self.interval, self.poll_once, on_update)
            self._poller.start()

    @property
    def stopping(self) -> bool:
        """stop() was called: an update in hand is not wanted any more."""
        return self._stopped

    def refresh(self) -> None:
        """Poll now instead of at the next tick (after a change was applied)."""
        if self._poller is not None:
            self._poller.wake()

    def stop(self) -> None:
        self._stopped = True
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
