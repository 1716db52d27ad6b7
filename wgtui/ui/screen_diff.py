"""Provides a terminal-output filter that writes only the cells that changed since the last frame, as curses does."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rich.cells import get_character_cell_size

if TYPE_CHECKING:
    from textual.driver import Driver

# What Textual's frames are made of: cursor moves, SGR, line breaks and text. Anything else in a frame makes the
# filter step aside for that write.
_FRAME_TOKEN = re.compile(r"\x1b\[(\d+);(\d+)H|\x1b\[([0-9;]*)m|(\r?\n)|([^\x1b\r\n]+)|(.)", re.DOTALL)
_CURSOR_MOVE = re.compile(r"\x1b\[\d+;\d+H")
"""How every frame of Textual's starts."""
_HARMLESS = re.compile(r"\x1b\[\?(?!1049|1047|47)[0-9;]*[hl]|\x1b\[[0-9;?]*\$p|\x1b\[\??[0-9;]*n|\x1b\[[0-9;]*c"
                       r"|\x1b\[[0-9]* q|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>]|\x1b\[>[0-9;]*u|\x1b\[<u")
"""Control sequences that leave every cell and the cursor where they were: modes (mouse, paste, sync, cursor
visibility), queries, titles, keypad modes."""


_NARROW: dict[int, None] = {}
"""Printable non-ASCII characters seen to take one cell (`●`, `·`, `↓`, the sparkline's blocks), as a str.translate
table that deletes them: a text run without any other non-ASCII character needs no per-character look."""


@lru_cache(maxsize=4096)
def _sizes(text: str) -> tuple[int, ...] | None:
    """Cell widths of each character of a text run, or None when every one is one cell (the common case)."""
    if text.isascii():
        return None if text.isprintable() else (0,)
    rest = text.translate(_NARROW)
    if rest.isascii() and rest.isprintable():
        return None
    sizes = tuple(get_character_cell_size(char) for char in text)
    if len(_NARROW) < 4096:
        _NARROW.update((ord(char), None) for char, size in zip(text, sizes, strict=True)
                       if size == 1 and not char.isascii() and char.isprintable())
    return None if all(size == 1 for size in sizes) else sizes


