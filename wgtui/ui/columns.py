"""Provides the peer table's columns: which fit a given width, their headers, and each cell's text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

from wgtui import fmt
from wgtui.keys import short_key
from wgtui.monitor import PeerRow


def _cell_rate(value: float | None) -> str:
    return fmt.rate(value).removesuffix("/s")


@dataclass(frozen=True, slots=True)
class Column:
    id: str
    """Also the sort id in peer_rows.SORTS."""
    title: str
    width: int
    priority: int
    """Lower is more important: the last columns to be dropped when the terminal is narrow."""
    text: Callable[[PeerRow, float, bool], str]
    """(row, now, full_keys) -> cell text."""
    align_right: bool = False
    flex: bool = False
    """Takes the width left over by the others (the name column)."""


COLUMNS: tuple[Column, ...] = (
    Column("name", "name", 10, 0, lambda r, now, full: r.name or "(unnamed)", flex=True),
    Column("key", "key", 9, 1, lambda r, now, full: short_key(r.peer.public_key, full)),
    Column("endpoint", "endpoint", 19, 3, lambda r, now, full: r.peer.endpoint or "(none)"),
    Column("allowed", "allowed IPs", 18, 5, lambda r, now, full: fmt.allowed_ips(r.peer.allowed_ips, 2)),
    Column("handshake", "handshake", 14, 2,
           lambda r, now, full: fmt.handshake_ago(r.peer.latest_handshake, now)),
    Column("rx_rate", "↓/s", 8, 4, lambda r, now, full: _cell_rate(r.rx_rate), align_right=True),
    Column("tx_rate", "↑/s", 8, 4, lambda r, now, full: _cell_rate(r.tx_rate), align_right=True),
    Column("rx", "↓ total", 9, 6, lambda r, now, full: fmt.size(r.peer.rx_bytes), align_right=True),
    Column("tx", "↑ total", 9, 6, lambda r, now, full: fmt.size(r.peer.tx_bytes), align_right=True),
)

GLYPH_WIDTH = 2
"""The state glyph and a space, always shown first."""
GAP = 1


@dataclass(frozen=True, slots=True)
class Layout:
    columns: tuple[Column, ...]
    widths: tuple[int, ...]


def layout(width: int, full_keys: bool = False) -> Layout:
    """The most important columns that fit in `width`, in table order; the name column absorbs the rest."""
    def need(cols: list[Column]) -> int:
        return GLYPH_WIDTH + sum(_width(c, full_keys) + GAP for c in cols) - GAP

    chosen = list(COLUMNS)
    for priority in sorted({c.priority for c in COLUMNS}, reverse=True):
        if need(chosen) <= width or priority == 0:
            break
        chosen = [c for c in chosen if c.priority != priority]
    spare = max(0, width - need(chosen))
    # Spare room goes to the columns that get cut most: names, and allowed IPs when shown.
    growers = [c for c in chosen if c.flex or c.id == "allowed"]
    share = {c.id: spare // len(growers) + (i < spare % len(growers)) for i, c in enumerate(growers)}
    widths = tuple(_width(c, full_keys) + share.get(c.id, 0) for c in chosen)
    return Layout(tuple(chosen), widths)


def _width(col: Column, full_keys: bool) -> int:
    return 44 if col.id == "key" and full_keys else col.width


def fit(text: str, width: int, right: bool = False) -> str:
    """Exactly `width` terminal cells (wide characters counted as two): padded, or cut with a visible `…`."""
    cells = cell_len(text)
    if cells > width:
        return set_cell_size(text, max(0, width - 1)) + "…" if width > 0 else ""
    pad = " " * (width - cells)
    return pad + text if right else text + pad
