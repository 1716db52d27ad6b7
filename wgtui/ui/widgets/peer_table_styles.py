"""Provides the peer table's look: its CSS, component classes and the Rich style of each part of a line."""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget

from wgtui.model import PeerStatus
from wgtui.ui.widgets.peer_line import DISABLED

PEER_TABLE_CSS = """
PeerTable { background: $surface; overflow-x: hidden; }
PeerTable > .peer-table--header { text-style: bold; color: $text-muted; }
PeerTable > .peer-table--cursor { background: $accent 40%; }
PeerTable:focus > .peer-table--cursor { background: $accent; color: $text; }
PeerTable > .peer-table--online { color: $success; }
PeerTable > .peer-table--stale { color: $warning; }
PeerTable > .peer-table--never { color: $text-disabled; }
PeerTable > .peer-table--disabled { color: $text-disabled; text-style: italic; }
PeerTable > .peer-table--cut { text-style: reverse; }
PeerTable > .peer-table--dim { color: $text-muted; }
PeerTable > .peer-table--empty { color: $text-muted; text-style: italic; }
PeerTable > .peer-table--mark { color: $accent; text-style: bold; }
PeerTable > .peer-table--overdue { color: $error; text-style: bold; }
PeerTable > .peer-table--rotating { color: $accent; text-style: bold; }
"""

PEER_TABLE_COMPONENTS: set[str] = {
    "peer-table--header", "peer-table--cursor", "peer-table--online", "peer-table--stale",
    "peer-table--never", "peer-table--dim", "peer-table--empty", "peer-table--mark", "peer-table--overdue",
    "peer-table--rotating", "peer-table--disabled", "peer-table--cut",
}


def part_style(table: Widget, part: str, status: PeerStatus | str | None, cursor: bool) -> Style:
    """The Rich style of one part of a line of `table` under its current CSS (uncached: `rich_style` walks the
    ancestors' backgrounds, so the table keeps what this returns)."""
    if part == "cut":
        # Laid over a cell's own style (dim, cursor…): only what marks the cut, nothing that would undo those.
        return table.get_component_rich_style("peer-table--cut")
    base = table.rich_style
    if part == "state":
        assert status is not None
        style = base + table.get_component_rich_style(f"peer-table--{status}")
    elif part == "cell":
        style = base + (table.get_component_rich_style("peer-table--dim") if status is PeerStatus.NEVER
                        else table.get_component_rich_style("peer-table--disabled") if status == DISABLED
                        else Style())
    else:
        style = base + table.get_component_rich_style(f"peer-table--{part}")
    if cursor:
        style += table.get_component_rich_style("peer-table--cursor")
    return style
