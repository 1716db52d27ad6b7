"""Provides the sorted, filtered list of peer rows behind the table, updated in place from monitor deltas."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wgtui.compat import StrEnum
from wgtui.fmt import allowed_ips as allowed_text
from wgtui.model import PeerStatus
from wgtui.monitor import InterfaceDelta, PeerRow
from wgtui.ui.blocklist import BlockList
from wgtui.ui.disabled_rows import DisabledRow
from wgtui.ui.key_age import OVERDUE

# Plain Python (no Textual): the table widget only draws what this model holds.


class Sort(StrEnum):
    """What the rows are ordered by: the state glyphs, or one of the table's columns (a column's id is its sort)."""

    STATE = "state"
    NAME = "name"
    KEY = "key"
    ENDPOINT = "endpoint"
    ALLOWED = "allowed"
    HANDSHAKE = "handshake"
    KEY_AGE = "key_age"
    RX_RATE = "rx_rate"
    TX_RATE = "tx_rate"
    RX = "rx"
    TX = "tx"


_STATUS_RANK = {PeerStatus.ONLINE: 0, PeerStatus.STALE: 1, PeerStatus.NEVER: 2}
_DISABLED_RANK = 3
"""Disabled peers (commented out in the file) after every live one: they carry nothing and cannot handshake."""


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


def _created(row: PeerRow) -> float:
    # Oldest key first; keys of unknown age last (the file does not say).
    meta = row.meta
    return float("inf") if meta is None or meta.key_created is None else float(meta.key_created)


def _state(row: PeerRow) -> tuple[int, int]:
    rank = _DISABLED_RANK if type(row) is DisabledRow else _STATUS_RANK[row.status]  # is_disabled, inlined: per row
    return (rank, -row.peer.latest_handshake)


SORTS: dict[Sort, Callable[[PeerRow], Any]] = {
    Sort.NAME: _name_key,
    Sort.STATE: _state,
    Sort.KEY: lambda r: r.peer.public_key,
    Sort.ENDPOINT: lambda r: r.peer.endpoint or "~",
    Sort.ALLOWED: lambda r: _ip_key(r.peer.allowed_ips),
    Sort.HANDSHAKE: lambda r: -r.peer.latest_handshake if r.peer.latest_handshake else 1,
    Sort.RX_RATE: lambda r: -_rate(r.rx_rate),
    Sort.TX_RATE: lambda r: -_rate(r.tx_rate),
    Sort.RX: lambda r: -r.peer.rx_bytes,
    Sort.TX: lambda r: -r.peer.tx_bytes,
    Sort.KEY_AGE: _created,
}
"""Ascending keys; "natural" direction first (busiest, most recent, online first)."""

_LARGEST_FIRST = frozenset({Sort.KEY_AGE, Sort.RX_RATE, Sort.TX_RATE, Sort.RX, Sort.TX})
"""Sorts whose natural order puts the largest value shown first (the oldest key, the busiest peer)."""

_ORDER_WORDS: dict[Sort, tuple[str, str]] = {
    Sort.STATE: ("online first, disabled last", "disabled and never first"),
    Sort.NAME: ("A to Z, unnamed last", "unnamed first, Z to A"),
    Sort.KEY: ("A to Z", "Z to A"),
    Sort.ENDPOINT: ("A to Z, none last", "none first, Z to A"),
    Sort.ALLOWED: ("lowest address first", "highest address first"),
    Sort.HANDSHAKE: ("most recent first", "least recent first"),
    Sort.KEY_AGE: ("oldest key first", "newest key first"),
    Sort.RX_RATE: ("busiest first", "quietest first"),
    Sort.TX_RATE: ("busiest first", "quietest first"),
    Sort.RX: ("largest first", "smallest first"),
    Sort.TX: ("largest first", "smallest first"),
}


def descending(sort: Sort, reverse: bool) -> bool:
    """Whether the values shown in the sorted column go down the table (largest first): what the header's arrow
    says, ▼ for descending and ▲ for ascending, whatever the sort's usual direction."""
    return (sort in _LARGEST_FIRST) != reverse


def arrow(sort: Sort, reverse: bool) -> str:
    return "▼" if descending(sort, reverse) else "▲"


def order_words(sort: Sort, reverse: bool) -> str:
    """The order in words: `busiest first`, `Z to A`."""
    return _ORDER_WORDS[sort][reverse]


def _cell_widths(row: PeerRow) -> tuple[int, int, int]:
    """How wide the growing columns' values of a row are: name, endpoint, every allowed IP."""
    return (len(row.name) if row.name else 12, len(row.peer.endpoint or "(none)"),
            len(allowed_text(row.peer.allowed_ips)))


