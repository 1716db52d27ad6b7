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
    ("↑ ↓", "move the cursor"),
    ("PgUp PgDn", "a page up or down"),
    ("Home End", "first or last peer (also g, G)"),
    ("enter", "all details of the highlighted peer"),
    ("/", "filter by name, key, endpoint or IP;\n              `overdue`: keys older than the policy"),
    ("escape", "clear the filter"),
    ("s / S", "sort by the next column / reverse"),
    ("i / I", "next / previous interface"),
    ("k", "full public keys (private: never)"),
    ("p", "hide or show the detail pane"),
    ("ctrl+p", "command palette: every action"),
    ("?", "this help"),
    ("q", "quit"),
]
CHANGE_KEYS = [
    ("a", "add a peer (form, then the diff preview)"),
    ("e", "edit the highlighted peer"),
    ("d", "remove the highlighted peer (confirm, diff)"),
    ("r", "rotate its key: staged, now, or preshared key;\n              with marks: the marked peers, in one session"),
    ("R", "pending rotations: watch, finish or cancel them"),
    ("space", "mark or unmark the highlighted peer"),
    ("m / u", "mark every peer shown (the filter) / unmark all"),
    ("c", "show the client config wgtui saved for it"),
    ("y", "sync: resolve drift (+ ✕ ≠ marks) peer by peer"),
]


def help_text(online_after: float, notice: str | None, source: str, read_only: bool = False) -> Text:
    text = Text()
    text.append("Keys\n", style="bold")
    for key, what in KEYS:
        text.append(f"  {key:<12}", style="bold cyan")
        text.append(f"{what}\n")
    text.append("\nStates\n", style="bold")
    text.append("  ● online    ", style="green")
    text.append(f"handshake less than {int(online_after)} s ago (--online-after)\n")
    text.append("  ◐ stale     ", style="yellow")
    text.append("older handshake; an idle peer without keepalive\n              looks like this and may be fine\n")
    text.append("  ○ never     ", style="dim")
    text.append("no handshake since the peer was added\n")
    text.append("\nColumns\n", style="bold")
    text.append("  ↓/s ↑/s: received/sent per second since the previous poll;\n"
                "  – means not measured yet, or a counter reset (peer re-added).\n"
                "  key age: when wgtui made the key (– the file does not say);\n"
                "  ! 14w overdue (--max-key-age, or max_key_age in wgtui.json);\n"
                "  ↻ 3m a rotation pending for 3 minutes, ↻ new its new key.\n"
                "  ◆ in front of a peer: marked (space), for r.\n"
                "  Names come from comments in IF.conf (friendly_name, ### Client,\n"
                "  BEGIN_PEER, ### begin, Name =, #Name#) or from a peers file.\n")
    text.append("\nSource\n", style="bold")
    text.append(f"  {source}\n")
    if notice:
        text.append(f"  {notice}\n", style="yellow")
    text.append("\nChanges\n", style="bold")
    if read_only:
        text.append("  --read-only: every change action is hidden.\n")
    else:
        for key, what in CHANGE_KEYS:
            text.append(f"  {key:<12}", style="bold cyan")
            text.append(f"{what}\n")
        text.append("  Every change shows the diff of IF.conf first; y applies it live\n"
                    "  (no restart) and to the file, n or escape changes nothing.\n")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, online_after: float, notice: str | None, source: str, *, read_only: bool = False) -> None:
        super().__init__()
        self.body = help_text(online_after, notice, source, read_only)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "wgtui help"
            yield Static(self.body)
        yield Footer()
