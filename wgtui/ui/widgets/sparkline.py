"""Provides a one-line traffic sparkline widget drawn with block characters."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

BARS = " ▁▂▃▄▅▆▇█"


def resample(values: Sequence[int], width: int) -> list[int]:
    """Fit `values` into `width` columns, summing neighbours (so that no burst is lost by downsampling)."""
    if width <= 0 or not values:
        return []
    if len(values) <= width:
        return list(values)
    out = []
    n = len(values)
    for col in range(width):
        start, stop = col * n // width, (col + 1) * n // width
        out.append(sum(values[start:stop]))
    return out


def sparkline_text(values: Sequence[int], width: int) -> str:
    """Block characters scaled to the largest value; all-zero history is a flat baseline, not noise."""
    cols = resample(values, width)
    peak = max(cols, default=0)
    if peak <= 0:
        return "▁" * len(cols)
    return "".join(BARS[1 + (v * 7 + peak - 1) // peak] if v > 0 else BARS[1] for v in cols)


class Sparkline(Widget):
    """A labelled one-line history: `↓ ▁▂▅█▃ peak 1.2 MB/s`."""

    DEFAULT_CSS = """
    Sparkline { height: 1; width: 1fr; }
    """

    values: reactive[tuple[int, ...]] = reactive(())
    label: reactive[str] = reactive("")
    suffix: reactive[str] = reactive("")

    def render(self) -> Text:
        room = max(0, self.size.width - len(self.label) - len(self.suffix) - 2)
        return Text.assemble((self.label + " ", "bold"), (sparkline_text(self.values, room), "green"),
                             (" " + self.suffix, "dim"))
