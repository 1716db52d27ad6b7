"""Provides the headless poller: rates, online/stale/never states, history, and small deltas for the UI."""

from __future__ import annotations

import gc
import heapq
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import compress
from operator import is_not

from wgtui.backends.base import Backend, BackendError
from wgtui.conf import PeerView
from wgtui.config_source import EMPTY as EMPTY_CONFIG
from wgtui.config_source import ConfigView, PeerMeta
from wgtui.drift import Drift, peer_drift
from wgtui.history import BUCKETS, History
from wgtui.ipalloc import network
from wgtui.model import REJECT_AFTER_TIME, InterfaceState, PeerState, PeerStatus

log = logging.getLogger(__name__)

FREEZE_AFTER_PEERS = 1000
"""From this many peers in a first poll, the objects alive after it are frozen out of the cyclic garbage collector
(gc.freeze): its full passes over every peer's state and row took 65 ms at 10,000 peers and 260 ms at 50,000,
stalling the dashboard every half minute. Those objects are freed by reference counting when replaced."""

ConfigFor = Callable[[str], ConfigView]
"""Maps an interface name to what its config file says; returns the same object while nothing changed."""


def _no_config(_ifname: str) -> ConfigView:
    return EMPTY_CONFIG


def _file_state(view: PeerView) -> PeerState:
    """A file-only peer as a row can show it: what the file says, no handshake, no traffic."""
    ips = []
    for ip in view.allowed_ips:
        try:
            ips.append(str(network(ip)))
        except ValueError:
            ips.append(ip)
    return PeerState(public_key=view.public_key or "", endpoint=view.endpoint, allowed_ips=tuple(ips),
                     persistent_keepalive=view.persistent_keepalive or 0, has_preshared_key=bool(view.preshared_key))


def peer_status(peer: PeerState, now: float, online_after: float) -> PeerStatus:
    if peer.latest_handshake <= 0:
        return PeerStatus.NEVER
    if now - peer.latest_handshake < online_after:
        return PeerStatus.ONLINE
    return PeerStatus.STALE


@dataclass(frozen=True, slots=True)
class PeerRow:
    """What the UI shows for one peer. A new object exists only when something shown has changed."""

    peer: PeerState
    name: str
    status: PeerStatus
    rx_rate: float | None
    """Bytes per second since the previous poll; None before two polls or right after a counter reset."""
    tx_rate: float | None
    drift: tuple[Drift, ...] = ()
    """How the interface and the config file disagree about this peer (empty: they agree, or no file)."""
    meta: PeerMeta | None = None
    """What the file's wgtui comments say: key age, a pending rotation."""

    @property
    def key(self) -> str:
        return self.peer.public_key

    @property
    def file_only(self) -> bool:
        """In the config file but not on the interface: shown so that drift is visible, never counted."""
        return Drift.FILE_ONLY in self.drift


@dataclass(frozen=True, slots=True)
class InterfaceSummary:
    """The header line of one interface: its state and the totals over its peers."""

    state: InterfaceState
    online: int = 0
    total: int = 0
    rx_rate: float = 0.0
    tx_rate: float = 0.0

    @property
    def name(self) -> str:
        return self.state.name


@dataclass(frozen=True, slots=True)
class InterfaceDelta:
    """What changed on one interface since the previous poll."""

    summary: InterfaceSummary
    upserts: Mapping[str, PeerRow] = field(default_factory=dict)
    """Rows that appeared or changed, by public key, in the backend's order."""
    removed: tuple[str, ...] = ()
    reset: bool = False
    """True when `upserts` holds every peer and the receiver should drop what it had."""

    @property
    def name(self) -> str:
        return self.summary.name


@dataclass(frozen=True, slots=True)
class Update:
    """The result of one poll: deltas for every interface currently watched."""

    time: float
    interfaces: tuple[InterfaceDelta, ...]
    poll_seconds: float = 0.0


