"""The screen-diff output filter: after every frame the terminal shows exactly what Textual's own output shows."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import get_character_cell_size

from wgtui.ui.screen_diff import ScreenDiff, _sizes

W, H = 12, 5
_TOKEN = re.compile(r"\x1b\[(\d+);(\d+)H|\x1b\[([0-9;]*)m|(\r?\n)|\x1b[^a-zA-Z]*[a-zA-Z]|(.)", re.DOTALL)


class Terminal:
    """A tiny terminal: cursor moves, cumulative SGR, text with wide characters (writing over either half of a
    wide character blanks the other half, as xterm does), line feeds."""

    def __init__(self) -> None:
        self.cells: list[list[tuple[str, frozenset[str]]]] = [[(" ", frozenset())] * W for _ in range(H)]
        self.x = self.y = 0
        self.sgr: set[str] = set()

    def _put(self, x: int, cell: tuple[str, frozenset[str]]) -> None:
        row = self.cells[self.y]
        if row[x][0] == "" and x > 0:
            row[x - 1] = (" ", row[x - 1][1])
        if x + 1 < W and row[x + 1][0] == "" and get_character_cell_size(row[x][0]) == 2:
            row[x + 1] = (" ", row[x + 1][1])
        row[x] = cell

    def write(self, data: str) -> None:
        for match in _TOKEN.finditer(data):
            row, col, params, newline, char = match.groups()
            if row is not None:
                self.y, self.x = int(row) - 1, int(col) - 1
            elif params is not None:
                for p in (params or "0").split(";"):
                    if p == "0":
                        self.sgr.clear()
                    else:
                        self.sgr.add(p)
            elif newline is not None:
                self.y, self.x = self.y + 1, 0
            elif char is not None:
                size = get_character_cell_size(char)
                style = frozenset(self.sgr)
                self._put(self.x, (char, style))
                if size == 2:
                    self._put(self.x + 1, ("", style))
                self.x += size


# A frame as Textual writes one: for some rows, a cursor move, then styled runs, each closed by a reset.
chars = st.sampled_from([*"ab ·●◐", "漢", "字"])
runs = st.lists(st.tuples(st.sampled_from(["", "1", "38;5;2", "1;48;5;17"]), st.text(chars, min_size=1, max_size=4)),
                min_size=1, max_size=3)
frame_rows = st.lists(st.tuples(st.integers(0, H - 1), st.integers(0, W - 1), runs), min_size=1, max_size=4,
                      unique_by=lambda row: row[0])  # Textual writes each row of a frame once


def render(rows: list[tuple[int, int, list[tuple[str, str]]]], cursor: tuple[int, int]) -> str:
    out = []
    for y, x, line in rows:
        out.append(f"\x1b[{y + 1};{x + 1}H")
        width = x
        for sgr, text in line:
            fitting = ""
            for char in text:
                if width + get_character_cell_size(char) > W:
                    break
                fitting += char
                width += get_character_cell_size(char)
            if fitting:
                out.append(f"\x1b[{sgr}m{fitting}\x1b[0m" if sgr else fitting)
        out.append("\n")
    out.append(f"\x1b[{cursor[1] + 1};{cursor[0] + 1}H")
    return "".join(out)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(frame_rows, st.tuples(st.integers(0, W - 1), st.integers(0, H - 1)),
                          st.sampled_from(["", "\x1b[?25l", "\x1b[?1049h", "\x1b[2J"])), min_size=1, max_size=8))
def test_filtered_output_shows_the_same_screen(frames: list) -> None:
    plain, filtered, diff = Terminal(), Terminal(), ScreenDiff()
    diff.resize(W, H)
    sent = 0
    for rows, cursor, control in frames:
        data = render(rows, cursor)
        plain.write(data)
        filtered.write(out := diff.feed(data))
        sent += len(out)
        if control:
            plain.write(control)
            filtered.write(diff.feed(control))
            if control == "\x1b[2J":  # what ED 2 does, on both terminals
                plain.cells = [[(" ", frozenset())] * W for _ in range(H)]
                filtered.cells = [[(" ", frozenset())] * W for _ in range(H)]
        assert filtered.cells == plain.cells
        assert (filtered.x, filtered.y) == (plain.x, plain.y)


def test_an_unchanged_frame_costs_nothing_and_one_changed_cell_costs_one_cell() -> None:
    diff = ScreenDiff()
    diff.resize(20, 3)
    frame = "\x1b[1;1H\x1b[38;5;2mhandshake 12 s ago\x1b[0m\n\x1b[2;1Hrow two\x1b[1;1H"
    assert diff.feed(frame) != ""
    assert diff.feed(frame) == ""
    out = diff.feed(frame.replace("12 s", "13 s"))
    assert out == "\x1b[1;12H\x1b[0;38;5;2m3\x1b[0m\x1b[1;1H"


def test_what_is_not_understood_goes_through_and_resets() -> None:
    diff = ScreenDiff()
    diff.resize(10, 2)
    frame = "\x1b[1;1Hhello"
    diff.feed(frame)
    assert diff.feed("\x1b[?1049h") == "\x1b[?1049h"  # the alternate screen: nothing known any more
    assert diff.feed(frame) == "\x1b[1;1Hhello"
    assert diff.feed("\x1b[?25l\x1b[?2026h") == "\x1b[?25l\x1b[?2026h"  # modes: the screen is still known
    assert diff.feed(frame) == ""
    odd = "\x1b[1;1He\u0301"  # a combining mark: not a frame this filter handles
    assert diff.feed(odd) == odd


def _reference_sizes(text: str) -> tuple[int, ...] | None:
    """_sizes as it was: every character looked at."""
    if text.isascii():
        return None if text.isprintable() else (0,)
    sizes = tuple(get_character_cell_size(char) for char in text)
    return None if all(size == 1 for size in sizes) else sizes


_CHARS = st.sampled_from(list("ab 1·●↓↑○◆↻⊘▁▂▃█世界é\u0301\x07\u00ad\u200b"))


@given(st.lists(st.text(_CHARS, min_size=1, max_size=12), min_size=1, max_size=30))
@settings(max_examples=200)
def test_cell_sizes_of_text_runs_equal_a_look_at_every_character(texts: list[str]) -> None:
    """The table of narrow characters learnt from earlier runs never changes what a run's sizes are."""
    for text in texts:
        assert _sizes.__wrapped__(text) == _reference_sizes(text)
