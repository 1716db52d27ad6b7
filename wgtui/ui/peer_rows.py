"""Provides the sorted, filtered list of peer rows behind the table, updated in place from monitor deltas."""

from __future__ import annotations

import ipaddress
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from wgtui.model import PeerStatus
from wgtui.monitor import InterfaceDelta, PeerRow

# Plain Python (no Textual): the table widget only draws what this model holds.

_STATUS_RANK = {PeerStatus.ONLINE: 0, PeerStatus.STALE: 1, PeerStatus.NEVER: 2}


def _ip_key(ips: tuple[str, ...]) -> tuple[int, int, int]:
    if not ips:
        return (9, 0, 0)
    try:
        net = ipaddress.ip_network(ips[0], strict=False)
    except ValueError:
        return (8, 0, 0)
    return (net.version, int(net.network_address), net.prefixlen)


def _name_key(row: PeerRow) -> tuple[int, str]:
    # Unnamed peers sort after named ones, by key, so that names are what you see first.
    return (0, row.name.casefold()) if row.name else (1, row.peer.public_key)


def _rate(value: float | None) -> float:
    return -1.0 if value is None else value


SORTS: dict[str, Callable[[PeerRow], Any]] = {
    "name": _name_key,
    "state": lambda r: (_STATUS_RANK[r.status], -r.peer.latest_handshake),
    "key": lambda r: r.peer.public_key,
    "endpoint": lambda r: r.peer.endpoint or "~",
    "allowed": lambda r: _ip_key(r.peer.allowed_ips),
    "handshake": lambda r: -r.peer.latest_handshake if r.peer.latest_handshake else 1,
    "rx_rate": lambda r: -_rate(r.rx_rate),
    "tx_rate": lambda r: -_rate(r.tx_rate),
    "rx": lambda r: -r.peer.rx_bytes,
    "tx": lambda r: -r.peer.tx_bytes,
}
"""Ascending keys; "natural" direction first (busiest, most recent, online first)."""


@dataclass(frozen=True, slots=True)
class Change:
    """What an update did to the visible list, so the widget can redraw as little as possible."""

    order_changed: bool
    """Rows moved, appeared or vanished: every line from the first change down may differ."""
    changed_keys: frozenset[str]
    """Peers whose row object changed (drawn again if visible)."""


def matches(row: PeerRow, needle: str) -> bool:
    """Case-insensitive substring of the name, public key, endpoint or any allowed IP."""
    if not needle:
        return True
    peer = row.peer
    hay = f"{row.name}\0{peer.public_key}\0{peer.endpoint or ''}\0{' '.join(peer.allowed_ips)}"
    return needle in hay.casefold()


class PeerRows:
    """All rows of one interface plus the visible order (filtered, sorted), kept sorted incrementally.

    Each update costs O(changed · log n) plus list moves done in C, not a re-sort: that is what keeps a tick
    cheap with tens of thousands of peers.
    """

    def __init__(self, sort: str = "state", reverse: bool = False, needle: str = "") -> None:
        self.rows: dict[str, PeerRow] = {}
        self.sort = sort
        self.reverse = reverse
        self.needle = needle.casefold()
        self._keys: dict[str, tuple[Any, str]] = {}
        """Sort key of every visible row (ties broken by public key, so keys are unique)."""
        self._order: list[str] = []
        """Visible public keys in ascending sort-key order; `reverse` is applied when indexing."""

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, index: int) -> PeerRow:
        return self.rows[self.key_at(index)]

    def key_at(self, index: int) -> str:
        return self._order[len(self._order) - 1 - index] if self.reverse else self._order[index]

    def index_of(self, key: str) -> int | None:
        sk = self._keys.get(key)
        if sk is None:
            return None
        i = bisect_left(self._order, sk, key=self._keys.__getitem__)
        return (len(self._order) - 1 - i) if self.reverse else i

    def visible_keys(self, start: int, stop: int) -> list[str]:
        return [self.key_at(i) for i in range(max(0, start), min(stop, len(self._order)))]

    def _sort_key(self, row: PeerRow) -> tuple[Any, str]:
        return (SORTS[self.sort](row), row.peer.public_key)

    def _drop(self, key: str) -> None:
        sk = self._keys.get(key)
        if sk is None:
            return
        del self._order[bisect_left(self._order, sk, key=self._keys.__getitem__)]
        del self._keys[key]

    def apply(self, delta: InterfaceDelta) -> Change:
        if delta.reset:
            self.rows = dict(delta.upserts)
            self.rebuild()
            return Change(True, frozenset(self.rows))
        moved = False
        for key in delta.removed:
            if self.rows.pop(key, None) is not None and key in self._keys:
                self._drop(key)
                moved = True
        for key, row in delta.upserts.items():
            self.rows[key] = row
            visible = matches(row, self.needle)
            old_sk = self._keys.get(key)
            if not visible:
                if old_sk is not None:
                    self._drop(key)
                    moved = True
                continue
            new_sk = self._sort_key(row)
            if old_sk == new_sk:
                continue
            if old_sk is not None:
                self._drop(key)
            self._keys[key] = new_sk
            insort(self._order, key, key=self._keys.__getitem__)
            moved = True
        return Change(moved, frozenset(delta.upserts) | frozenset(delta.removed))

    def rebuild(self) -> None:
        """Full re-sort and re-filter: only when the sort column, direction or filter changes."""
        sorts = SORTS[self.sort]
        self._keys = {k: (sorts(r), k) for k, r in self.rows.items() if matches(r, self.needle)}
        self._order = sorted(self._keys, key=self._keys.__getitem__)

    def set_sort(self, sort: str, reverse: bool) -> None:
        if sort not in SORTS:
            raise ValueError(f"unknown sort column {sort!r}")
        if sort != self.sort:
            self.sort = sort
            self.reverse = reverse
            self.rebuild()
        else:
            self.reverse = reverse

    def set_filter(self, needle: str) -> None:
        needle = needle.casefold()
        if needle != self.needle:
            self.needle = needle
            self.rebuild()

    def keys(self) -> Iterable[str]:
        return (self.key_at(i) for i in range(len(self._order)))