class _Tracker:
    """Per-interface bookkeeping, touched only from the polling thread."""

    def __init__(self, name: str, online_after: float) -> None:
        self.name = name
        self.online_after = online_after
        self.config: ConfigView = EMPTY_CONFIG
        self.config_changed = False
        """The current poll brought a new config: every row's drift is computed once, after the peers."""
        self._clear()

    def _clear(self) -> None:
        self.peers: Mapping[str, PeerState] = {}
        self.rows: dict[str, PeerRow] = {}
        self.histories: dict[str, History] = {}
        self.file_only: set[str] = set()
        """Rows of peers that are only in the config file."""
        self.time = 0.0
        self.active: set[str] = set()
        self.unmeasured: set[str] = set()
        """Peers whose rate is unknown (new, or counters reset): measured as 0 at the next poll if still idle."""
        self.expiries: list[tuple[float, str]] = []
        self.online = 0
        self.seen = False

    def _drift(self, key: str, peer: PeerState | None) -> tuple[Drift, ...]:
        file_peers = self.config.peers
        return () if file_peers is None else peer_drift(peer, file_peers.get(key))

    def _row(self, peer: PeerState, now: float, rx: float | None, tx: float | None) -> PeerRow:
        key = peer.public_key
        status = peer_status(peer, now, self.online_after)
        old = self.rows.get(key)
        if status is PeerStatus.ONLINE and (old is None or old.status is not PeerStatus.ONLINE
                                            or old.peer.latest_handshake != peer.latest_handshake):
            # Once per handshake, not per poll: a busy peer's row changes every second, and an entry per change
            # kept ~90,000 tuples (and their key strings) alive at 10,000 peers until each expired.
            heapq.heappush(self.expiries, (peer.latest_handshake + self.online_after, key))
        if self.config_changed:
            drift = old.drift if old is not None else ()  # _reconcile_file computes every row's drift next
        elif (old is not None and old.peer.allowed_ips == peer.allowed_ips
                and old.peer.persistent_keepalive == peer.persistent_keepalive
                and old.peer.has_preshared_key == peer.has_preshared_key and Drift.FILE_ONLY not in old.drift):
            # Traffic changes counters and handshakes every poll; drift depends on none of them. Comparing with
            # the file (prefixes parsed by ipaddress) for every busy peer every second was most of a poll's cost.
            drift = old.drift
        else:
            drift = self._drift(key, peer)
        return PeerRow(peer, self.config.names.get(key, ""), status, rx, tx, drift, self.config.meta.get(key))

    def _store(self, key: str, row: PeerRow, upserts: dict[str, PeerRow]) -> None:
        old = self.rows.get(key)
        self.online += (row.status is PeerStatus.ONLINE) - (old is not None and old.status is PeerStatus.ONLINE)
        self.rows[key] = row
        upserts[key] = row

    def _drop(self, key: str) -> None:
        row = self.rows.pop(key)
        self.online -= row.status is PeerStatus.ONLINE
        self.histories.pop(key, None)
        self.active.discard(key)
        self.unmeasured.discard(key)

    def down(self, state: InterfaceState) -> InterfaceDelta:
        """The interface cannot be read: forget its peers; it starts afresh when it comes back."""
        removed = tuple(self.rows)
        self._clear()
        return InterfaceDelta(summary=InterfaceSummary(state=state), removed=removed)

    def poll(self, state: InterfaceState, config: ConfigView, now: float) -> InterfaceDelta:
        upserts: dict[str, PeerRow] = {}
        removed: list[str] = []
        first = not self.seen
        self.seen = True
        old_peers = self.peers
        dt = now - self.time if self.time else 0.0
        new_config = self.config_changed = config is not self.config
        self.config = config
        for key in (old_peers.keys() - state.peers.keys()) if old_peers else ():
            self._drop(key)
            removed.append(key)
        was_idle_unknown = self.unmeasured if dt > 0 else set()
        if dt > 0:
            self.unmeasured = set()
        was_active = self.active
        self.active = set()
        peers = state.peers
        if old_peers:
            # Backends hand back the very same object for a peer whose raw state did not change: the identity
            # test runs over every peer in C (map, operator.is_not, dict.get), and Python sees only the others.
            candidates: Iterable[str] = compress(peers, map(is_not, peers.values(), map(old_peers.get, peers)))
        else:
            candidates = peers
        for key in candidates:
            peer = peers[key]
            old = old_peers.get(key)
            if old is not None and old == peer:
                continue
            rx_rate = tx_rate = None
            if old is not None and dt > 0:
                drx, dtx = peer.rx_bytes - old.rx_bytes, peer.tx_bytes - old.tx_bytes
                if drx >= 0 and dtx >= 0:
                    rx_rate, tx_rate = drx / dt, dtx / dt
                    if drx or dtx:
                        self.active.add(key)
                        self._history(key).add(now, drx, dtx)
                else:
                    # A counter that goes down is a reset (peer re-added, interface recreated): no rate this
                    # time, and what it counted since the reset is traffic.
                    self._history(key).add(now, peer.rx_bytes, peer.tx_bytes)
            if rx_rate is None:
                self.unmeasured.add(key)
            if key in self.file_only:
                self.file_only.discard(key)
                self._drop(key)
            self._store(key, self._row(peer, now, rx_rate, tx_rate), upserts)
        for key in (was_active - self.active) | was_idle_unknown:
            if key in upserts or key not in self.rows:
                continue
            row = self.rows[key]
            # Not dataclasses.replace: at 10,000 peers, hundreds of rows go idle each poll, and it costs 7 µs a row.
            self._store(key, PeerRow(row.peer, row.name, row.status, 0.0, 0.0, row.drift, row.meta), upserts)
        if new_config or removed:
            self._reconcile_file(state, new_config, upserts, removed)
        self._expire(now, upserts)
        self.peers = state.peers
        self.time = now
        rx_total = sum(self.rows[k].rx_rate or 0.0 for k in self.active)
        tx_total = sum(self.rows[k].tx_rate or 0.0 for k in self.active)
        summary = InterfaceSummary(state=state, online=self.online, total=len(self.rows) - len(self.file_only),
                                   rx_rate=rx_total, tx_rate=tx_total)
        if first:
            return InterfaceDelta(summary=summary, upserts=dict(self.rows), reset=True)
        removed_now = tuple(k for k in removed if k not in self.rows)
        return InterfaceDelta(summary=summary, upserts=upserts, removed=removed_now)

    def _reconcile_file(self, state: InterfaceState, new_config: bool, upserts: dict[str, PeerRow],
                        removed: list[str]) -> None:
        """Names and drift after the file changed (every row: rare), and rows for peers only in the file."""
        config = self.config
        if new_config:
            for key, row in list(self.rows.items()):
                if key in self.file_only:
                    continue
                name, drift, meta = config.names.get(key, ""), self._drift(key, row.peer), config.meta.get(key)
                if (name, drift, meta) != (row.name, row.drift, row.meta):
                    self._store(key, replace(row, name=name, drift=drift, meta=meta), upserts)
        file_peers = config.peers or {}
        wanted = {k for k in file_peers if k not in state.peers}
        for key in self.file_only - wanted:
            self._drop(key)
            removed.append(key)
        for key in wanted:
            row = PeerRow(_file_state(file_peers[key]), config.names.get(key, ""), PeerStatus.NEVER, None, None,
                          (Drift.FILE_ONLY,), config.meta.get(key))
            if self.rows.get(key) != row:
                self._store(key, row, upserts)
        self.file_only = wanted

    def _expire(self, now: float, upserts: dict[str, PeerRow]) -> None:
        """Turn online peers stale when their handshake ages past the threshold, without scanning every peer."""
        heap = self.expiries
        while heap and heap[0][0] <= now:
            when, key = heapq.heappop(heap)
            row = self.rows.get(key)
            if (row is None or row.status is not PeerStatus.ONLINE
                    or row.peer.latest_handshake + self.online_after != when):
                continue
            self._store(key, replace(row, status=PeerStatus.STALE), upserts)

    def _history(self, key: str) -> History:
        hist = self.histories.get(key)
        if hist is None:
            hist = self.histories[key] = History()
        return hist


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
        self._trackers: dict[str, _Tracker] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
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
                    tracker = self._trackers[ifname] = _Tracker(ifname, self.online_after)
                deltas.append(self._poll_interface(tracker, now))
                if deltas[-1].reset and len(deltas[-1].upserts) >= FREEZE_AFTER_PEERS and not self._frozen:
                    # Freeze at the start of the next poll, once the UI has built its rows from this one.
                    self._frozen = self._freeze_next = True
            return Update(time=now, interfaces=tuple(deltas), poll_seconds=time.perf_counter() - started)

    def _poll_interface(self, tracker: _Tracker, now: float) -> InterfaceDelta:
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
        if self._thread is not None:
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    update = self.poll_once()
                except Exception:  # keep polling: one bad read must not freeze the dashboard
                    log.exception("poll failed")
                else:
                    if self._stop.is_set():
                        break
                    on_update(update)
                self._wake.wait(max(0.0, self.interval - (time.monotonic() - started)))
                self._wake.clear()

        self._thread = threading.Thread(target=run, name="wgtui-monitor", daemon=True)
        self._thread.start()

    @property
    def stopping(self) -> bool:
        """stop() was called: an update in hand is not wanted any more."""
        return self._stop.is_set()

    def refresh(self) -> None:
        """Poll now instead of at the next tick (after a change was applied)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
