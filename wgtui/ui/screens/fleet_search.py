"""Provides the fleet's peer search: type a name, a key prefix or an address; enter opens the peer's host."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Input, Static

from wgtui.remote.watch import Found
from wgtui.ui import keymap
from wgtui.ui.fleet_lines import found_lines
from wgtui.ui.widgets.footer import RankedFooter
from wgtui.ui.widgets.line_table import LineTable

LIMIT = 200
"""Peers shown at most: a query of one letter on a large fleet would otherwise list every peer."""


class FleetSearchScreen(Screen[Found | None]):
    """Dismisses with the peer chosen (enter) or None (escape). The search runs in a thread, the latest query
    only: typing never waits for it."""

    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.FLEET_SEARCH)

    def __init__(self, search: Callable[[str], list[Found]], *, clock: Callable[[], float], query: str = "") -> None:
        super().__init__()
        self.search = search
        self.clock = clock
        self.query_text = query
        self.found: list[Found] = []

    def compose(self) -> ComposeResult:
        yield Static(" Find a peer on every host", id="search-title")
        yield Input(self.query_text, placeholder="name, public key (its start), or an address (10.0.0.7 finds the "
                    "peer whose prefix holds it)", id="fleet-query", compact=True)
        yield Static(id="search-count", markup=False)
        yield LineTable(empty_text="Type to search.", id="found")
        yield RankedFooter(keymap.FOOTER_RANK)

    def on_mount(self) -> None:
        self.query_one("#fleet-query", Input).focus()
        if self.query_text:
            self._search(self.query_text)

    @property
    def table(self) -> LineTable:
        return self.query_one("#found", LineTable)

    @on(Input.Changed, "#fleet-query")
    def _changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._search(event.value)

    @work(exclusive=True, group="fleet-search", exit_on_error=False)
    async def _search(self, query: str) -> None:
        found = await asyncio.to_thread(self.search, query) if query.strip() else []
        if query != self.query_text:
            return  # typed on meanwhile: that search follows
        self.found = found[:LIMIT]
        self._show()

    def _show(self) -> None:
        table = self.table
        width = table.scrollable_content_region.width or self.app.size.width
        head, lines = found_lines(self.found, width, self.clock())
        empty = "Type to search." if not self.query_text.strip() else "No peer matches on any host."
        table.set_lines(head, lines, empty_text=empty)
        table.cursor = 0
        hosts = len({f.host for f in self.found})
        count = "" if not self.found else (
            f" {len(self.found)} peer{'s' if len(self.found) != 1 else ''} on {hosts} host{'s' if hosts != 1 else ''}"
            + (f" (the first {LIMIT})" if len(self.found) >= LIMIT else "") + "; enter opens the highlighted one")
        self.query_one("#search-count", Static).update(count)

    @on(Input.Submitted, "#fleet-query")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_open_found()

    def action_open_found(self) -> None:
        if not self.found:
            self.notify("No peer is found yet: type a name, a key or an address.", severity="warning", timeout=3)
            return
        self.dismiss(self.found[min(self.table.cursor, len(self.found) - 1)])

    def action_close(self) -> None:
        self.dismiss(None)

    def action_move(self, delta: int) -> None:
        self.table.cursor += delta
