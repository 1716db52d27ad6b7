"""Provides the sync chooser: every peer where file and interface disagree, and which side wins for each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, OptionList, Static
from textual.widgets.option_list import Option

from wgtui import keys
from wgtui.changes.sync import Side, default_side
from wgtui.drift import Drift, describe


@dataclass(frozen=True)
class DriftItem:
    public_key: str
    name: str
    drift: tuple[Drift, ...]


def _effect(item: DriftItem, side: Side) -> str:
    """What choosing `side` does to this peer, in words (removals spelled out: they cut a client off)."""
    if side == "file":
        if Drift.RUNTIME_ONLY in item.drift:
            return "REMOVE it from the interface (its client is cut off)"
        if Drift.FILE_ONLY in item.drift:
            return "bring it up on the interface"
        return "set the interface to the file's values"
    if Drift.FILE_ONLY in item.drift:
        return "remove it from the file"
    if Drift.RUNTIME_ONLY in item.drift:
        return "add it to the file"
    return "write the interface's values into the file"


class SyncScreen(ModalScreen[dict[str, Side] | None]):
    """Space (or ← →) flips the winning side of the highlighted peer; enter goes on to the diff preview."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space,left,right", "flip", "Flip side", id="sync.flip"),
        Binding("f", "all('file')", "All: file wins", id="sync.all_file"),
        Binding("R", "all('runtime')", "All: interface wins", id="sync.all_runtime"),
        Binding("enter", "preview", "Preview", id="sync.preview", priority=True),
        Binding("escape", "cancel", "Cancel", id="sync.cancel"),
    ]

    def __init__(self, ifname: str, items: list[DriftItem]) -> None:
        super().__init__()
        self.ifname = ifname
        self.items = items
        self.sides: dict[str, Side] = {i.public_key: default_side(i.drift) for i in items}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -tall", id="sync-box") as box:
            box.border_title = Content(f"Sync {self.ifname}: {len(self.items)} peer(s) differ")
            yield Static(Text("For each peer, which side wins. The defaults delete nothing: a peer only on the "
                              "interface is written into the file, a peer only in the file is brought up, and "
                              "for differing fields the file wins.", style="dim"), id="sync-help")
            yield OptionList(*[self._option(i) for i in self.items], id="sync-list")
            with Horizontal(classes="buttons"):
                yield Button("Preview (enter)", id="preview", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)
        yield Footer()

    def _prompt(self, item: DriftItem) -> Text:
        side = self.sides[item.public_key]
        text = Text()
        text.append("file wins     " if side == "file" else "interface wins", style="bold cyan")
        text.append("  ")
        text.append(item.name or keys.short_key(item.public_key))  # a Text: names are never markup
        text.append(f"  {describe(item.drift)}", style="yellow")
        effect = _effect(item, side)
        text.append(f"\n                → {effect}", style="bold red" if effect.startswith("REMOVE") else "dim")
        return text

    def _option(self, item: DriftItem) -> Option:
        return Option(self._prompt(item), id=item.public_key)

    def action_flip(self) -> None:
        ol = self.query_one("#sync-list", OptionList)
        index = ol.highlighted
        if index is None:
            return
        item = self.items[index]
        self.sides[item.public_key] = "runtime" if self.sides[item.public_key] == "file" else "file"
        ol.replace_option_prompt_at_index(index, self._prompt(item))

    def action_all(self, side: Side) -> None:
        ol = self.query_one("#sync-list", OptionList)
        for index, item in enumerate(self.items):
            self.sides[item.public_key] = side
            ol.replace_option_prompt_at_index(index, self._prompt(item))

    def action_preview(self) -> None:
        self.dismiss(dict(self.sides))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(dict(self.sides) if event.button.id == "preview" else None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_flip()


def drift_items(drift: Mapping[str, tuple[Drift, ...]], names: Mapping[str, str]) -> list[DriftItem]:
    """By name, unnamed peers (by key) last, like the dashboard's name order."""
    items = [DriftItem(k, names.get(k, ""), d) for k, d in drift.items()]
    return sorted(items, key=lambda i: (i.name or "~" + i.public_key).casefold())
