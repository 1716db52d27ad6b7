"""Provides Textual's last step of drawing a plain Line-API widget's lines, without its per-line overhead."""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

LineKey = Callable[[int], object | None]
"""y -> what the line at y shows (its finished line is kept by it), or None: not kept."""


def is_plain(widget: Widget) -> bool:
    """Whether Textual's line cache would only pad each line to the content width and run the app's filters over it
    (no border, padding, outline, tint, hatch or opacity): then `finished_lines` does exactly that."""
    styles = widget.styles
    return (not any(styles.gutter) and not styles.tint.a and widget.opacity == 1.0 and styles.text_opacity == 1.0
            and not (styles.has_rule("hatch") and styles.hatch != "none")
            and not any(edge for edge, _ in styles.outline))


def finished_lines(widget: Widget, crop: Region, render_line: Callable[[int], Strip], key_of: LineKey,
                   kept: dict[object, Strip], keep: int) -> list[Strip]:
    """What StylesCache.render_widget draws for a plain widget: each line padded to the content width in the
    background, through the app's line filters (ANSI colours to true colour…). A finished line is kept by what it
    shows (`key_of`, at most `keep` of them), so a line that scrolls is not padded and filtered again."""
    base_background, background = widget.background_colors
    inner = widget._styles_cache.get_inner_outer(base_background, background)[0].rich_style
    width, height = widget.size
    # Under a vertical scrollbar a line ends where the scrollbar begins: drawn wider, its last column is padded, then
    # cut off again by the compositor, whose cut walks every segment of the line (measuring the text cell by cell).
    content_width = (widget.scrollable_content_region if widget.show_vertical_scrollbar
                     else widget.content_region).width
    filters = tuple(widget.get_line_filters())
    lines = []
    for y in crop.line_range:
        key: object | None = None
        if y >= height:
            line = Strip.blank(content_width, inner)
        else:
            line = render_line(y)  # first: it is what tells key_of what the line shows
            shows = key_of(y)
            key = None if shows is None else (shows, content_width, inner, background, filters)
            done = kept.get(key) if key is not None else None
            if done is not None:
                lines.append(done)
                continue
        line = _finish(line, content_width, inner, filters, background)
        if key is not None:
            if len(kept) >= keep:
                del kept[next(iter(kept))]  # the oldest: a line at a time, not a pause to free them all at once
            kept[key] = line
        lines.append(line)
    if crop.column_span != (0, width):
        lines = [line.crop(crop.x, crop.right) for line in lines]
    return lines


def _finish(line: Strip, width: int, pad: Style, filters: tuple[LineFilter, ...], background: Color) -> Strip:
    """line.adjust_cell_length(width, pad), then apply_filter for each filter, as one new Strip instead of one per
    step (a Strip is costly to make: seven caches of its own)."""
    length = line.cell_length
    if length > width:
        line, length = line.adjust_cell_length(width, pad), width
    segments = list(line)
    if length < width:
        segments.append(Segment(" " * (width - length), pad))
    if not filters and length == width:
        return line
    for line_filter in filters:
        segments = line_filter.apply(segments, background)
    return Strip(segments, width)
