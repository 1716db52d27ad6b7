"""The table's own drawing shortcuts give what Textual's own path gives: finished lines (padding, line filters),
the scrollbar drawn straight into strips, and line lengths known without measuring."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

from rich.segment import Segment
from textual.geometry import Region
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget

from tests.ui.helpers import demo_app, first_poll
from wgtui.ui.columns import CellContext
from wgtui.ui.widgets.peer_line import line_segments, line_strip
from wgtui.ui.widgets.peer_table import PeerTable
from wgtui.ui.widgets.thumb_scrollbar import ThumbScrollBar


def textual_lines(table: PeerTable, crop: Region) -> list[list[Segment]]:
    """The table's lines through Textual's line cache (Widget.render_lines), from scratch, as far as they show: the
    column under the scrollbar is the scrollbar's (Textual draws the line under it too, then the compositor cuts
    it off)."""
    table._styles_cache.clear()
    table._forget_drawn()
    return [list(strip.crop(0, shown_width(table, crop))) for strip in Widget.render_lines(table, crop)]


def shown_width(table: PeerTable, crop: Region) -> int:
    """Cells of the lines in `crop` that are not under the vertical scrollbar."""
    return min(crop.right, table.scrollable_content_region.width) - crop.x


async def test_finished_lines_are_textuals_lines(tmp_path: Path) -> None:
    app, clock = demo_app(tmp_path, peers=300)
    async with app.run_test(size=(120, 30)) as pilot:
        await first_poll(app, pilot)
        table = app.dashboard.table
        compared = 0
        for step in range(4):
            clock.tick(1)
            await first_poll(app, pilot)
            if step == 1:
                await pilot.press("space")  # a marked row
            if step == 2:
                await pilot.press("pagedown")  # scrolled
            if step == 3:
                table.blur()  # the cursor line without focus
                await pilot.pause()
            assert table.show_vertical_scrollbar
            for crop in (Region(0, 0, *table.size), Region(3, 2, 50, 5)):
                mine = table.render_lines(crop)
                assert [list(strip) for strip in mine] == textual_lines(table, crop)
                assert all(strip.cell_length == shown_width(table, crop) for strip in mine)
                compared += len(mine)
        assert compared >= 100  # four updates, a whole screen and a part each time


async def test_the_scrollbar_draws_what_textuals_draws_and_repaints_only_when_its_thumb_moves(tmp_path: Path) -> None:
    app, _clock = demo_app(tmp_path, peers=2000)
    async with app.run_test(size=(100, 30)) as pilot:
        await first_poll(app, pilot)
        bar = app.dashboard.table.vertical_scrollbar
        assert isinstance(bar, ThumbScrollBar) and bar.display
        whole = Region(0, 0, 1, bar.size.height)
        for position in (0.0, 5.5, 100.0, 1000.125, 1960.0, 1980.0):
            bar.position = position
            mine = [list(strip) for strip in bar.render_lines(whole)]
            bar.refresh()
            assert mine == [list(strip) for strip in ScrollBar.render_lines(bar, whole)]
        bar.position = 1000.0
        with patch.object(ThumbScrollBar, "refresh") as refresh:
            bar.position = 1001.0  # a row of 2,000: the thumb moves an eighth of a cell every ~10 rows
            assert not refresh.called
            bar.position = 1500.0
            assert refresh.called


async def test_a_lines_known_length_is_its_measured_length(tmp_path: Path) -> None:
    app, clock = demo_app(tmp_path, peers=200)
    async with app.run_test(size=(160, 30)) as pilot:
        await first_poll(app, pilot)
        table = app.dashboard.table
        lay = table.columns
        ctx = CellContext(clock(), False, 0.0)
        pad = table._style("cell")

        def style_of(part: str, seen: object) -> object:
            return table._style(part, seen)  # type: ignore[arg-type]

        for index in range(len(table.model)):
            row = table.model[index]
            cells = lay.cells(row, ctx)
            for marked in (False, True):
                segments = line_segments(row, cells, lay, marked, ctx.now, 0.0, style_of)  # type: ignore[arg-type]
                for width in (table.size.width - 1, 40):  # padded, and cut
                    known = line_strip(row, cells, lay, marked, ctx.now, 0.0, style_of,  # type: ignore[arg-type]
                                       width, pad)
                    measured = Strip(segments).adjust_cell_length(width, pad)
                    assert list(known) == list(measured) and known.cell_length == measured.cell_length == width
