"""Provides a small keyboard-driven table of pre-formatted lines: the fleet's hosts, a search's peers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wgtui.ui import keymap

PARTS = ("live", "stale", "unreachable", "connecting", "dim", "warn", "error", "bold")
"""What a span of a line can look like (a component class each; "" is the line's plain style)."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line: a key (what the cursor stands on) and its spans of (text, part)."""

    key: str
    spans: tuple[tuple[str, str], ...]


class LineTable(ScrollView, can_focus=True, inherit_bindings=False):
    """A header and lines given whole by the owner (`set_lines`), a cursor, and only the lines that changed
    redrawn: the fleet view's work per tick is its handful of host lines, whatever the peers do."""

    DEFAULT_CSS = """
    LineTable { background: $surface; overflow-x: hidden; }
    LineTable > .line-table--header { text-style: bold; color: $text-muted; }
    LineTable > .line-table--cursor { background: $accent 40%; }
    LineTable:focus > .line-table--cursor { background: $accent; color: $text; }
    LineTable > .line-table--live { color: $success; }
    LineTable > .line-table--stale { color: $warning; }
    LineTable > .line-table--unreachable { color: $error; text-style: bold; }
    LineTable > .line-table--connecting { color: $text-muted; text-style: italic; }
    LineTable > .line-table--dim { color: $text-muted; }
    LineTable > .line-table--warn { color: $warning; text-style: bold; }
    LineTable > .line-table--error { color: $error; }
    LineTable > .line-table--bold { text-style: bold; }
    LineTable > .line-table--empty { color: $text-muted; text-style: italic; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"line-table--header", "line-table--cursor", "line-table--empty",
                                             *(f"line-table--{p}" for p in PARTS)}
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.TABLE)

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class CursorMoved(Message):
        """The line under the cursor changed (another key)."""

        def __init__(self, key: str | None) -> None:
            self.key = key
            super().__init__()

    def __init__(self, *, empty_text: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self.header = Line("", ())
        self.lines: list[Line] = []
        self.empty_text = empty_text
        self._cursor_key: str | None = None
        self._styles: dict[tuple[str, bool, bool], Style] = {}

    @property
    def cursor_key(self) -> str | None:
        return self._cursor_key

    def set_lines(self, header: Line, lines: Sequence[Line], empty_text: str | None = None) -> None:
        """Show these lines; the cursor stays on its key when that key is still there. Only lines that differ
        from what is shown are redrawn."""
        old, old_header = self.lines, self.header
        self.header, self.lines = header, list(lines)
        if empty_text is not None and empty_text != self.empty_text:
            self.empty_text = empty_text
            old = []
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.lines) + 1)
        keys = [line.key for line in self.lines]
        at = keys.index(self._cursor_key) if self._cursor_key in keys else min(self.cursor, max(0, len(keys) - 1))
        if at != self.cursor or (keys[at] if keys else None) != self._cursor_key:
            self.cursor = at
        width, top = self.size.width, round(self.scroll_offset.y)
        regions = [Region(0, 0, width, 1)] if header != old_header else []
        for y in range(1, self.scrollable_content_region.height):
            index = top + y - 1
            if (old[index] if index < len(old) else None) != (self.lines[index] if index < len(self.lines) else None):
                regions.append(Region(0, y, width, 1))
        if regions:
            self.refresh(*regions)

    def select_key(self, key: str) -> bool:
        for index, line in enumerate(self.lines):
            if line.key == key:
                self.cursor = index
                return True
        return False

    # -- cursor ----------------------------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.lines) - 1)) if self.lines else 0

    def watch_cursor(self, old: int, new: int) -> None:
        key = self.lines[new].key if self.lines else None
        top, page = round(self.scroll_offset.y), self._page()
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + page:
            self.scroll_to(y=new - page + 1, animate=False, immediate=True)
        self.refresh()  # two lines change look; a handful of lines in all
        if key != self._cursor_key:
            self._cursor_key = key
            self.post_message(self.CursorMoved(key))

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * self._page()

    def action_edge(self, end: int) -> None:
        self.cursor = len(self.lines) - 1 if end else 0

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.cursor = round(self.scroll_offset.y) + event.y - 1

    def on_resize(self, _event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.lines) + 1)

    # -- drawing ---------------------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _style(self, part: str, cursor: bool, focus: bool) -> Style:
        key = (part, cursor, focus)
        style = self._styles.get(key)
        if style is None:
            style = self.rich_style
            if part:
                style += self.get_component_rich_style(f"line-table--{part}")
            if cursor:
                style += self.get_component_rich_style("line-table--cursor")
            self._styles[key] = style
        return style

    def render_line(self, y: int) -> Strip:
        width, focus = self.size.width, self.has_focus
        if y == 0:
            return self._strip(self.header, "header", False, focus, width)
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self.lines):
            text = f" {self.empty_text}" if index == 0 and self.empty_text else ""
            style = self._style("empty", False, focus)
            return Strip([Segment(text, style)]).adjust_cell_length(width, style)
        return self._strip(self.lines[index], "", index == self.cursor, focus, width)

    def _strip(self, line: Line, base: str, cursor: bool, focus: bool, width: int) -> Strip:
        plain = self._style(base, cursor, focus)
        segments = [Segment(text, self._style(part or base, cursor, focus)) for text, part in line.spans]
        return Strip(segments).crop(0, width).adjust_cell_length(width, plain)
