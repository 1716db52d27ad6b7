"""Provides the sync chooser: every peer where file and interface disagree, and which side wins for each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, OptionList, Static
from textual.widgets.option_list import Option

from wgtui import keys
from wgtui.changes.sync import Side, default_side, sync_note
from wgtui.conf import PeerView
from wgtui.drift import Drift
from wgtui.model import PeerState
from wgtui.ui.widgets.form_controls import radio_mark


@dataclass(frozen=True)
class DriftItem:
    public_key: str
    name: str
    drift: tuple[Drift, ...]
    live: PeerState | None = None
    """The peer as the interface has it (None: only in the file)."""
    file: PeerView | None = None
    """The peer as the file has it (None: only on the interface)."""

    @property
    def label(self) -> str:
        return self.name or keys.short_key(self.public_key)

    def effect(self, side: Side) -> str:
        """What choosing `side` does to this peer, with both sides' values, in the core's words (the preview's notes
        say the same)."""
        return sync_note(self.label, self.drift, side, self.live, self.file)


def _other(side: Side) -> Side:
    return "runtime" if side == "file" else "file"


class SyncScreen(ModalScreen[dict[str, Side] | None]):
    """Space (or ← →) flips the winning side of the highlighted peer; enter goes on to the diff preview."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space,left,right", "flip", "Flip side", id="sync.flip",
                tooltip="the other side wins for the highlighted peer"),
        Binding("f", "all('file')", "All: file wins", id="sync.all_file", tooltip="the file wins for every peer"),
        Binding("R", "all('runtime')", "All: interface wins", id="sync.all_runtime",
                tooltip="the interface wins for every peer"),
        Binding("enter", "preview", "Preview", id="sync.preview", priority=True,
                tooltip="preview the diff of these choices"),
        Binding("escape", "cancel", "Cancel", id="sync.cancel", tooltip="change nothing"),
    ]

    def __init__(self, ifname: str, items: list[DriftItem]) -> None:
        super().__init__()
        self.ifname = ifname
        self.items = items
        self.sides: dict[str, Side] = {i.public_key: default_side(i.drift) for i in items}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -tall", id="sync-box") as box:
            box.border_title = Content(f"Sync {self.ifname}: {len(self.items)} peer(s) differ")
            yield Static(Text("For each peer, which side wins, and what that does (space: the other side). The "
                              "defaults delete nothing: a peer only on the interface is written into the file, a "
                              "peer only in the file is brought up, and for differing fields the file wins.",
                              style="dim"), id="sync-help")
            yield OptionList(*[self._option(i) for i in self.items], id="sync-list")
            with Horizontal(classes="buttons"):
                yield Button("Preview (enter)", id="preview", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)
        yield Footer()

    def _prompt(self, item: DriftItem) -> RenderableType:
        side = self.sides[item.public_key]
        text = Text()
        # The side as text, ( • ) chosen: readable without colour.
        text.append(f"{radio_mark(side == 'file')} file wins  {radio_mark(side == 'runtime')} interface wins  ",
                    style="bold")
        text.append(item.label)  # a Text: names are never markup
        effect = item.effect(side)
        loses = "REMOVED" in effect or "DELETED" in effect
        # What each choice does, wrapped under itself (a grid keeps the indent of a long line's continuation).
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=13, justify="right")
        grid.add_column(ratio=1)
        grid.add_row(Text("→", style="bold"), Text(effect, style="bold red" if loses else ""))
        grid.add_row(Text("space instead", style="dim"), Text(item.effect(_other(side)), style="dim"))
        return Group(text, grid)

    def _option(self, item: DriftItem) -> Option:
        return Option(self._prompt(item), id=item.public_key)

    def action_flip(self) -> None:
        ol = self.query_one("#sync-list", OptionList)
        index = ol.highlighted
        if index is None:
            return
        item = self.items[index]
        self.sides[item.public_key] = _other(self.sides[item.public_key])
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


def drift_items(drift: Mapping[str, tuple[Drift, ...]], names: Mapping[str, str],
                live: Mapping[str, PeerState] | None = None,
                file: Mapping[str, PeerView] | None = None) -> list[DriftItem]:
    """By name, unnamed peers (by key) last, like the dashboard's name order; each with both sides' values."""
    live, file = live or {}, file or {}
    items = [DriftItem(k, names.get(k, ""), d, live.get(k), file.get(k)) for k, d in drift.items()]
    return sorted(items, key=lambda i: (i.name or "~" + i.public_key).casefold())
