"""Provides the two-line header: the interfaces (the current one highlighted) and the current one's status."""

from __future__ import annotations

import os
from collections.abc import Sequence

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static

from wgtui import fmt
from wgtui.keys import short_key
from wgtui.monitor import InterfaceSummary
from wgtui.ui.words import for_this_user


def header_text(names: Sequence[str], current: str | None, summary: InterfaceSummary | None,
                full_keys: bool, badge: str, *, marked: int = 0, pending: int = 0, no_file: bool = False,
                file_error: str | None = None, title: str = "wgtui") -> Text:
    """Line one: the title (wgtui, or the remote host's name), the interfaces, a badge, and the current one's
    marks and pending rotations (which r and R act on); line two: its state and totals, and what is wrong with its
    config file (none: w writes one)."""
    text = Text(f" {title} ", style="bold")
    for name in names:
        text.append(" ")
        text.append(f" {name} ", style="reverse bold" if name == current else "dim")
    if badge:
        text.append("  ")
        text.append(f" {badge} ", style="black on yellow")
    if marked:
        text.append(f"  ◆ {marked} marked", style="bold")
        text.append(" (r rotates, u clears)", style="dim")
    if pending:
        text.append(f"  ↻ {pending} rotation{'s' if pending != 1 else ''} pending", style="bold")
        text.append(" (R)", style="dim")
    text.append("\n ")
    if summary is None:
        text.append("no WireGuard interface to show", style="dim")
        return text
    state = summary.state
    if not state.up:
        text.append("○ down", style="red bold")
        # The backend's sentence, without advice to use sudo when root reads it.
        text.append(f" · {for_this_user(state.error, os.geteuid()) or 'interface is down'}", style="red")
        return text
    text.append("● up", style="green bold")
    text.append(f" · {state.backend}")
    text.append(f" · :{state.listen_port}")
    text.append(f" · {short_key(state.public_key, full_keys)}")
    text.append(" · ")
    text.append(f"{summary.online}/{summary.total} online", style="bold")
    text.append(f" · ↓ {fmt.rate(summary.rx_rate)} ↑ {fmt.rate(summary.tx_rate)}")
    if no_file:
        text.append(" · ", style="dim")
        text.append(f"no {summary.name}.conf", style="bold yellow")
        text.append(" (w writes it from the interface)", style="yellow")
    elif file_error:
        text.append(" · ", style="dim")
        text.append(file_error, style="yellow")
    return text


class InterfaceHeader(Static):
    """Re-rendered once per poll: its cost does not depend on the number of peers."""

    DEFAULT_CSS = """
    InterfaceHeader { height: 2; background: $panel; }
    """

    _shown: VisualType | None = None

    def update(self, content: VisualType = "", *, layout: bool = False) -> None:
        # Always two lines high: a new text never needs the layout pass (a re-arrangement of the whole screen) that
        # Static.update asks for by default, and the same text needs no redraw at all.
        if content == self._shown:
            return
        self._shown = content
        super().update(content, layout=layout)
