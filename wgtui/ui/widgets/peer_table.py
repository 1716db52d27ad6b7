"""Provides the peer table: a Line-API widget that draws only the visible rows of a PeerRows model."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wgtui import fmt
from wgtui.model import PeerStatus
from wgtui.monitor import PeerRow
from wgtui.ui.columns import GAP, Layout, fit, layout
from wgtui.ui.peer_rows import Change, PeerRows

_HEADER = 1


class PeerTable(ScrollView, can_focus=True):
    """Rows come from a PeerRows model; per update, only lines whose text changed are redrawn.

    Drawing cost depends on the terminal height, never on the number of peers: a DataTable builds every row
    up front (seconds at 10,000 peers); this draws the 20-odd lines on screen.
    """

    DEFAULT_CSS = """
    PeerTable { background: $surface; overflow-x: hidden; }
    PeerTable > .peer-table--header { text-style: bold; color: $text-muted; }
    PeerTable > .peer-table--cursor { background: $accent 40%; }
    PeerTable:focus > .peer-table--cursor { background: $accent; color: $text; }
    PeerTable > .peer-table--online { color: $success; }
    PeerTable > .peer-table--stale { color: $warning; }
    PeerTable > .peer-table--never { color: $text-disabled; }
    PeerTable > .peer-table--dim { color: $text-muted; }
    PeerTable > .peer-table--empty { color: $text-muted; text-style: italic; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "peer-table--header", "peer-table--cursor", "peer-table--online", "peer-table--stale",
        "peer-table--never", "peer-table--dim", "peer-table--empty",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown,space", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home,g", "edge(0)", "First", show=False, id="table.first"),
        Binding("end,G", "edge(1)", "Last", show=False, id="table.last"),
    ]

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
        self._layout: tuple[int, bool, Layout] | None = None

    # -- model -----------------------------------------------------------------------------------------------

    def set_model(self, model: PeerRows) -> None:
        self.model = model
        self._cursor_key = None
        self._resync(moved=True)
        self.cursor = 0

    def model_changed(self, change: Change) -> None:
        """Called after the model applied a delta: move nothing the user did not move, redraw what differs."""
        self._resync(change.order_changed)
        if self._cursor_key in change.changed_keys:
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
        """Redraw the lines whose content differs from what is on screen (time moves too: `42 seconds ago`)."""
        height = self.scrollable_content_region.height
        top = round(self.scroll_offset.y)
        now = self.clock()
        for y in range(_HEADER, height):
            sig = self._signature(top + y - _HEADER, now)
            if self._drawn.get(y) != sig:
                self.refresh(Region(0, y, self.size.width, 1))
        if self._drawn.get(0) != self._header_signature():
            self.refresh(Region(0, 0, self.size.width, 1))

    # -- cursor ----------------------------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.model) - 1)) if len(self.model) else 0

    def watch_cursor(self, old: int, new: int) -> None:
        key = self.model.key_at(new) if len(self.model) else None
        self._scroll_cursor_into_view()
        self.refresh_changed()
        if key != self._cursor_key:
            self._cursor_key = key
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
        self._drawn.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.model) + _HEADER)
        self._scroll_cursor_into_view()

    def watch_full_keys(self) -> None:
        self._layout = None
        self._drawn.clear()
        self.refresh()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._drawn.clear()

    # -- drawing ---------------------------------------------------------------------------------------------

    def _get_layout(self) -> Layout:
        # Keyed on the width because the vertical scrollbar comes and goes with the number of rows.
        width = self.scrollable_content_region.width
        if self._layout is None or self._layout[:2] != (width, self.full_keys):
            self._layout = (width, self.full_keys, layout(width, self.full_keys))
        return self._layout[2]

    def _texts(self, row: PeerRow, now: float) -> tuple[str, ...]:
        lay = self._get_layout()
        return tuple(fit(c.text(row, now, self.full_keys), w, c.align_right)
                     for c, w in zip(lay.columns, lay.widths, strict=True))

    def _signature(self, index: int, now: float) -> tuple[object, ...]:
        if index >= len(self.model):
            return ("empty", index == 0 and not len(self.model), self.empty_text)
        row = self.model[index]
        return (row.status, index == self.cursor, self.has_focus, self._texts(row, now))

    def _header_signature(self) -> tuple[object, ...]:
        return ("header", self.model.sort, self.model.reverse, self._get_layout())

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            self._drawn[0] = self._header_signature()
            return self._header_strip(width)
        index = round(self.scroll_offset.y) + y - _HEADER
        now = self.clock()
        sig = self._signature(index, now)
        self._drawn[y] = sig
        base = self.rich_style
        if index >= len(self.model):
            text = self.empty_text if index == 0 else ""
            style = base + self.get_component_rich_style("peer-table--empty")
            return Strip([Segment(fit(f" {text}" if text else "", width), style)], width)
        row = self.model[index]
        state_style = self.get_component_rich_style(f"peer-table--{row.status.value}")
        cell_style = base + (self.get_component_rich_style("peer-table--dim")
                             if row.status is PeerStatus.NEVER else Style())
        if index == self.cursor:
            cursor = self.get_component_rich_style("peer-table--cursor")
            state_style, cell_style = state_style + cursor, cell_style + cursor
        segments = [Segment(f"{fmt.STATUS_GLYPH[row.status]} ", base + state_style)]
        gap = Segment(" " * GAP, cell_style)
        for i, text in enumerate(sig[3]):  # type: ignore[arg-type]
            if i:
                segments.append(gap)
            segments.append(Segment(text, cell_style))
        return Strip(segments).adjust_cell_length(width, cell_style)

    def _header_strip(self, width: int) -> Strip:
        lay = self._get_layout()
        style = self.rich_style + self.get_component_rich_style("peer-table--header")
        parts = ["  "]
        for col, w in zip(lay.columns, lay.widths, strict=True):
            title = col.title
            if col.id == self.model.sort:
                title += " ▼" if self.model.reverse else " ▲"
            parts.append(fit(title, w, col.align_right))
        text = parts[0] + (" " * GAP).join(parts[1:])
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)