@dataclass(frozen=True, slots=True)
class Change:
    """What an update did to the visible list, so the widget can redraw as little as possible."""

    order_changed: bool
    """Rows moved, appeared or vanished: every line from the first change down may differ."""
    changed_keys: frozenset[str]
    """Peers whose row object changed (drawn again if visible)."""


def haystack(row: PeerRow) -> str:
    """What the filter searches, casefolded: the name, public key, endpoint and allowed IPs."""
    peer = row.peer
    return f"{row.name}\0{peer.public_key}\0{peer.endpoint or ''}\0{' '.join(peer.allowed_ips)}".casefold()


def matches(row: PeerRow, needle: str) -> bool:
    """Case-insensitive substring of the name, public key, endpoint or any allowed IP."""
    return not needle or needle in haystack(row)


SortKey = tuple[Any, str]
"""(sort value, public key): unique per row, so that bisect finds exactly one entry."""


def _batch_pays(moves: int, n: int) -> bool:
    """Whether re-sorting everything beats moving rows one by one. Measured here: a move in the block list costs
    ~3 µs whatever the size; filtering, merging (timsort sees a long sorted run and a short tail) and re-blocking
    ~0.8 µs per row."""
    return moves * 3 > 0.8 * n


def _update(items: BlockList, remove: list[SortKey], add: list[SortKey]) -> None:
    """Remove and insert sort keys in `items`, in place."""
    if not _batch_pays(max(len(remove), len(add)), len(items)):
        for sk in remove:
            items.remove(sk)
        for sk in add:
            items.add(sk)
        return
    # By public key (a string caches its hash; a tuple does not). New keys of the same peers come after.
    gone = {sk[1] for sk in remove}
    kept = [sk for sk in items if sk[1] not in gone]
    kept += add
    kept.sort()
    items.reset(kept)


