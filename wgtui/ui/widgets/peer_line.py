"""Provides how one peer's line of the table is painted: glyphs, cells, and the spans with a style of their own."""

from __future__ import annotations

from collections.abc import Callable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from wgtui import fmt
from wgtui.drift import DRIFT_GLYPH
from wgtui.model import PeerStatus
from wgtui.monitor import PeerRow
from wgtui.ui.columns import GAP, Cells, Layout
from wgtui.ui.disabled_rows import DISABLED_GLYPH, is_disabled
from wgtui.ui.key_age import KeyState, key_state
from wgtui.ui.peer_rows import Sort

MARK_GLYPH = "◆"
"""A marked peer (space): a shape of its own, so marks read without colour too."""
DISABLED = "disabled"
"""The look of a disabled row (PeerStatus has the live states only)."""

StyleOf = Callable[[str, PeerStatus | str | None], Style]
"""(part, look) -> the Rich style of that part on this line (cursor and focus already decided)."""


def look(row: PeerRow) -> PeerStatus | str:
    return DISABLED if is_disabled(row) else row.status


def line_segments(row: PeerRow, cells: Cells, lay: Layout, marked: bool, now: float, max_key_age: float,
                  style_of: StyleOf) -> list[Segment]:
    """The glyph columns (the mark ◆, the state, drift: + only live, ✕ only in the file, ≠ they differ), then the cells
    in one segment: Textual's work per line grows with its segments. Only an overdue key or a pending rotation gets
    its key age cell a style of its own, and a cut value its CUT."""
    seen = look(row)
    state_style, cell_style = style_of("state", seen), style_of("cell", seen)
    drift = DRIFT_GLYPH[row.drift[0]] if row.drift else " "
    state = f"{DISABLED_GLYPH if seen == DISABLED else fmt.STATUS_GLYPH[row.status]}{drift}"
    segments = ([Segment(MARK_GLYPH, style_of("mark", None)), Segment(state, state_style)] if marked
                else [Segment(f" {state}", state_style)])
    texts, cuts = cells
    styled: list[tuple[int, int, Style]] = []
    key_look = key_state(row, now, max_key_age)
    ids = [c.id for c in lay.columns]
    if key_look is not KeyState.PLAIN and Sort.KEY_AGE in ids:
        i = ids.index(Sort.KEY_AGE)
        at = sum(len(t) + GAP for t in texts[:i])
        styled.append((at, at + len(texts[i]), style_of(key_look.value, None)))
    if cuts:
        cut_style = cell_style + style_of("cut", None)
        styled += [(at, at + 1, cut_style) for at in cuts]
    return segments + _segments((" " * GAP).join(texts), cell_style, styled)


def line_strip(row: PeerRow, cells: Cells, lay: Layout, marked: bool, now: float, max_key_age: float,
               style_of: StyleOf, width: int, pad: Style) -> Strip:
    """line_segments as a Strip of `width` cells (padded in `pad`, as Strip.adjust_cell_length would), whose length
    is known without measuring the whole line again: every cell is exactly its column's width (fit_cell measured
    it), so only the glyphs are measured (short strings: Rich caches them)."""
    segments = line_segments(row, cells, lay, marked, now, max_key_age, style_of)
    glyphs = segments[:2] if marked else segments[:1]
    length = sum(cell_len(seg.text) for seg in glyphs) + lay.width
    if length < width:
        segments.append(Segment(" " * (width - length), pad))
    elif length > width:
        return Strip(segments, length).adjust_cell_length(width, pad)
    return Strip(segments, width)


def _segments(text: str, style: Style, styled: list[tuple[int, int, Style]]) -> list[Segment]:
    """`text` in `style`, but for the (start, stop, style) spans of it that have a style of their own."""
    out: list[Segment] = []
    at = 0
    for start, stop, own in sorted(styled, key=lambda part: part[0]):
        if start >= at:
            out += [Segment(text[at:start], style), Segment(text[start:stop], own)]
            at = stop
    out.append(Segment(text[at:], style))
    return out
