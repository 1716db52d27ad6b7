"""Provides a vertical scrollbar drawn straight into strips, repainted only when its thumb moves on screen."""

from __future__ import annotations

from math import ceil

from rich.color import Color
from rich.segment import Segment
from textual.geometry import Region
from textual.reactive import Reactive
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip

from wgtui.ui.widgets.plain_lines import is_plain

_BACK = Color.parse("#555555")
_BAR = Color.parse("bright_magenta")
"""ScrollBarRender's own defaults, for a style without a colour (as its __rich_console__ does)."""


class ThumbScrollBar(ScrollBar):
    """Textual's vertical scrollbar, the same segments in the same styles, for a fraction of the cost.

    The dashboard's view follows the cursor's row, so it scrolls at most polls; Textual's scrollbar then renders
    its renderable through a Rich console and its line cache, ~2.5 ms for a 1-cell-wide bar. Here the bar's
    segments (ScrollBarRender.render_bar, Textual's own arithmetic) become one strip per line, laid over the
    widget's style and through the app's line filters as Textual does; anything unusual (is_plain: tint, opacity,
    padding, a border…; a horizontal bar) takes Textual's own path.
    """

    position: Reactive[float] = Reactive(0, repaint=False)

    def __init__(self, vertical: bool = True, name: str | None = None, *, thickness: int = 1) -> None:
        super().__init__(vertical, name, thickness=thickness)
        self._drawn: tuple[tuple[object, ...], list[Strip]] | None = None
        """The lines of the whole bar and what they were drawn from: the compositor asks for a few lines at a time."""
        self._made: dict[tuple[Segment, object, int], Strip] = {}
        """The strip of each different cell of the bar (by its segment, the widget's style and width)."""

    def watch_position(self, old: float, new: float) -> None:
        if self.bar(old) != self.bar(new):
            self.refresh()

    def bar(self, position: float) -> list[Segment]:
        """The segments drawn at `position` at the current size, in the default colours (colours do not depend on
        the position, and a change of them repaints the bar by itself)."""
        window = self.window_size if self.window_size < self.window_virtual_size else 0
        drawn = self.renderer.render_bar(size=self.size.height, virtual_size=ceil(self.window_virtual_size),
                                         window_size=ceil(window), position=position, thickness=self.thickness,
                                         vertical=self.vertical)
        return list(drawn.segments)

    def render_lines(self, crop: Region) -> list[Strip]:
        renderable = self.render()
        if not isinstance(renderable, ScrollBarRender) or not self.vertical or not is_plain(self):
            return super().render_lines(crop)
        width = self.size.width
        lines = self._lines(renderable)[crop.y:crop.bottom]
        filters = self.get_line_filters()
        if filters:
            # As Textual's StylesCache does after drawing (the app's filters: no colour, dimmed…); each Strip keeps
            # its filtered copy, so an unmoved bar is filtered once.
            background = self.background_colors[1]
            for line_filter in filters:
                lines = [line.apply_filter(line_filter, background) for line in lines]
        if crop.column_span != (0, width):
            lines = [line.crop(crop.x, crop.right) for line in lines]
        return lines

    def _lines(self, renderable: ScrollBarRender) -> list[Strip]:
        style = renderable.style
        assert not isinstance(style, str)  # ScrollBar.render passes a Style
        base = self.visual_style.rich_style
        size = self.size
        key = (renderable.virtual_size, renderable.window_size, renderable.position, renderable.thickness, style,
               base, size)
        if self._drawn is not None and self._drawn[0] == key:
            return self._drawn[1]
        drawn = self.renderer.render_bar(size=size.height, virtual_size=renderable.virtual_size,
                                         window_size=renderable.window_size, position=renderable.position,
                                         thickness=renderable.thickness, vertical=True,
                                         back_color=style.bgcolor or _BACK, bar_color=style.color or _BAR)
        # A bar is made of four or five different cells: one Strip for each (and so one filtered copy of each,
        # kept by the Strip), not one per line per position.
        made = self._made
        if len(made) > 64:
            made.clear()
        lines = []
        for seg in drawn.segments:
            line = made.get((seg, base, size.width))
            if line is None:
                line = made[seg, base, size.width] = Strip([Segment(seg.text, base + seg.style)], size.width)
            lines.append(line)
        self._drawn = (key, lines)
        return lines
