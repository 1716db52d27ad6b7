"""Provides the peer table's columns: which fit a given width, how wide each is, their headers and cells' texts."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

from wgtui import fmt
from wgtui.durations import short_age
from wgtui.keys import short_key
from wgtui.monitor import PeerRow
from wgtui.ui.disabled_rows import is_disabled
from wgtui.ui.key_age import ROTATING_GLYPH, key_age_cell
from wgtui.ui.peer_rows import Sort, arrow


@dataclass(frozen=True, slots=True)
class CellContext:
    """What every cell of one drawing pass shares."""

    now: float
    full_keys: bool = False
    max_key_age: float = 0.0
    """Seconds after which a key is overdue (0: no policy)."""


CellText = Callable[[PeerRow, CellContext], str]


def _cell_rate(row: PeerRow, value: float | None) -> str:
    return "–" if is_disabled(row) else fmt.rate(value).removesuffix("/s")


def _name(row: PeerRow) -> str:
    """The file's name; an unnamed new key of a pending rotation says whose key it replaces (`↻ lF3i…4hE=`)."""
    if row.name:
        return row.name
    replaces = row.meta.replaces if row.meta is not None else ""
    return f"{ROTATING_GLYPH} {short_key(replaces)}" if replaces else "(unnamed)"


def _handshake(row: PeerRow, ctx: CellContext) -> str:
    return "disabled" if is_disabled(row) else fmt.handshake_ago(row.peer.latest_handshake, ctx.now)


def _short_handshake(row: PeerRow, ctx: CellContext) -> str:
    """`24s ago`, `3m ago`: the handshake column when the terminal is narrow."""
    if is_disabled(row):
        return "disabled"
    latest = row.peer.latest_handshake
    return "never" if latest <= 0 else f"{short_age(ctx.now - latest)} ago"


def allowed_cell(ips: Sequence[str], width: int) -> str:
    """As many prefixes as fit in `width`, then `+N` for the rest: a list cut short says how much is missing."""
    if not ips:
        return "(none)"
    shown = ", ".join(ips)
    if cell_len(shown) <= width:
        return shown
    for n in range(len(ips) - 1, 0, -1):
        text = f"{', '.join(ips[:n])} +{len(ips) - n}"
        if cell_len(text) <= width:
            return text
    return f"{ips[0]} +{len(ips) - 1}" if len(ips) > 1 else ips[0]  # cut by fit(), visibly


@dataclass(frozen=True, slots=True)
class Column:
    id: Sort
    """Also what sorting by this column sorts by."""
    title: str
    width: int
    """What it takes when the terminal is narrow (values wider than this are cut, visibly)."""
    priority: int
    """Lower is more important: the last columns to be dropped when the terminal is narrow."""
    text: CellText
    align_right: bool = False
    squeezed: int = 0
    """A narrower width used before an important column is dropped (0: it has none)."""
    compact: CellText | None = None
    """The text at the squeezed width, when the full one does not fit it."""
    grows: int = -1
    """Which PeerRows.widest entry says how wide its values get (-1: a fixed width); it grows to that, by
    priority, when the terminal has the room."""
    most: int = 0
    """The widest it grows."""


COLUMNS: tuple[Column, ...] = (
    Column(Sort.NAME, "name", 10, 0, lambda r, c: _name(r), grows=0, most=40),
    Column(Sort.KEY, "key", 9, 1, lambda r, c: short_key(r.peer.public_key, c.full_keys)),
    Column(Sort.ENDPOINT, "endpoint", 19, 3, lambda r, c: r.peer.endpoint or "(none)", squeezed=15, grows=1,
           most=47),
    Column(Sort.ALLOWED, "allowed IPs", 18, 5, lambda r, c: fmt.allowed_ips(r.peer.allowed_ips), grows=2, most=120),
    Column(Sort.HANDSHAKE, "handshake", 14, 2, _handshake, squeezed=9, compact=_short_handshake),
    Column(Sort.KEY_AGE, "key age", 7, 3, lambda r, c: "–" if is_disabled(r) else key_age_cell(r, c.now,
                                                                                               c.max_key_age)),
    Column(Sort.RX_RATE, "↓/s", 8, 4, lambda r, c: _cell_rate(r, r.rx_rate), align_right=True),
    Column(Sort.TX_RATE, "↑/s", 8, 4, lambda r, c: _cell_rate(r, r.tx_rate), align_right=True),
    Column(Sort.RX, "↓ total", 9, 6, lambda r, c: fmt.size(r.peer.rx_bytes), align_right=True),
    Column(Sort.TX, "↑ total", 9, 6, lambda r, c: fmt.size(r.peer.tx_bytes), align_right=True),
)
BY_ID = {c.id: c for c in COLUMNS}
TITLES: dict[Sort, str] = {Sort.STATE: "state"} | {c.id: c.title for c in COLUMNS}
ALWAYS_SHOWN = frozenset({Sort.NAME})
"""The column every row is recognised by: the column chooser cannot hide it."""

GLYPH_WIDTH = 3
"""The mark (◆ when marked), the state glyph and the drift mark, always shown first."""
GAP = 1
SQUEEZE_FROM = 4
"""Columns of this priority or more important are dropped only once every column that can be squeezed is."""
CUT = "…"
"""Ends a value cut to its column's width; the table draws it in a style of its own (reverse video, which NO_COLOR
keeps), so that a cut value never looks like one that fits exactly, nor like a name that ends in `…`."""