class PeerRows:
    """All rows of one interface plus the visible order (filtered, sorted), kept sorted incrementally.

    Sort keys are plain tuples compared in C (no key function in bisect), kept in a BlockList: an update costs
    O(changed · log n); when a large share of the rows moves at once, one filter pass and one merge. A filter change
    re-filters the already sorted list of every row, without sorting; only a new sort column sorts everything.
    """

    def __init__(self, sort: str = Sort.STATE, reverse: bool = False, needle: str = "",
                 overdue: Callable[[PeerRow], bool] | None = None) -> None:
        self.rows: dict[str, PeerRow] = {}
        self.sort = Sort(sort)
        self.reverse = reverse
        self.needle = needle.casefold()
        self._keys: dict[str, SortKey] = {}
        """The sort key of every row, visible or not."""
        self._all = BlockList()
        """Every row's sort key, ascending; `reverse` is applied when indexing."""
        self._order = self._all
        """The visible rows' sort keys: the very same list as `_all` while no filter is set."""
        self._hay: dict[str, tuple[PeerRow, str]] = {}
        """Each row's filter haystack, built once per row object: typing a filter re-tests rows, not re-formats."""
        self.overdue: Callable[[PeerRow], bool] = overdue or (lambda _row: False)
        """Whether a row's key is overdue now: the filter word `overdue` shows exactly those rows."""
        self.disabled: set[str] = set()
        """Keys of the rows that are disabled peers (from the file's `#[disabled]` blocks, not the monitor)."""
        self.widest = [0, 0, 0]
        """The widest name, endpoint and allowed-IPs text seen (the table's growing columns ask for this much). It
        only grows until the next reset: a column that shrank back as a long value left would make the table jump."""

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, index: int) -> PeerRow:
        return self.rows[self.key_at(index)]

    def key_at(self, index: int) -> str:
        order = self._order
        sk: SortKey = order[len(order) - 1 - index] if self.reverse else order[index]
        return sk[1]

    def index_of(self, key: str) -> int | None:
        sk = self._keys.get(key)
        i = None if sk is None else self._order.index(sk)  # None as well when filtered out
        if i is None:
            return None
        return (len(self._order) - 1 - i) if self.reverse else i

    def visible_keys(self, start: int, stop: int) -> list[str]:
        return [self.key_at(i) for i in range(max(0, start), min(stop, len(self._order)))]

    def _sort_key(self, row: PeerRow) -> SortKey:
        return (SORTS[self.sort](row), row.peer.public_key)

    def _matches(self, key: str, row: PeerRow) -> bool:
        if not self.needle:
            return True
        if self.needle.strip() == OVERDUE:
            return self.overdue(row)
        cached = self._hay.get(key)
        if cached is None or cached[0] is not row:
            cached = self._hay[key] = (row, haystack(row))
        return self.needle in cached[1]

    def apply(self, delta: InterfaceDelta) -> Change:
        """The monitor's delta. A live row replaces a disabled row of the same key (the peer was enabled)."""
        if delta.reset:
            self.disabled.clear()
            self.widest = [0, 0, 0]
            self._grow(delta.upserts.values())
            self.rows = dict(delta.upserts)
            self._hay = {}
            self.rebuild()
            return Change(True, frozenset(self.rows))
        if self.disabled:
            self.disabled.difference_update(delta.upserts)
        return self._apply(delta.upserts, delta.removed)

    def set_disabled(self, rows: Mapping[str, PeerRow]) -> Change | None:
        """Make the disabled rows those of `rows` whose key is not live (a live peer always wins); None when that
        changes nothing. O(disabled peers): cheap enough to ask after every poll."""
        present, mine = self.rows, self.disabled
        wanted = {k: r for k, r in rows.items() if k not in present or k in mine}  # by key: O(disabled), not O(rows)
        removed = [k for k in self.disabled if k not in wanted]
        upserts = {k: r for k, r in wanted.items() if self.rows.get(k) is not r}
        if not removed and not upserts:
            return None
        self.disabled = set(wanted)
        return self._apply(upserts, removed)

    def _grow(self, rows: Iterable[PeerRow]) -> None:
        widest = self.widest
        for row in rows:
            for i, width in enumerate(_cell_widths(row)):
                if width > widest[i]:
                    widest[i] = width

    def _apply(self, upserts: Mapping[str, PeerRow], removed: Collection[str]) -> Change:
        filtered = self._order is not self._all
        drop_all: list[SortKey] = []
        add_all: list[SortKey] = []
        drop_shown: list[SortKey] = []
        add_shown: list[SortKey] = []
        for key in removed:
            if self.rows.pop(key, None) is None:
                continue
            self._hay.pop(key, None)
            sk = self._keys.pop(key)
            drop_all.append(sk)
            if filtered and self._shown(sk):
                drop_shown.append(sk)
        sort_of = SORTS[self.sort]
        rows, sort_keys = self.rows, self._keys
        for key, row in upserts.items():
            old = rows.get(key)
            if old is None or old.name != row.name:
                self._grow((row,))
            else:
                was_peer, peer = old.peer, row.peer
                if was_peer is not peer and (was_peer.endpoint != peer.endpoint
                                             or was_peer.allowed_ips != peer.allowed_ips):
                    self._grow((row,))  # most upserts are traffic: their texts stay as wide as they were
            rows[key] = row
            new_sk = (sort_of(row), key)
            old_sk = sort_keys.get(key)
            if old_sk != new_sk:
                sort_keys[key] = new_sk
                if old_sk is not None:
                    drop_all.append(old_sk)
                add_all.append(new_sk)
            if filtered:
                # Visibility can change without the sort key changing (a new name or endpoint matches).
                was = old_sk is not None and self._shown(old_sk)
                now = self._matches(key, row)
                if was and (not now or old_sk != new_sk):
                    drop_shown.append(old_sk)  # type: ignore[arg-type]
                if now and (not was or old_sk != new_sk):
                    add_shown.append(new_sk)
        if drop_all or add_all:
            _update(self._all, drop_all, add_all)
        if filtered:
            _update(self._order, drop_shown, add_shown)
            moved = bool(drop_shown or add_shown)
        else:
            moved = bool(drop_all or add_all)
        return Change(moved, frozenset(upserts) | frozenset(removed))

    def _shown(self, sk: SortKey) -> bool:
        """Whether a sort key is in the visible list (only asked while a filter is set)."""
        return sk in self._order

    def rebuild(self) -> None:
        """Full re-sort: only when the sort column changes (or everything was replaced)."""
        sorts = SORTS[self.sort]
        self._keys = {k: (sorts(r), k) for k, r in self.rows.items()}
        self._all = BlockList(sorted(self._keys.values()))
        self._refilter()

    def _refilter(self) -> None:
        if not self.needle:
            self._order = self._all
            return
        rows, needle = self.rows, self.needle
        if needle.strip() == OVERDUE:
            overdue = self.overdue
            self._order = BlockList(sk for sk in self._all if overdue(rows[sk[1]]))
            return
        # Every row is tested: one pass to bring the haystacks up to date, then a test in C per row (no call per row).
        hay = self._hay
        for key, row in rows.items():
            cached = hay.get(key)
            if cached is None or cached[0] is not row:
                hay[key] = (row, haystack(row))
        self._order = BlockList([sk for sk in self._all if needle in hay[sk[1]][1]])

    def set_sort(self, sort: str, reverse: bool) -> None:
        sort = Sort(sort)  # ValueError for an unknown one
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
            self._refilter()

    def refilter(self) -> None:
        """Test every row again (the overdue policy changed: nothing in the rows did)."""
        if self.needle:
            self._refilter()

    def keys(self) -> Iterable[str]:
        return (self.key_at(i) for i in range(len(self._order)))
