"""Provides the peer table's columns: which fit a given width, their headers, and each cell's text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

from wgtui import fmt
from wgtui.durations import short_age
from wgtui.keys import short_key
from wgtui.monitor import PeerRow
from wgtui.ui.key_age import ROTATING_GLYPH, key_age_cell


@dataclass(frozen=True, slots=True)
class CellContext:
    """What every cell of one drawing pass shares."""

    now: float
    full_keys: bool = False
    max_key_age: float = 0.0
    """Seconds after which a key is overdue (0: no policy)."""


CellText = Callable[[PeerRow, CellContext], str]


def _cell_rate(value: float | None) -> str:
    return fmt.rate(value).removesuffix("/s")


def _name(row: PeerRow) -> str:
    """The file's name; an unnamed new key of a pending rotation says whose key it replaces (`↻ lF3i…4hE=`)."""
    if row.name:
        return row.name
    replaces = row.meta.replaces if row.meta is not None else ""
    return f"{ROTATING_GLYPH} {short_key(replaces)}" if replaces else "(unnamed)"


def _short_handshake(latest: int, now: float) -> str:
    """`24s ago`, `3m ago`: the handshake column when the terminal is narrow."""
    return "never" if latest <= 0 else f"{short_age(now - latest)} ago"


@dataclass(frozen=True, slots=True)
class Column:
    id: str
    """Also the sort id in peer_rows.SORTS."""
    title: str
    width: int
    priority: int
    """Lower is more important: the last columns to be dropped when the terminal is narrow."""
    text: CellText
    align_right: bool = False
    flex: bool = False
    """Takes the width left over by the others (the name column)."""
    squeezed: int = 0
    """A narrower width used before an important column is dropped (0: it has none)."""
    compact: CellText | None = None
    """The text at the squeezed width, when the full one does not fit it."""


COLUMNS: tuple[Column, ...] = (
    Column("name", "name", 10, 0, lambda r, c: _name(r), flex=True),
    Column("key", "key", 9, 1, lambda r, c: short_key(r.peer.public_key, c.full_keys)),
    Column("endpoint", "endpoint", 19, 3, lambda r, c: r.peer.endpoint or "(none)", squeezed=15),
    Column("allowed", "allowed IPs", 18, 5, lambda r, c: fmt.allowed_ips(r.peer.allowed_ips, 2)),
    Column("handshake", "handshake", 14, 2, lambda r, c: fmt.handshake_ago(r.peer.latest_handshake, c.now),
           squeezed=9, compact=lambda r, c: _short_handshake(r.peer.latest_handshake, c.now)),
    Column("key_age", "key age", 7, 3, lambda r, c: key_age_cell(r, c.now, c.max_key_age)),
    Column("rx_rate", "↓/s", 8, 4, lambda r, c: _cell_rate(r.rx_rate), align_right=True),
    Column("tx_rate", "↑/s", 8, 4, lambda r, c: _cell_rate(r.tx_rate), align_right=True),
    Column("rx", "↓ total", 9, 6, lambda r, c: fmt.size(r.peer.rx_bytes), align_right=True),
    Column("tx", "↑ total", 9, 6, lambda r, c: fmt.size(r.peer.tx_bytes), align_right=True),
)

GLYPH_WIDTH = 3
"""The mark (◆ when marked), the state glyph and the drift mark, always shown first."""
GAP = 1
SQUEEZE_FROM = 4
"""Columns of this priority or more important are dropped only once every column that can be squeezed is."""


@dataclass(frozen=True, slots=True)
class Layout:
    columns: tuple[Column, ...]
    widths: tuple[int, ...]
    texts: tuple[CellText, ...]
    """Each column's text function: the compact one where the column is squeezed."""

    def offset(self, column_id: str) -> int | None:
        """Where a column's cell starts in the joined cells of a line (None when it is not shown)."""
        start = 0
        for col, width in zip(self.columns, self.widths, strict=True):
            if col.id == column_id:
                return start
            start += width + GAP
        return None


def layout(width: int, full_keys: bool = False) -> Layout:
    """The most important columns that fit in `width`, in table order; the name column absorbs the rest.

    At 80 columns the key age costs what the handshake's `seconds ago` and the endpoint's port cost: those columns
    are squeezed (`24s ago`, `192.0.2.195:14…`) before any column that matters more than totals is dropped."""
    def need(cols: list[Column], squeeze: bool) -> int:
        return GLYPH_WIDTH + sum(_width(c, full_keys, squeeze) + GAP for c in cols) - GAP

    chosen = list(COLUMNS)
    squeeze = False
    for priority in sorted({c.priority for c in COLUMNS}, reverse=True):
        if need(chosen, squeeze) <= width or priority == 0:
            break
        if priority <= SQUEEZE_FROM and not squeeze:
            squeeze = True
            if need(chosen, squeeze) <= width:
                break
        chosen = [c for c in chosen if c.priority != priority]
    spare = max(0, width - need(chosen, squeeze))
    # Spare room goes to the columns that get cut most: names, and allowed IPs when shown.
    growers = [c for c in chosen if c.flex or c.id == "allowed"]
    share = {c.id: spare // len(growers) + (i < spare % len(growers)) for i, c in enumerate(growers)}
    widths = tuple(_width(c, full_keys, squeeze) + share.get(c.id, 0) for c in chosen)
    texts = tuple(c.compact if squeeze and c.compact is not None else c.text for c in chosen)
    return Layout(tuple(chosen), widths, texts)


def _width(col: Column, full_keys: bool, squeeze: bool = False) -> int:
    if col.id == "key" and full_keys:
        return 44
    return col.squeezed if squeeze and col.squeezed else col.width


def fit(text: str, width: int, right: bool = False) -> str:
    """Exactly `width` terminal cells (wide characters counted as two): padded, or cut with a visible `…`."""
    cells = cell_len(text)
    if cells > width:
        return set_cell_size(text, max(0, width - 1)) + "…" if width > 0 else ""
    pad = " " * (width - cells)
    return pad + text if right else text + pad
