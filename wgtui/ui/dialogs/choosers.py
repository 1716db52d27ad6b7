"""Provides the sort chooser and the column chooser (htop's F6 and F2): the table's view, chosen directly."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from wgtui.ui.columns import ALWAYS_SHOWN, COLUMNS, TITLES
from wgtui.ui.peer_rows import SORTS, Sort, arrow, order_words
from wgtui.ui.widgets.form_controls import check_mark, radio_mark

SORT_ORDER = (Sort.STATE, *(c.id for c in COLUMNS))
"""The state glyphs, then the columns as the table has them."""


@dataclass(frozen=True)
class SortChoice:
    sort: Sort
    reverse: bool


class SortChooser(ModalScreen[SortChoice | None]):
    """Every sort, the current one marked ( • ) with its order; enter takes the highlighted one in its usual order,
    r the other way round."""

    ACCEPTS_TYPE_AHEAD = True
    """Its keys only choose a view (ui/key_order.py): keys typed before it appeared still count."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose(False)", "Sort", id="sort.choose", priority=True,
                tooltip="sort by the highlighted column, in its usual order"),
        Binding("r", "choose(True)", "Reversed", id="sort.reversed", tooltip="sort by it the other way round"),
        Binding("escape", "cancel", "Cancel", id="sort.cancel", tooltip="keep the order as it is"),
    ]

    def __init__(self, sort: Sort, reverse: bool) -> None:
        super().__init__()
        self.sort = sort
        self.reverse = reverse

    def _prompt(self, sort: Sort) -> Text:
        current = sort == self.sort and sort in SORTS
        text = Text(f"{radio_mark(current)} ", style="bold" if current else "")
        text.append(f"{TITLES[sort]:<12}", style="bold" if current else "")
        reverse = self.reverse if current else False
        text.append(f"{arrow(sort, reverse)} {order_words(sort, reverse)}", style="" if current else "dim")
        if current:
            text.append("  (now)", style="dim")
        return text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="sort-box") as box:
            box.border_title = Content("Sort peers by")
            yield OptionList(*[Option(self._prompt(s), id=str(s)) for s in SORT_ORDER], id="sort-list")
            yield Static(Text("enter: this column, usual order · r: reversed · esc: as it was. ▲ the values go up the "
                              "table, ▼ they go down.", style="dim"), id="sort-help")
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one("#sort-list", OptionList)
        options.highlighted = SORT_ORDER.index(self.sort)
        options.focus()

    def action_choose(self, reverse: bool) -> None:
        index = self.query_one("#sort-list", OptionList).highlighted
        if index is not None:
            self.dismiss(SortChoice(SORT_ORDER[index], reverse))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ColumnChooser(ModalScreen[frozenset[Sort] | None]):
    """A box per column, [x] shown and [ ] hidden as text (no colour needed); dismisses with the hidden columns."""

    ACCEPTS_TYPE_AHEAD = True
    """Its keys only choose a view (ui/key_order.py): keys typed before it appeared still count."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "flip", "Show/hide", id="columns.toggle", tooltip="show or hide the highlighted column"),
        Binding("enter", "done", "Done", id="columns.done", priority=True, tooltip="use these columns"),
        Binding("escape", "cancel", "Cancel", id="columns.cancel", tooltip="keep the columns as they were"),
    ]

    def __init__(self, hidden: Iterable[Sort], sort: Sort) -> None:
        super().__init__()
        self.hidden = set(hidden)
        self.sort = sort
        self.columns = [c.id for c in COLUMNS]

    def _prompt(self, column: Sort) -> Text:
        fixed = column in ALWAYS_SHOWN
        shown = column not in self.hidden
        text = Text(f"{check_mark(shown)} ", style="bold" if shown else "dim")
        text.append(TITLES[column], style="" if shown else "dim")
        if fixed:
            text.append("  (always shown)", style="dim")
        elif column == self.sort:
            text.append("  (sorted by it: shown while it is)", style="dim")
        return text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="columns-box") as box:
            box.border_title = Content("Columns of the peer table")
            yield OptionList(*[Option(self._prompt(c), id=str(c)) for c in self.columns], id="columns-list")
            yield Static(Text("space: show or hide · enter: done · esc: as they were. Columns that do not fit the "
                              "terminal's width are left out, least important first.", style="dim"),
                         id="columns-help")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#columns-list", OptionList).focus()

    def action_flip(self) -> None:
        options = self.query_one("#columns-list", OptionList)
        index = options.highlighted
        if index is None:
            return
        column = self.columns[index]
        if column in ALWAYS_SHOWN:
            self.notify(f"The {TITLES[column]} column is always shown: every row is recognised by it.", timeout=3)
            return
        self.hidden.symmetric_difference_update({column})
        options.replace_option_prompt_at_index(index, self._prompt(column))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # a click selects: toggle, like space
        self.action_flip()

    def action_done(self) -> None:
        self.dismiss(frozenset(self.hidden))

    def action_cancel(self) -> None:
        self.dismiss(None)
