"""Provides a Static for a rich Text of a few lines that change one or two at a time, drawing only the lines that
changed."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import _RenderCache
from textual.widgets import Static

from wgtui.ui.widgets.plain_lines import finished_lines, is_plain


class TextLines(Static):
    """A status header or a detail pane: updated every poll, where most of its lines show what they showed before
    (a peer's key, its allowed IPs) and one or two moved (a handshake's age, the totals). Each line is kept by what
    it shows and the width, drawn and finished (padded, filtered) once, so a poll draws the changed lines only
    (Textual draws the whole text again: ~0.8 ms for the two-line header). Lines are drawn by Textual's own code,
    one text line at a time: lines wrap on their own, so they look exactly as the whole text would."""

    def __init__(self, content: Text | str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(content, id=id, classes=classes)
        self._drawn: dict[object, list[Strip]] = {}
        self._finished: dict[object, Strip] = {}
        self._keys: list[object] = []
        """What each screen line of the text shows (its text line's key and which of its wrapped lines)."""

    def _cacheable(self) -> bool:
        return (isinstance(self.content, Text) and self.text_selection is None
                and self.styles.content_align == ("left", "top"))

    def render_lines(self, crop: Region) -> list[Strip]:
        if not (self._cacheable() and is_plain(self)):
            return super().render_lines(crop)
        return finished_lines(self, crop, self.render_line, self._key_of, self._finished, 4 * max(1, self.size.height))

    def _key_of(self, y: int) -> object | None:
        return self._keys[y] if y < len(self._keys) else None

    def _render_content(self) -> None:
        content = self.content
        if not self._cacheable():
            self._keys = []
            super()._render_content()
            return
        assert isinstance(content, Text)
        width = self.size.width
        style = self.visual_style
        drawn = self._drawn
        now: dict[object, list[Strip]] = {}
        strips: list[Strip] = []
        keys: list[object] = []
        for row, line in enumerate(content.split("\n", allow_blank=True)):
            key = (row, line.plain, tuple(line.spans), line.style, width, style)
            lines = now.get(key) or drawn.get(key)
            if lines is None:
                lines = _on_row(Visual.to_strips(self, visualize(self, line, markup=False), width, None, style), row)
            now[key] = lines
            strips.extend(lines)
            keys.extend((key, i) for i in range(len(lines)))
        self._drawn = now  # the lines of the text on screen: what went off it is not needed again soon
        self._keys = keys
        self._render_cache = _RenderCache(self.size, strips)
        self._dirty_regions.clear()


def _on_row(strips: list[Strip], row: int) -> list[Strip]:
    """The strips of a text line drawn alone, as drawn in the whole text: their cells' text offsets (which text
    selection reads) are (x, 0), and must be (x, row)."""
    if row == 0:
        return strips
    out = []
    for strip in strips:
        segments = []
        for segment in strip:
            style = segment.style
            meta = style.meta if style is not None and style._meta is not None else None
            if meta and "offset" in meta:
                assert style is not None
                style = style + Style.from_meta({"offset": (meta["offset"][0], row)})
            segments.append(Segment(segment.text, style, segment.control))
        out.append(Strip(segments, strip.cell_length))
    return out
