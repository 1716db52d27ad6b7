"""Provides the help screen: every key the screen below has (from its bindings), the states, columns and source."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.console import Group as RichGroup
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from wgtui.ui.disabled_rows import DISABLED_GLYPH
from wgtui.ui.keymap import Group, HelpRow

KEY_WIDTH = 12


def _keys(rows: Sequence[HelpRow], read_only: bool) -> list[RenderableType]:
    """A title and a two-column grid per group: the keys, and what they do wrapped beside them."""
    out: list[RenderableType] = []
    grid: Table | None = None
    group: Group | str | None = ""
    for row in rows:
        if row.group != group or grid is None:
            group = row.group
            title = Text(f"\n{group if group is not None else 'Other keys'}", style="bold")
            if group is Group.CHANGE and read_only:
                title.append("  --read-only: these keys only say that they are off", style="yellow")
            grid = Table.grid(padding=(0, 1))
            grid.add_column(width=KEY_WIDTH, no_wrap=True)
            grid.add_column(ratio=1)
            out += [title, grid]
        style = "bold cyan" if row.available else "dim"
        what = Text(row.text, style="" if row.available else "dim")
        if not row.available and not read_only:
            what.append("  (not now)", style="dim")
        grid.add_row(Text(f" {row.keys}", style=style), what)
    return out


def help_text(rows: Sequence[HelpRow], online_after: float, notice: str | None, source: str,
              read_only: bool = False) -> RichGroup:
    head = Text("Keys", style="bold underline")
    head.append("  (from the bindings themselves: every key the screen has)", style="dim")
    text = Text()
    text.append("\nStates\n", style="bold")
    text.append("  ● online    ", style="green")
    text.append(f"handshake less than {int(online_after)} s ago (--online-after)\n")
    text.append("  ◐ stale     ", style="yellow")
    text.append("older handshake; an idle peer without keepalive\n              looks like this and may be fine\n")
    text.append("  ○ never     ", style="dim")
    text.append("no handshake since the peer was added\n")
    text.append(f"  {DISABLED_GLYPH} disabled  ", style="dim italic")
    text.append("commented out in the file (#[disabled]): off the interface,\n              never drift, "
                "not counted; x enables it again\n")
    text.append("\nColumns\n", style="bold")
    text.append("  ↓/s ↑/s: received/sent per second since the previous poll;\n"
                "  – means not measured yet, or a counter reset (peer re-added).\n"
                "  ▲ ▼ after a title: the rows are sorted by it, the values going up\n"
                "  (▲) or down (▼) the table; ●▲ over the state glyphs: by state.\n"
                "  A value ending in a highlighted … is cut to the column's width;\n"
                "  +N after allowed IPs: N more prefixes than the column holds.\n"
                "  key age: when wgtui made the key (– the file does not say);\n"
                "  ! 14w overdue (--max-key-age, or max_key_age in wgtui.json);\n"
                "  ↻ 3m a rotation pending for 3 minutes, ↻ new its new key.\n"
                "  ◆ in front of a peer: marked (space), for r.\n"
                "  + only on the interface, ✕ only in the file, ≠ they differ (y syncs).\n"
                "  Names come from comments in IF.conf (friendly_name, ### Client,\n"
                "  BEGIN_PEER, ### begin, Name =, #Name#, # Client:) or a peers file.\n")
    text.append("\nSource\n", style="bold")
    text.append(f"  {source}\n")
    if notice:
        text.append(f"  {notice}\n", style="yellow")
    if not read_only:
        text.append("\nChanges\n", style="bold")
        text.append("  Every change shows the diff of IF.conf first; y applies it live\n"
                    "  (no restart) and to the file, n or escape changes nothing.\n")
    return RichGroup(head, *_keys(rows, read_only), text)


class HelpScreen(ModalScreen[None]):
    """Every key, made from the bindings themselves."""

    ACCEPTS_TYPE_AHEAD = True
    """Its keys only look around (ui/key_order.py): keys typed before it appeared still count."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="close help"),
    ]

    def __init__(self, rows: Sequence[HelpRow], online_after: float, notice: str | None, source: str, *,
                 read_only: bool = False) -> None:
        super().__init__()
        self.rows = list(rows)
        self.body = help_text(self.rows, online_after, notice, source, read_only)

    @property
    def plain(self) -> str:
        """Everything help says, as plain text (tests search it)."""
        parts: list[str] = []
        for item in self.body.renderables:
            if isinstance(item, Text):
                parts.append(item.plain)
            elif isinstance(item, Table):
                parts += [f"{c.plain if isinstance(c, Text) else c}" for col in item.columns for c in col.cells]
        return "\n".join(parts)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "wgtui help"
            yield Static(self.body)
        yield Footer()
