"""Provides the monitor's per-interface bookkeeping: rows, rates, states and their expiry, history and drift."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import replace
from itertools import compress
from operator import is_not

from wgtui.conf import PeerView
from wgtui.config_source import EMPTY as EMPTY_CONFIG
from wgtui.config_source import ConfigView
from wgtui.drift import Drift, peer_drift
from wgtui.history import History
from wgtui.ipalloc import network
from wgtui.model import InterfaceState, PeerState, PeerStatus
from wgtui.monitor_rows import InterfaceDelta, InterfaceSummary, PeerRow, new_row, peer_status

_ONLINE = PeerStatus.ONLINE


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


class Tracker:
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

    def _upsert(self, key: str, peer: PeerState, now: float, rx: float | None, tx: float | None,
                upserts: dict[str, PeerRow]) -> None:
        """The row of a peer that appeared or changed, stored and reported (one look-up of its old row: this runs
        for every changed peer)."""
        old = self.rows.get(key)
        status = peer_status(peer, now, self.online_after)
        if status is _ONLINE and (old is None or old.status is not _ONLINE
                                  or old.peer.latest_handshake != peer.latest_handshake):
            # Once per handshake, not per poll: a busy peer's row changes every second, and an entry per change
            # kept ~90,000 tuples (and their key strings) alive at 10,000 peers until each expired.
            heapq.heappush(self.expiries, (peer.latest_handshake + self.online_after, key))
        if old is None:
            drift = () if self.config_changed else self._drift(key, peer)
        elif self.config_changed:
            drift = old.drift  # _reconcile_file computes every row's drift next
        else:
            was = old.peer
            if (was.allowed_ips == peer.allowed_ips and was.persistent_keepalive == peer.persistent_keepalive
                    and was.has_preshared_key == peer.has_preshared_key and Drift.FILE_ONLY not in old.drift):
                # Traffic changes counters and handshakes every poll; drift depends on none of them. Comparing
                # with the file (prefixes parsed by ipaddress) for every busy peer every second was most of a
                # poll's cost.
                drift = old.drift
            else:
                drift = self._drift(key, peer)
        config = self.config
        row = new_row(peer, config.names.get(key, ""), status, rx, tx, drift, config.meta.get(key))
        self.online += (status is _ONLINE) - (old is not None and old.status is _ONLINE)
        self.rows[key] = row
        upserts[key] = row

    def _store(self, key: str, row: PeerRow, upserts: dict[str, PeerRow]) -> None:
        old = self.rows.get(key)
        self.online += (row.status is _ONLINE) - (old is not None and old.status is _ONLINE)
        self.rows[key] = row
        upserts[key] = row

    def _drop(self, key: str) -> None:
        row = self.rows.pop(key)
        self.online -= row.status is _ONLINE
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
        first = not self.seen
        self.seen = True
        old_peers = self.peers
        dt = now - self.time if self.time else 0.0
        new_config = self.config_changed = config is not self.config
        self.config = config
        was_idle_unknown = self.unmeasured if dt > 0 else set()
        if dt > 0:
            self.unmeasured = set()
        was_active = self.active
        self.active = set()
        kept = self._update(state.peers, old_peers, now, dt, upserts)
        removed: list[str] = []
        if len(old_peers) > kept:  # some peers left: only then is every key compared
            removed += old_peers.keys() - state.peers.keys()
            for key in removed:
                self._drop(key)
        for key in (was_active - self.active) | was_idle_unknown:
            if key in upserts or key not in self.rows:
                continue
            row = self.rows[key]
            # Not dataclasses.replace: at 10,000 peers, hundreds of rows go idle each poll, and it costs 7 µs a row.
            self._store(key, new_row(row.peer, row.name, row.status, 0.0, 0.0, row.drift, row.meta), upserts)
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

    def _update(self, peers: Mapping[str, PeerState], old_peers: Mapping[str, PeerState], now: float, dt: float,
                upserts: dict[str, PeerRow]) -> int:
        """Rows, rates and history of the peers that appeared or changed; returns how many were there before."""
        if old_peers:
            # Backends hand back the very same object for a peer whose raw state did not change: the identity
            # test runs over every peer in C (map, operator.is_not, dict.get), and Python sees only the others.
            candidates: Iterable[str] = compress(peers, map(is_not, peers.values(), map(old_peers.get, peers)))
        else:
            candidates = peers
        new = 0
        for key in candidates:
            peer = peers[key]
            old = old_peers.get(key)
            rx_rate = tx_rate = None
            if old is None:
                new += 1
            # What changes most often is compared first: the dataclass's own == builds two tuples of every field.
            elif old.rx_bytes == peer.rx_bytes and old.endpoint == peer.endpoint and old == peer:
                continue
            elif dt > 0:
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
            self._upsert(key, peer, now, rx_rate, tx_rate, upserts)
        return len(peers) - new
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
