"""Provides the peer table: a Line-API widget that draws only the visible rows of a PeerRows model."""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import ClassVar, NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip

from wgtui.model import PeerStatus
from wgtui.monitor import PeerRow
from wgtui.ui import keymap
from wgtui.ui.columns import CellContext, Cells, Layout, fit, layout
from wgtui.ui.peer_rows import Change, PeerRows, Sort
from wgtui.ui.widgets.peer_line import line_strip, look
from wgtui.ui.widgets.peer_table_styles import PEER_TABLE_COMPONENTS, PEER_TABLE_CSS, part_style
from wgtui.ui.widgets.plain_lines import finished_lines, is_plain
from wgtui.ui.widgets.thumb_scrollbar import ThumbScrollBar

_HEADER = 1


class _Pass(NamedTuple):
    """What every line of one pass over the visible lines shares."""

    width: int
    top: int
    cells: CellContext
    focus: bool
    layout: Layout


class PeerTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Rows come from a PeerRows model; per update, only lines whose text changed are redrawn.

    Drawing cost depends on the terminal height, never on the number of peers: a DataTable builds every row
    up front (seconds at 10,000 peers); this draws the 20-odd lines on screen.
    """

    DEFAULT_CSS = PEER_TABLE_CSS
    COMPONENT_CLASSES: ClassVar[set[str]] = PEER_TABLE_COMPONENTS
    # Space marks a peer (the dashboard's key), so it is not page down here; nothing scrolls sideways (the columns
    # fit the width), so ScrollView's left/right/ctrl+home… bindings are not inherited: help lists only what works.
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.TABLE)

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    full_keys: reactive[bool] = reactive(False)
    empty_text: reactive[str] = reactive("No peers.")

    class CursorMoved(Message):
        """The highlighted peer changed (or its row did)."""

        def __init__(self, key: str | None) -> None:
            self.key = key
            super().__init__()

    def __init__(self, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.model = PeerRows()
        self._cursor_key: str | None = None
        self._drawn: dict[int, tuple[object, ...]] = {}
        """Per screen line, what was drawn there last: lets an update redraw only lines that differ."""
        self._layout: tuple[tuple[object, ...], Layout] | None = None
        self._cells: dict[str, tuple[PeerRow, Cells]] = {}
        """Cell texts of the rows formatted at `_cells_now`: a poll compares, then draws, each visible line once."""
        self._cells_now = 0.0
        self._pending: dict[int, tuple[object, ...]] = {}
        """Per screen line, what a refresh already asked for and render_line has not drawn yet."""
        self._styles: dict[object, Style] = {}
        """Rich styles by (component, status, cursor line, focus) for the current CSS: see `_style`."""
        self._strips: dict[tuple[object, ...], Strip] = {}
        """Drawn lines by what they show: a line that scrolls or comes back unchanged is the same Strip, whose own
        caches (crop, style, filter) then spare Textual most of the work of drawing it again."""
        self._pass: _Pass | None = None
        self._bypassed = False
        """Lines were drawn by finished_lines, not through Textual's line cache."""
        self._finals: dict[object, Strip] = {}
        """Row lines as finished_lines hands them to Textual (padded, filtered), by what they show."""
        self._whole = False
        """Every line is already asked for (the view scrolled): comparing lines before they are drawn is wasted."""
        self.marks: Set[str] = frozenset()
        """Public keys of the marked peers (the dashboard's set for this interface, read when drawing)."""
        self._max_key_age = 0.0
        self._shown_columns: frozenset[Sort] | None = None
        self.on_cursor: Callable[[], None] | None = None
        """Called at once when the highlighted peer changes: what follows the cursor (the detail pane) is drawn in
        the same frame as the table, not a frame later when CursorMoved is handled."""

    @property
    def max_key_age(self) -> float:
        """Seconds after which a key is drawn as overdue (0: no policy)."""
        return self._max_key_age

    @max_key_age.setter
    def max_key_age(self, seconds: float) -> None:
        if seconds != self._max_key_age:
            self._max_key_age = seconds
            self._cells.clear()
            self.refresh_changed()

    @property
    def shown_columns(self) -> frozenset[Sort] | None:
        """The columns the user chose to see (None: all that fit)."""
        return self._shown_columns

    @shown_columns.setter
    def shown_columns(self, columns: frozenset[Sort] | None) -> None:
        if columns != self._shown_columns:
            self._shown_columns = columns
            self.relayout()

    def relayout(self) -> None:
        """Work the columns out again and redraw every line (new columns, sort or widths)."""
        self._layout = None
        self._forget_drawn()
        self.refresh()

    def redraw_all(self) -> None:
        """Draw every line again, even one that looks unchanged (a full redraw of the terminal)."""
        self._forget_drawn()
        self._strips.clear()
        self._finals.clear()
        self.refresh()

    # -- model -----------------------------------------------------------------------------------------------

    def set_model(self, model: PeerRows) -> None:
        self.model = model
        self._cursor_key = None
        self._resync(moved=True)
        self.cursor = 0

    def model_changed(self, change: Change, *, tell: bool = True) -> None:
        """Called after the model applied a delta: move nothing the user did not move, redraw what differs.
        `tell`: post CursorMoved when the highlighted row changed (not needed by a caller that refreshes what
        follows the cursor itself, right after)."""
        self._resync(change.order_changed)
        if tell and self._cursor_key in change.changed_keys:
            self.post_message(self.CursorMoved(self._cursor_key))

    def _resync(self, moved: bool) -> None:
        n = len(self.model)
        self.virtual_size = Size(self.scrollable_content_region.width, n + _HEADER)
        if moved:
            index = self.model.index_of(self._cursor_key) if self._cursor_key else None
            new = index if index is not None else min(self.cursor, max(0, n - 1))
            if new != self.cursor or index is None:
                self.cursor = new
            else:
                self._scroll_cursor_into_view()
        self.refresh_changed()

    def refresh_changed(self) -> None:
        """Redraw the lines whose content differs from what is on screen (time moves too: `42 seconds ago`).

        Called several times per poll (model, cursor, screen): a line already waiting to be drawn with the same
        content is not asked for again, and all lines go to Textual in one refresh call.
        """
        if self._whole:
            return
        height = self.scrollable_content_region.height
        ctx = self._line_pass()
        width = self.size.width
        drawn, pending = self._drawn, self._pending
        regions = []
        for y in range(_HEADER, height):
            sig = self._signature(ctx.top + y - _HEADER, ctx)
            if drawn.get(y) != sig and pending.get(y) != sig:
                pending[y] = sig
                regions.append(Region(0, y, width, 1))
        header = self._header_signature()
        if drawn.get(0) != header and pending.get(0) != header:
            pending[0] = header
            regions.append(Region(0, 0, width, 1))
        if regions:
            self.refresh(*regions)

    def _forget_drawn(self) -> None:
        """Everything on screen is to be drawn again (scrolled, resized, new layout)."""
        self._drawn.clear()
        self._pending.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()
        self._finals.clear()

    def _style(self, part: str, status: PeerStatus | str | None = None, cursor: bool = False,
               focus: bool = False) -> Style:
        """The Rich style of one part of a line, computed once per CSS state (not per line and frame: `rich_style`
        walks the ancestors' backgrounds). `focus` is part of the key: the cursor line looks different then."""
        key = (part, status, cursor, focus)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = part_style(self, part, status, cursor)
        return style

    # -- cursor ----------------------------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.model) - 1)) if len(self.model) else 0

    def watch_cursor(self, old: int, new: int) -> None:
        key = self.model.key_at(new) if len(self.model) else None
        self._scroll_cursor_into_view()
        self.refresh_changed()
        if key != self._cursor_key:
            self._cursor_key = key
            if self.on_cursor is not None:
                self.on_cursor()
            self.post_message(self.CursorMoved(key))

    @property
    def cursor_key(self) -> str | None:
        return self._cursor_key

    def select_key(self, key: str) -> bool:
        index = self.model.index_of(key)
        if index is None:
            return False
        self.cursor = index
        return True

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - _HEADER)

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_offset.y)
        page = self._page()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + page:
            self.scroll_to(y=self.cursor - page + 1, animate=False, immediate=True)

    def make_room(self, rows: int) -> None:
        """The table is about to lose `rows` lines at its bottom (a box opens under it): scroll now, as the resize
        would, so that the cursor stays in view in the frame of the new layout rather than one frame later."""
        page = self._page() - rows
        if page > 0 and self.cursor >= round(self.scroll_offset.y) + page:
            self.scroll_to(y=self.cursor - page + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * self._page()

    def action_edge(self, end: int) -> None:
        self.cursor = len(self.model) - 1 if end else 0

    def on_click(self, event: events.Click) -> None:
        if event.y >= _HEADER:
            self.cursor = round(self.scroll_offset.y) + event.y - _HEADER

    def on_resize(self, event: events.Resize) -> None:
        self._layout = None
        self._forget_drawn()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.model) + _HEADER)
        self._scroll_cursor_into_view()

    def watch_full_keys(self) -> None:
        self.relayout()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)  # asks for every line when the top line changed
        self._forget_drawn()
        if round(old) != round(new):
            self._whole = True

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        # Widget.vertical_scrollbar, with a bar that repaints only when its thumb moves on screen.
        if self._vertical_scrollbar is None:
            self._vertical_scrollbar = bar = ThumbScrollBar(vertical=True, name="vertical",
                                                            thickness=self.scrollbar_size_vertical)
            bar.display = False
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    # -- drawing ---------------------------------------------------------------------------------------------

    def _line_pass(self) -> _Pass:
        """What every line of one pass over the screen shares; inside render_lines, computed once for all lines."""
        if self._pass is not None:
            return self._pass
        width = self.scrollable_content_region.width
        cells = CellContext(self.clock(), self.full_keys, self._max_key_age)
        return _Pass(width, round(self.scroll_offset.y), cells, self.has_focus, self._get_layout(width))

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pass = None
        self._whole = False
        self._pass = self._line_pass()
        try:
            if is_plain(self):
                self._bypassed = True
                return finished_lines(self, crop, self.render_line, self._shows, self._finals,
                                      8 * max(1, self.size.height))
            if self._bypassed:
                self._bypassed = False
                self._styles_cache.clear()  # its lines are those of before the bypass
            return super().render_lines(crop)
        finally:
            self._pass = None

    def _shows(self, y: int) -> object | None:
        """What a row line just drawn shows, at the width it was drawn (None for the header: not kept)."""
        return (self._drawn.get(y), self._line_pass().width) if y >= _HEADER else None

    @property
    def columns(self) -> Layout:
        """The columns as they are drawn now (Widget.layout is Textual's own: the arrangement of children)."""
        return self._get_layout()

    def _get_layout(self, width: int | None = None) -> Layout:
        # Keyed on the width because the vertical scrollbar comes and goes with the number of rows; on the widest
        # values because a longer endpoint or name seen in a poll may take room the table has spare.
        if width is None:
            width = self.scrollable_content_region.width
        model = self.model
        key = (width, self.full_keys, self._shown_columns, model.sort, tuple(model.widest))
        if self._layout is None or self._layout[0] != key:
            self._layout = (key, layout(width, self.full_keys, shown=self._shown_columns, sort=model.sort,
                                        widest=model.widest))
            self._cells.clear()
            self._forget_drawn()
        return self._layout[1]

    def _texts(self, row: PeerRow, ctx: CellContext, lay: Layout) -> Cells:
        # Formatting (humanize, cell widths) is most of a line's cost; it depends only on the row object, the time,
        # the key policy and the layout, so each visible line is formatted once per poll however often it is
        # compared or drawn.
        if ctx.now != self._cells_now:
            self._cells.clear()
            self._cells_now = ctx.now
        key = row.peer.public_key
        hit = self._cells.get(key)
        if hit is not None and hit[0] is row:
            return hit[1]
        cells = lay.cells(row, ctx)
        self._cells[key] = (row, cells)
        return cells

    def _signature(self, index: int, ctx: _Pass) -> tuple[object, ...]:
        if index >= len(self.model):
            return ("empty", index == 0 and not len(self.model), self.empty_text)
        row = self.model[index]
        return (look(row), row.drift, row.key in self.marks, index == self.cursor,
                ctx.focus, self._texts(row, ctx.cells, ctx.layout))

    def _header_signature(self) -> tuple[object, ...]:
        return ("header", self.model.sort, self.model.reverse, self._get_layout())

    def render_line(self, y: int) -> Strip:
        ctx = self._line_pass()
        width = ctx.width
        if y == 0:
            self._drawn[0] = self._header_signature()
            self._pending.pop(0, None)
            return self._header_strip(width)
        index = ctx.top + y - _HEADER
        sig = self._signature(index, ctx)
        self._drawn[y] = sig
        self._pending.pop(y, None)
        if index >= len(self.model):
            text = self.empty_text if index == 0 else ""
            style = self._style("empty", focus=ctx.focus)
            return Strip([Segment(fit(f" {text}" if text else "", width), style)], width)
        strip = self._strips.get(sig)
        if strip is not None and strip.cell_length == width:
            return strip
        row = self.model[index]
        on_cursor = index == self.cursor
        cell_style = self._style("cell", look(row), on_cursor, ctx.focus)

        def style_of(part: str, seen: PeerStatus | str | None) -> Style:
            return self._style(part, seen, on_cursor, ctx.focus)

        strip = line_strip(row, sig[5], ctx.layout, row.key in self.marks,  # type: ignore[arg-type]
                           ctx.cells.now, ctx.cells.max_key_age, style_of, width, cell_style)
        if len(self._strips) >= 8 * max(1, self.size.height):
            # Lines of rows long gone or texts of past seconds: bounded by the screen, the oldest out first (a line
            # at a time, not a pause every few polls to free them all at once).
            del self._strips[next(iter(self._strips))]
        self._strips[sig] = strip
        return strip

    def _header_strip(self, width: int) -> Strip:
        style = self._style("header", focus=self.has_focus)
        text = self._get_layout().header(self.model.sort, self.model.reverse)
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)