Cells = tuple[tuple[str, ...], tuple[int, ...]]
"""A row's cell texts at the layout's widths, and where in the joined line (cells joined by GAP) each cut value's
CUT stands."""


@dataclass(frozen=True, slots=True)
class Layout:
    columns: tuple[Column, ...]
    widths: tuple[int, ...]
    texts: tuple[CellText, ...]
    """Each column's text function at its width: the compact one where the column is squeezed."""

    @property
    def width(self) -> int:
        """Terminal cells of a line's cells joined by GAP (each cell is exactly its column's width)."""
        return sum(self.widths) + GAP * (len(self.widths) - 1) if self.widths else 0

    def offset(self, column_id: str) -> int | None:
        """Where a column's cell starts in the joined cells of a line (None when it is not shown)."""
        start = 0
        for col, width in zip(self.columns, self.widths, strict=True):
            if col.id == column_id:
                return start
            start += width + GAP
        return None

    def cells(self, row: PeerRow, ctx: CellContext) -> Cells:
        """The row's cells, each exactly its column's width, and where the cut ones end."""
        texts: list[str] = []
        cuts: list[int] = []
        at = 0
        for col, width, text in zip(self.columns, self.widths, self.texts, strict=True):
            cell, cut = fit_cell(text(row, ctx), width, col.align_right)
            texts.append(cell)
            if cut:
                cuts.append(at + len(cell) - 1)
            at += len(cell) + GAP
        return tuple(texts), tuple(cuts)

    def header(self, sort: Sort, reverse: bool) -> str:
        """The header line: titles over their columns, the sorted one marked with the order's arrow (▲ the values
        shown go up the table, ▼ they go down); sorted by state, `●▲` over the state glyphs (● stands for them)."""
        mark = arrow(sort, reverse)
        parts = [f"●{mark} " if sort is Sort.STATE else " " * GLYPH_WIDTH]
        for col, width in zip(self.columns, self.widths, strict=True):
            if col.id == sort and width >= 3:
                title = fit(col.title, width - 2)
                title = (f"{mark} {title.strip()}" if col.align_right else f"{title.rstrip()} {mark}")
            else:
                title = col.title
            parts.append(fit(title, width, col.align_right))
        return parts[0] + (" " * GAP).join(parts[1:])


def layout(width: int, full_keys: bool = False, *, shown: Collection[Sort] | None = None,
           sort: Sort | None = None, widest: Sequence[int] = ()) -> Layout:
    """The columns that fit in `width`, in table order.

    `shown` are the columns the user wants (None: all); the sorted column is always among them, so that the header
    can say what the order is. When they do not all fit, the least important go first (at 80 columns the handshake's
    `seconds ago` and the endpoint's port are squeezed before a column that matters more than totals is dropped).
    Room left over goes to the columns whose values are wider than their narrow width (`widest`, as PeerRows keeps
    it), most important first: names, then endpoints, then every allowed IP; what is still left stays blank at the
    right rather than stretching a column past its values.
    """
    def need(cols: list[Column], squeeze: bool) -> int:
        return GLYPH_WIDTH + sum(_width(c, full_keys, squeeze, sort) + GAP for c in cols) - GAP

    def kept(c: Column) -> int:
        return -1 if c.id == sort else c.priority

    chosen = [c for c in COLUMNS if shown is None or c.id in shown or c.id == sort or c.id in ALWAYS_SHOWN]
    squeeze = False
    for priority in sorted({kept(c) for c in chosen}, reverse=True):
        if need(chosen, squeeze) <= width or priority <= 0:
            break
        if priority <= SQUEEZE_FROM and not squeeze:
            squeeze = True
            if need(chosen, squeeze) <= width:
                break
        chosen = [c for c in chosen if kept(c) != priority]
    widths = {c.id: _width(c, full_keys, squeeze, sort) for c in chosen}
    spare = max(0, width - need(chosen, squeeze))
    for col in sorted((c for c in chosen if c.grows >= 0), key=kept):
        if spare <= 0:
            break
        values = widest[col.grows] if col.grows < len(widest) else 0
        extra = max(0, min(spare, min(values, col.most) - widths[col.id]))
        widths[col.id] += extra
        spare -= extra
    texts = tuple(c.compact if squeeze and c.compact is not None else _fitted(c, widths[c.id]) for c in chosen)
    return Layout(tuple(chosen), tuple(widths[c.id] for c in chosen), texts)


def _fitted(col: Column, width: int) -> CellText:
    if col.id is Sort.ALLOWED:
        return lambda r, c: allowed_cell(r.peer.allowed_ips, width)
    return col.text


def _width(col: Column, full_keys: bool, squeeze: bool = False, sort: Sort | None = None) -> int:
    if col.id is Sort.KEY and full_keys:
        return 44
    width = col.squeezed if squeeze and col.squeezed else col.width
    # The sorted column's title keeps room for its arrow: `key age ▼`, never `key … ▼`.
    return max(width, len(col.title) + 2) if col.id == sort else width


def fit(text: str, width: int, right: bool = False) -> str:
    """Exactly `width` terminal cells (wide characters counted as two): padded, or cut with CUT at the end."""
    return fit_cell(text, width, right)[0]


def fit_cell(text: str, width: int, right: bool = False) -> tuple[str, bool]:
    """`fit`, and whether the text was cut (the table marks the CUT of a cut cell, and only of a cut cell)."""
    cells = cell_len(text)
    if cells > width:
        return (set_cell_size(text, max(0, width - 1)) + CUT if width > 0 else ""), width > 0
    pad = " " * (width - cells)
    return (pad + text if right else text + pad), False