class ScreenDiff:
    """Keeps what the terminal shows and turns each frame Textual writes into the shortest update.

    Textual redraws whole lines (from the left edge of a widget to the end of what changed): a clock digit that
    changes costs a line of text and a colour code per cell run. Over SSH that is most of the traffic of an idle
    dashboard. Here each frame is laid onto a copy of the screen and only changed cells go out, with a colour code
    only where the colour changes. Whatever is not understood goes out unchanged, and the copy is forgotten (the
    next frames are written in full where they draw), so the filter can only cost bytes, never correctness.
    """

    def __init__(self) -> None:
        self.size = (0, 0)
        self.chars: list[list[str | None]] = []
        """The screen as the terminal shows it: one character per cell ("" for the right half of a wide one),
        None where it is not known."""
        self.styles: list[list[str]] = []
        """The SGR parameters in force for each cell."""
        self.cursor: tuple[int, int] | None = None
        """Where the terminal's cursor is after the latest write, when known."""
        self.changed_rows: set[int] = set()
        """Rows whose cells the latest frame changed (every row it wrote, when it went out unchanged)."""
        self.attributes_known = True
        """Whether the terminal's SGR attributes are plain between frames (Textual ends each frame with a reset).
        Not after `invalidate`: what wrote to the terminal meanwhile may have left a colour set."""

    def resize(self, width: int, height: int) -> None:
        if (width, height) != self.size:
            self.size = (width, height)
            self.forget()

    def forget(self) -> None:
        width, height = self.size
        self.chars = [[None] * width for _ in range(height)]
        self.styles = [[""] * width for _ in range(height)]
        self.cursor = None

    def invalidate(self) -> None:
        """Something else may have written to the terminal (a `wall` message, a background job): nothing on it is
        known, so the next frame goes out whole, starting with an attribute reset."""
        self.forget()
        self.attributes_known = False

    def feed(self, data: str) -> str:
        """The output to send instead of `data` (Textual's output for one write)."""
        if not _CURSOR_MOVE.match(data):
            # Not a frame (modes, queries, the alternate screen...): through as it is.
            if _HARMLESS.sub("", data) != "":
                self.forget()
            return data
        frame = self._parse(data)
        if frame is None:
            self.forget()
            return data
        rows, cursor = frame
        self.changed_rows = set()
        out = self._render(rows, cursor)
        if out is None:
            self.changed_rows = set(rows)
            # Written as Textual wrote it; only its own cells are known afterwards.
            self.forget()
            for y, (chars, styles, covered) in rows.items():
                self.chars[y] = [char if covered[x] else None for x, char in enumerate(chars)]
                self.styles[y] = styles
            out = data
        else:
            # The frame's rows were laid onto copies of the screen's: they are what the screen now shows.
            for y, (chars, styles, _) in rows.items():
                self.chars[y], self.styles[y] = chars, styles
        self.cursor = cursor
        return out

    def _parse(self, data: str) -> tuple[dict[int, tuple[list[str | None], list[str], bytearray]],
                                         tuple[int, int]] | None:
        """Per row the frame touches: (characters, styles, written cells) of the screen with the frame laid on
        it, and where the frame leaves the cursor; None if this is not a plain frame."""
        width, height = self.size
        rows: dict[int, tuple[list[str | None], list[str], bytearray]] = {}
        x = y = -1
        sgr = ""
        for match in _FRAME_TOKEN.finditer(data):
            row, col, params, newline, text, other = match.groups()
            if row is not None:
                y, x = int(row) - 1, int(col) - 1
            elif params is not None:
                if params in ("", "0"):
                    sgr = ""
                elif params.startswith("0;"):
                    sgr = params[2:]
                else:
                    sgr = f"{sgr};{params}" if sgr else params
            elif newline is not None:
                y, x = y + 1, 0
            elif text is not None:
                if not 0 <= y < height or x < 0:
                    return None
                sizes = _sizes(text)
                n = len(text) if sizes is None else sum(sizes)
                if x + n > width or (sizes is not None and 0 in sizes):
                    return None  # text past the edge, control characters, combining marks
                new = rows.get(y)
                if new is None:
                    new = rows[y] = (self.chars[y][:], self.styles[y][:], bytearray(width))
                chars, styles, covered = new
                if any(covered[x : x + n]):
                    return None  # a cell written twice in one frame
                covered[x : x + n] = b"\x01" * n
                styles[x : x + n] = [sgr] * n
                if sizes is None:
                    chars[x : x + n] = text
                else:
                    i = x
                    for char, size in zip(text, sizes, strict=True):
                        chars[i] = char
                        if size == 2:
                            chars[i + 1] = ""
                        i += size
                x += n
            else:
                assert other is not None
                return None
        return rows, (x, y)

    def _render(self, rows: dict[int, tuple[list[str | None], list[str], bytearray]],
                cursor: tuple[int, int]) -> str | None:
        """The shortest output that turns the screen into one with these rows; None if it cannot be done safely."""
        out: list[str] = []
        at = self.cursor
        current: str | None = "" if self.attributes_known else None
        for y in sorted(rows):
            chars, styles, covered = rows[y]
            old_chars, old_styles = self.chars[y], self.styles[y]
            if chars == old_chars and styles == old_styles:
                continue  # compared in C: most rows of a frame are as they were
            self.changed_rows.add(y)
            work = [x for x in range(len(chars)) if chars[x] != old_chars[x] or styles[x] != old_styles[x]]
            need: set[int] = set()
            while work:
                x = work.pop()
                if x in need:
                    continue
                if not covered[x]:
                    return None  # would break a wide character this frame does not redraw
                need.add(x)
                new, old = chars[x], old_chars[x]
                # A wide character is written whole, and writing over either half of one on screen erases both.
                if new == "" or old == "":
                    work.append(x - 1)
                if old and old != new and get_character_cell_size(old) == 2:
                    work.append(x + 1)
            for x in sorted(need):
                char, sgr = chars[x], styles[x]
                if not char:
                    continue  # the right half, written with its left half
                if at != (x, y):
                    out.append(f"\x1b[{y + 1};{x + 1}H")
                if sgr != current:
                    out.append(f"\x1b[0;{sgr}m" if sgr else "\x1b[0m")
                    current = sgr
                out.append(char)
                at = (x + get_character_cell_size(char), y)
        if current:
            out.append("\x1b[0m")
        if at != cursor:
            out.append(f"\x1b[{cursor[1] + 1};{cursor[0] + 1}H")
        self.attributes_known = self.attributes_known or current is not None
        return "".join(out)


def diffing(base: type[Driver], screen_diff: ScreenDiff | None = None) -> type[Driver]:
    """A subclass of a terminal driver class whose output goes through a ScreenDiff (other drivers unchanged).

    Given `screen_diff`, the driver uses that one: its owner can make it forget the screen, so that the next frame is
    written in full (Ctrl+L, and the periodic redraw that wipes what other programs wrote on the terminal)."""
    from textual.drivers.linux_driver import LinuxDriver

    if not issubclass(base, LinuxDriver):
        return base

    class DiffingDriver(base):  # type: ignore[valid-type,misc]
        """Textual's driver, writing only what changed on screen."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._screen_diff = screen_diff if screen_diff is not None else ScreenDiff()

        def write(self, data: str) -> None:
            diff = self._screen_diff
            if data.startswith("\x1b["):
                width, height = self._get_terminal_size()
                diff.resize(width, height)
            super().write(diff.feed(data))

    return DiffingDriver
