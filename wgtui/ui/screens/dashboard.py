"""Provides the dashboard screen: interface header, peer table, filter box and detail pane, fed by monitor deltas."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from wgtui.monitor import InterfaceSummary, Update
from wgtui.ui.columns import COLUMNS
from wgtui.ui.peer_rows import PeerRows
from wgtui.ui.widgets.interface_header import InterfaceHeader, header_text
from wgtui.ui.widgets.peer_detail import PeerDetail
from wgtui.ui.widgets.peer_table import PeerTable

if TYPE_CHECKING:
    from wgtui.ui.app import WgtuiApp

SORT_CYCLE = ("state", "name", "handshake", "rx_rate", "tx_rate", "endpoint", "allowed", "rx", "tx", "key")
SORT_TITLES = {c.id: c.title for c in COLUMNS} | {"state": "state"}
CHANGE_ACTIONS = frozenset({"add_peer", "edit_peer", "remove_peer", "rotate_peer", "client_config", "sync"})
"""Hidden and disabled with --read-only (the client config too: it shows a private key)."""


class DashboardScreen(Screen[None]):
    """Everything here is driven by `apply_update`; no widget reads the backend itself."""

    # At 80 columns the footer holds eight entries: the change keys, filter, sort, help and quit. The rest is
    # in help (?) and the command palette (ctrl+p).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add_peer", "Add", id="dashboard.add_peer"),
        Binding("e", "edit_peer", "Edit", id="dashboard.edit_peer"),
        Binding("d", "remove_peer", "Remove", id="dashboard.remove_peer"),
        Binding("r", "rotate_peer", "Rotate", id="dashboard.rotate_peer"),
        Binding("c", "client_config", "Client config", id="dashboard.client_config", show=False),
        Binding("y", "sync", "Sync", id="dashboard.sync", show=False),
        Binding("slash", "filter", "Filter", id="dashboard.filter"),
        Binding("s", "sort_next", "Sort", id="dashboard.sort"),
        Binding("S", "sort_reverse", "Reverse", id="dashboard.sort_reverse", show=False),
        Binding("i", "next_interface", "Interface", id="dashboard.next_interface", show=False),
        Binding("I", "next_interface(-1)", "Prev. interface", id="dashboard.prev_interface", show=False),
        Binding("k", "toggle_keys", "Keys", id="dashboard.toggle_keys", show=False),
        Binding("enter", "open_detail", "Details", id="dashboard.open_detail", show=False),
        Binding("p", "toggle_pane", "Pane", id="dashboard.toggle_pane", show=False),
        Binding("escape", "clear_filter", "Clear filter", id="dashboard.clear_filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.models: dict[str, PeerRows] = {}
        self.summaries: dict[str, InterfaceSummary] = {}
        self.current: str | None = None
        self.sort = "state"
        self.reverse = False
        self.needle = ""
        self.last_time = 0.0
        self.select_when_seen: tuple[str, str] | None = None
        """(interface, key) of a peer a change just added: the cursor goes to it once a poll shows it."""

    @property
    def wgtui(self) -> WgtuiApp:
        from wgtui.ui.app import WgtuiApp

        assert isinstance(self.app, WgtuiApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield InterfaceHeader(id="header")
        notice = self.wgtui.options.notice
        yield Static(notice or "", id="notice", classes="" if notice else "hidden", markup=False)
        table = PeerTable(self.wgtui.clock, id="peers")
        table.empty_text = "Waiting for the first poll…"
        yield table
        yield Input(placeholder="filter: name, key, endpoint or IP (enter keeps, escape clears)", id="filter",
                    classes="hidden", compact=True)
        yield PeerDetail(id="detail")
        # The palette key is listed in help: at 80 columns the footer has no room for it.
        yield Footer(show_command_palette=False)

    @property
    def table(self) -> PeerTable:
        return self.query_one("#peers", PeerTable)

    # -- updates from the monitor ----------------------------------------------------------------------------

    def apply_update(self, update: Update) -> None:
        """Apply one poll's deltas: the work is proportional to what changed, plus the lines on screen."""
        self.last_time = update.time
        seen = set()
        table = self.table
        for delta in update.interfaces:
            seen.add(delta.name)
            model = self.models.get(delta.name)
            if model is None:
                model = self.models[delta.name] = PeerRows(self.sort, self.reverse, self.needle)
            change = model.apply(delta)
            self.summaries[delta.name] = delta.summary
            if delta.name == self.current:
                table.model_changed(change)
        for gone in set(self.models) - seen:
            del self.models[gone]
            del self.summaries[gone]
        if self.current not in self.models:
            self.switch_to(self._first_interface())
        else:
            table.refresh_changed()
        if not self.models:
            table.empty_text = "No WireGuard interface found. Start `wgtui --demo` to see simulated peers."
        pending = self.select_when_seen
        if pending is not None and pending[0] == self.current and table.select_key(pending[1]):
            self.select_when_seen = None
        self.refresh_header()
        self.refresh_detail()

    def _first_interface(self) -> str | None:
        """The first --interface given, else the busiest interface (the one the admin most likely came for)."""
        for name in self.wgtui.options.interfaces or ():
            if name in self.models:
                return name
        return max(sorted(self.models), key=lambda n: self.summaries[n].total, default=None)

    def switch_to(self, name: str | None) -> None:
        self.current = name
        table = self.table
        table.empty_text = "No peers match the filter (escape clears it)." if self.needle else "No peers."
        table.set_model(self.models[name] if name is not None else PeerRows(self.sort, self.reverse))
        self.refresh_header()
        self.refresh_detail()

    def refresh_header(self) -> None:
        summary = self.summaries.get(self.current) if self.current else None
        badge = "DEMO" if self.wgtui.is_demo else ""
        if self.wgtui.options.read_only:
            badge = f"{badge} read-only".strip()
        self.query_one("#header", InterfaceHeader).update(
            header_text(sorted(self.models), self.current, summary, self.table.full_keys, badge))

    def refresh_detail(self) -> None:
        detail = self.query_one("#detail", PeerDetail)
        if detail.has_class("hidden"):
            return
        key = self.table.cursor_key
        model = self.models.get(self.current) if self.current else None
        row = model.rows.get(key) if (model is not None and key) else None
        history = (self.wgtui.monitor.history(self.current, key, self.last_time or None)
                   if (row is not None and self.current and key) else ([], []))
        detail.show(row, history, self.wgtui.clock(), self.table.full_keys)

    def on_peer_table_cursor_moved(self, _message: PeerTable.CursorMoved) -> None:
        self.refresh_detail()

    # -- changes (hidden with --read-only) -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in CHANGE_ACTIONS and self.wgtui.options.read_only)

    def _highlighted(self) -> tuple[str, str] | None:
        key = self.table.cursor_key
        if self.current is None or key is None:
            self.notify("No peer is highlighted.", severity="warning", timeout=3)
            return None
        return self.current, key

    def action_add_peer(self) -> None:
        if self.current is None:
            self.notify("There is no interface to add a peer to.", severity="warning", timeout=3)
            return
        self.wgtui.changes.add(self.current)

    def action_edit_peer(self) -> None:
        if target := self._highlighted():
            self.wgtui.changes.edit(*target)

    def action_remove_peer(self) -> None:
        if target := self._highlighted():
            self.wgtui.changes.remove(*target)

    def action_rotate_peer(self) -> None:
        if target := self._highlighted():
            self.wgtui.changes.rotate(*target)

    def action_sync(self) -> None:
        if self.current is None:
            self.notify("There is no interface to sync.", severity="warning", timeout=3)
            return
        self.wgtui.changes.sync(self.current)

    def action_client_config(self) -> None:
        if target := self._highlighted():
            model = self.models.get(target[0])
            row = model.rows.get(target[1]) if model is not None else None
            self.wgtui.changes.client_config(*target, row.name if row is not None else "")

    # -- actions ---------------------------------------------------------------------------------------------

    def _resort(self) -> None:
        for model in self.models.values():
            model.set_sort(self.sort, self.reverse)
        table = self.table
        key = table.cursor_key
        table.set_model(table.model)
        if key:
            table.select_key(key)
        self.notify(f"sorted by {SORT_TITLES[self.sort]}{' (reversed)' if self.reverse else ''}", timeout=2)

    def set_sort(self, sort: str, reverse: bool = False) -> None:
        self.sort, self.reverse = sort, reverse
        self._resort()

    def action_sort_next(self) -> None:
        self.set_sort(SORT_CYCLE[(SORT_CYCLE.index(self.sort) + 1) % len(SORT_CYCLE)])

    def action_sort_reverse(self) -> None:
        self.set_sort(self.sort, not self.reverse)

    def action_next_interface(self, step: int = 1) -> None:
        names = sorted(self.models)
        if len(names) < 2:
            self.notify("There is only one interface.", timeout=2)
            return
        index = names.index(self.current) if self.current in names else -1
        self.switch_to(names[(index + step) % len(names)])

    def action_toggle_keys(self) -> None:
        table = self.table
        table.full_keys = not table.full_keys
        self.refresh_header()
        self.refresh_detail()

    def action_toggle_pane(self) -> None:
        self.query_one("#detail", PeerDetail).toggle_class("hidden")
        self.refresh_detail()

    def action_open_detail(self) -> None:
        from wgtui.ui.screens.peer_detail import PeerDetailScreen

        if self.current and self.table.cursor_key:
            self.app.push_screen(PeerDetailScreen(self, self.current, self.table.cursor_key))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("hidden")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value or not box.has_class("hidden"):
            box.value = ""
            box.add_class("hidden")
            self.set_filter("")
        self.table.focus()

    def set_filter(self, needle: str) -> None:
        self.needle = needle
        for model in self.models.values():
            model.set_filter(needle)
        key = self.table.cursor_key
        self.switch_to(self.current)
        if key:
            self.table.select_key(key)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            if not event.value:
                event.input.add_class("hidden")
            self.table.focus()
