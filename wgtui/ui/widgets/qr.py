"""Provides a QR code widget: the code drawn with half blocks, dark modules on a light ground, whatever the theme."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from wgtui.client_config import qr_lines

# Phones read dark-on-light codes; a terminal theme's light-on-dark would invert the code, so the colours are
# fixed. Under NO_COLOR the colours are stripped, so reverse video (which survives) does the same job on the
# usual light-on-dark terminal.
_COLOURED = Style(color="#000000", bgcolor="#ffffff")
_NO_COLOUR = Style(reverse=True)


class QRCode(Widget):
    """Sized to the code (one cell per module across, two modules per cell down); a scrolling parent shows
    the part that fits, and `fits()` tells whether all of it does."""

    DEFAULT_CSS = """
    QRCode {
        width: auto;
        height: auto;
    }
    """

    def __init__(self, text: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.lines = qr_lines(text)

    @property
    def code_size(self) -> Size:
        return Size(len(self.lines[0]) if self.lines else 0, len(self.lines))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.code_size.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.code_size.height

    def render(self) -> Text:
        style = _NO_COLOUR if self.app.no_color else _COLOURED
        return Text("\n".join(self.lines), style=style, no_wrap=True, overflow="crop")

    def fits(self, size: Size) -> bool:
        """Whether the whole code is visible in a region of this size (a partly shown code cannot be scanned)."""
        need = self.code_size
        return need.width <= size.width and need.height <= size.height
