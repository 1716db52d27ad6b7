"""TextLines (the dashboard's header and detail pane) draws exactly what a Static draws for the same text, wrapped
lines included, and draws again only the lines whose text changed."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.visual import Visual
from textual.widgets import Static

from wgtui.ui.widgets.text_lines import TextLines

WIDTH = 24


def pane(handshake: str, total: str) -> Text:
    """Four lines like the detail pane's; the second is longer than WIDTH, so it wraps."""
    text = Text()
    text.append("● online", style="green")
    text.append(" · ", style="dim")
    text.append(f"handshake {handshake}")
    text.append("\nallowed 10.0.0.2/32, fd00::2/128 · keepalive 25 s", style="bold")
    text.append("\n")
    text.append("total ", style="dim")
    text.append(total, style="yellow")
    text.append("\n\n  last", style="italic")
    return text


class Pair(App[None]):
    CSS = f"Static {{ width: {WIDTH}; height: auto; background: $panel; }}"

    def compose(self) -> ComposeResult:
        yield Static(id="static")
        yield TextLines(id="lines")


def drawn(widget: Static) -> list[list[Segment]]:
    return [list(strip) for strip in widget.render_lines(Region(0, 0, *widget.size))]


async def show(app: Pair, pilot: Any, text: Text) -> tuple[list[list[Segment]], list[list[Segment]]]:
    app.query_one("#static", Static).update(text)
    app.query_one("#lines", TextLines).update(text)
    await pilot.pause()
    return drawn(app.query_one("#static", Static)), drawn(app.query_one("#lines", TextLines))


async def test_lines_are_a_statics_lines_and_only_changed_lines_are_drawn_again() -> None:
    app = Pair()
    async with app.run_test(size=(60, 20)) as pilot:
        static, lines = await show(app, pilot, pane("3 seconds ago", "↓ 1.0 MB ↑ 2.0 MB"))
        assert len(lines) == app.query_one("#lines", TextLines).size.height > 5  # the long line wrapped
        assert lines == static
        with patch.object(Visual, "to_strips", wraps=Visual.to_strips) as to_strips:
            static, lines = await show(app, pilot, pane("4 seconds ago", "↓ 1.0 MB ↑ 2.0 MB"))
            drew = [call.args[0] for call in to_strips.call_args_list]
        assert lines == static
        assert "".join(s.text for s in lines[0]).startswith("● online · handshake 4")
        # The Static drew its whole text once; TextLines only the first line (the others are as they were).
        assert [type(w).__name__ for w in drew].count("TextLines") == 1
        with patch.object(Visual, "to_strips", wraps=Visual.to_strips) as to_strips:
            static, lines = await show(app, pilot, pane("4 seconds ago", "↓ 1.1 MB ↑ 2.0 MB"))
            drew = [call.args[0] for call in to_strips.call_args_list]
        assert lines == static
        assert [type(w).__name__ for w in drew].count("TextLines") == 1
