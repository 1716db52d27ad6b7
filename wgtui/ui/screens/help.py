"""Provides the help screen: keys, what the columns and states mean, and where the data comes from."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

KEYS = [
    ("↑ ↓ PgUp PgDn Home End", "move the cursor"),
    ("enter", "all details of the highlighted peer"),
    ("/", "filter by name, key, endpoint or IP (escape clears)"),
    ("s / S", "sort by the next column / reverse the order"),
    ("i / I", "next / previous interface"),
    ("k", "show full public keys (private keys are never shown)"),
    ("p", "hide or show the detail pane"),
    ("ctrl+p", "command palette: every action by name"),
    ("?", "this help"),
    ("q", "quit"),
]


def help_text(online_after: float, notice: str | None, source: str) -> Text:
    text = Text()
    text.append("Keys\n", style="bold")
    for key, what in KEYS:
        text.append(f"  {key:<24}", style="bold cyan")
        text.append(f"{what}\n")
    text.append("\nStates\n", style="bold")
    text.append("  ● online", style="green")
    text.append(f"  latest handshake less than {int(online_after)} s ago (--online-after)\n")
    text.append("  ◐ stale ", style="yellow")
    text.append("  older handshake: an idle peer without keepalive looks like this and may be fine\n")
    text.append("  ○ never ", style="dim")
    text.append("  no handshake since the peer was added\n")
    text.append("\nColumns\n", style="bold")
    text.append("  ↓/s ↑/s are received/sent per second since the previous poll; – means no measurement yet\n"
                "  or a counter reset (peer re-added). Names come from comments in the config file.\n")
    text.append("\nSource\n", style="bold")
    text.append(f"  {source}\n")
    if notice:
        text.append(f"  {notice}\n", style="yellow")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, online_after: float, notice: str | None, source: str) -> None:
        super().__init__()
        self.body = help_text(online_after, notice, source)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "wgtui help"
            yield Static(self.body)
        yield Footer()
