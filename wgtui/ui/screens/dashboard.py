"""Provides the dashboard screen: interface header, peer table, filter box and detail pane, fed by monitor deltas."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Input, Static

from wgtui.config_source import ConfigView
from wgtui.lifecycle.peer_usage import UsageReader
from wgtui.monitor import InterfaceSummary, PeerRow, Update
from wgtui.ui import keymap
from wgtui.ui.columns import TITLES
from wgtui.ui.dialogs.choosers import ColumnChooser, SortChoice, SortChooser
from wgtui.ui.interfaces import InterfaceBook
from wgtui.ui.key_age import OVERDUE, is_overdue
from wgtui.ui.marks import PeerMarks
from wgtui.ui.messages import RedrawAsked, RotationsHandshaken, RotationsWaiting, ViewChosen
from wgtui.ui.peer_rows import PeerRows, Sort, order_words
from wgtui.ui.prefs import ViewPrefs
from wgtui.ui.screens.dashboard_changes import ChangeKeys
from wgtui.ui.screens.peer_detail import PeerDetailScreen, PeerFacts
from wgtui.ui.widgets.filter_box import FilterBox
from wgtui.ui.widgets.footer import RankedFooter
from wgtui.ui.widgets.interface_header import InterfaceHeader, header_text
from wgtui.ui.widgets.peer_detail import PeerDetail
from wgtui.ui.widgets.peer_table import PeerTable

if TYPE_CHECKING:
    from wgtui.ui.app import AppOptions

History = Callable[[str, str, float | None], tuple[list[int], list[int]]]
"""(interface, public key, now) -> bytes received and sent per bucket over the last ten minutes."""
KeyPolicy = Callable[[str], float]
"""Blocking: an interface's max_key_age from its wgtui.json (seconds, 0: none); called in a thread."""

SORT_CYCLE = (Sort.STATE, Sort.NAME, Sort.HANDSHAKE, Sort.RX_RATE, Sort.TX_RATE, Sort.ENDPOINT, Sort.ALLOWED, Sort.RX,
              Sort.TX, Sort.KEY, Sort.KEY_AGE)
"""The order `s` goes through the columns (only those on screen: a sort must be visible in the header)."""
FILTER_ROWS = 1
"""Lines the filter box (compact) takes from the table when it opens."""


class DashboardScreen(ChangeKeys):
    """Everything here is driven by `apply_update`; no widget reads the backend itself. Changes are asked for with
    messages (ChangeRequested, see ChangeKeys); what the screen needs from the app comes through its constructor."""

    BINDINGS: ClassVar[list[BindingType]] = [*keymap.bindings(keymap.DASHBOARD),
                                             *keymap.read_only_bindings(keymap.DASHBOARD)]

    def __init__(self, options: AppOptions, *, is_demo: bool, history: History, key_policy: KeyPolicy,
                 view: ViewPrefs | None = None, notice: str | None = None, title: str = "wgtui",
                 usage: UsageReader | None = None) -> None:
        super().__init__()
        self.usage = usage
        """Where the detail screen reads a peer's quota use and day/week/month history (None: nowhere)."""
        self.header_title = title
        """The header's first word: wgtui, or the remote host whose dashboard this is."""
        self.options = options
        self.read_only = options.read_only
        self.clock = options.clock
        self.is_demo = is_demo
        self.history = history
        self.key_policy = key_policy
        self.notice = notice
        view = view or ViewPrefs()
        self.sort = view.sort
        self.reverse = view.reverse
        self.hidden = view.hidden
        self.book = InterfaceBook(self._new_model)
        self.current: str | None = None
        self.needle = ""
        self.last_time = 0.0
        self.select_when_seen: tuple[str, str] | None = None
        """(interface, key) of a peer a change just added: the cursor goes to it once a poll shows it."""
        self._keys_for: tuple[object, ...] | None = None
        """What the footer's keys were last worked out for: they change only with it."""

    # The per-interface state lives in the book; these names are what the flows, tests and benchmarks read.
    @property
    def models(self) -> dict[str, PeerRows]:
        return self.book.models

    @property
    def summaries(self) -> dict[str, InterfaceSummary]:
        return self.book.summaries

    @property
    def marks(self) -> PeerMarks:
        return self.book.marks

    @property
    def policies(self) -> dict[str, float]:
        return self.book.policies

    def compose(self) -> ComposeResult:
        yield InterfaceHeader(id="header")
        yield Static(self.notice or "", id="notice", classes="" if self.notice else "hidden", markup=False)
        table = PeerTable(self.clock, id="peers")
        table.empty_text = "Waiting for the first poll…"
        table.shown_columns = ViewPrefs(hidden=self.hidden).shown
        table.on_cursor = self._follow_cursor
        yield table
        yield FilterBox(self._typed, placeholder="filter: name, key, endpoint or IP (enter keeps, escape clears)",
                        id="filter", classes="hidden", compact=True)
        yield PeerDetail(id="detail")
        yield RankedFooter(keymap.FOOTER_RANK)

    # -- updates from the monitor ----------------------------------------------------------------------------

    def apply_update(self, update: Update, configs: Mapping[str, ConfigView] | None = None) -> None:
        """Apply one poll's deltas (and the disabled peers of the same reading of each file): the work is
        proportional to what changed, plus the lines on screen."""
        self.last_time = update.time
        table = self.table
        applied = self.book.apply(update, configs)
        for ifname, pairs in applied.handshaken:
            self.post_message(RotationsHandshaken(ifname, pairs))
        for ifname, waiting in applied.waiting.items():
            self.post_message(RotationsWaiting(ifname, waiting))
        if self.current in applied.changes:
            for change in applied.changes[self.current]:
                table.model_changed(change, tell=False)  # the detail pane and the footer follow below
        if self.current not in self.book.models:
            self.switch_to(self._first_interface())
        else:
            table.refresh_changed()
        if not self.book.models:
            table.empty_text = "No WireGuard interface found. Start `wgtui --demo` to see simulated peers."
        pending = self.select_when_seen
        if pending is not None and pending[0] == self.current and table.select_key(pending[1]):
            self.select_when_seen = None
        self.refresh_header()
        self.refresh_detail()

    def _new_model(self, ifname: str) -> PeerRows:
        if self.options.max_key_age:
            self.book.policies[ifname] = self.options.max_key_age
        else:
            self.run_worker(self._load_policy(ifname), group="key-policy", exit_on_error=False)
        return PeerRows(self.sort, self.reverse, self.needle,
                        overdue=lambda row: is_overdue(row, self.clock(), self.book.policies.get(ifname, 0.0)))

    async def _load_policy(self, ifname: str) -> None:
        """The interface's max_key_age from its wgtui.json, read in a thread (a file read never blocks drawing)."""
        seconds = await asyncio.to_thread(self.key_policy, ifname)
        self.book.policies[ifname] = seconds
        model = self.book.models.get(ifname)
        if model is not None and seconds and self.needle.strip() == OVERDUE:
            model.refilter()
            if ifname == self.current:
                self.switch_to(ifname)
        if ifname == self.current:
            self.table.max_key_age = seconds
            self.refresh_detail()

    def _first_interface(self) -> str | None:
        """The first --interface given, else the busiest interface (the one the admin most likely came for)."""
        for name in self.options.interfaces or ():
            if name in self.book.models:
                return name
        return max(sorted(self.book.models), key=lambda n: self.book.summaries[n].total, default=None)

    def switch_to(self, name: str | None) -> None:
        self.current = name
        table = self.table
        table.empty_text = "No peers match the filter (escape clears it)." if self.needle else "No peers."
        table.marks = self.book.marks.marked(name) if name is not None else frozenset()
        table.max_key_age = self.book.policies.get(name, 0.0) if name is not None else 0.0
        table.set_model(self.book.models[name] if name is not None else PeerRows(self.sort, self.reverse))
        self.refresh_header()
        self.refresh_detail()

    def refresh_header(self) -> None:
        current = self.current or ""
        summary = self.book.summaries.get(current) if current else None
        badge = "DEMO" if self.is_demo else ""
        if self.read_only:
            badge = f"{badge} read-only".strip()
        marks = self.book.marks
        self.query_one("#header", InterfaceHeader).update(
            header_text(sorted(self.book.models), self.current, summary, self.table.full_keys, badge,
                        marked=len(marks.marked(current)), pending=len(marks.pending(current)),
                        no_file=self.book.has_file(current) is False, file_error=self.book.file_error(current),
                        title=self.header_title))
        self._footer_keys()

    def _footer_keys(self) -> None:
        row = self.highlighted_row()
        current = self.current or ""
        keys_for = (bool(self.book.marks.marked(current)), bool(self.book.marks.pending(current)),
                    self.book.has_file(current), row is not None and self.row_disabled(row))
        if keys_for != self._keys_for:
            # Not every poll: each refresh rebuilds the footer.
            self._keys_for = keys_for
            self.refresh_bindings()

    def highlighted_row(self) -> PeerRow | None:
        return self.book.row(self.current, self.table.cursor_key)

    def row_of(self, ifname: str, key: str) -> PeerRow | None:
        return self.book.row(ifname, key)

    def refresh_detail(self) -> None:
        detail = self.query_one("#detail", PeerDetail)
        if detail.has_class("hidden"):
            return
        facts = self.facts(self.current, self.table.cursor_key)
        if facts is None:
            detail.show(None, ([], []), self.clock(), self.table.full_keys)
            return
        detail.show(facts.row, facts.history, facts.now, self.table.full_keys, facts.max_key_age, facts.other)

    def facts(self, ifname: str | None, key: str | None) -> PeerFacts | None:
        """What the detail pane and screen show of a peer now (None: it is not on the interface, or no peer)."""
        row = self.book.row(ifname, key)
        if row is None or ifname is None or key is None:
            return None
        now = self.clock()
        return PeerFacts(row, now, self.history(ifname, key, self.last_time or None),
                         self.book.policies.get(ifname, 0.0), self.book.counterpart(ifname, row))

    def _follow_cursor(self) -> None:
        if self.is_mounted:
            self.refresh_detail()  # the same text again when CursorMoved arrives: no second update

    def on_peer_table_cursor_moved(self, _message: PeerTable.CursorMoved) -> None:
        self.refresh_detail()
        self._footer_keys()

    # -- sort and columns ------------------------------------------------------------------------------------

    def _view_chosen(self) -> None:
        self.post_message(ViewChosen(ViewPrefs(self.sort, self.reverse, self.hidden)))

    def set_sort(self, sort: str, reverse: bool = False, *, say: bool = True) -> None:
        self.sort, self.reverse = Sort(sort), reverse
        for model in self.book.models.values():
            model.set_sort(self.sort, self.reverse)
        table = self.table
        key = table.cursor_key
        table.set_model(table.model)
        if key:
            table.select_key(key)
        if say:
            self.notify(f"Sorted by {TITLES[self.sort]}: {order_words(self.sort, self.reverse)}.", timeout=2)
        self._view_chosen()

    def action_sort_next(self) -> None:
        shown = {Sort.STATE, *(c.id for c in self.table.columns.columns)}
        cycle = [s for s in SORT_CYCLE if s in shown]
        at = cycle.index(self.sort) if self.sort in cycle else -1
        self.set_sort(cycle[(at + 1) % len(cycle)])

    def action_sort_reverse(self) -> None:
        self.set_sort(self.sort, not self.reverse)

    def action_choose_sort(self) -> None:
        def chosen(choice: SortChoice | None) -> None:
            if choice is not None:
                self.set_sort(choice.sort, choice.reverse)

        self.app.push_screen(SortChooser(self.sort, self.reverse), chosen)

    def action_choose_columns(self) -> None:
        def chosen(hidden: frozenset[Sort] | None) -> None:
            if hidden is not None and hidden != self.hidden:
                self.hidden = hidden
                self.table.shown_columns = ViewPrefs(hidden=hidden).shown
                self._view_chosen()

        self.app.push_screen(ColumnChooser(self.hidden, self.sort), chosen)

    # -- looking around --------------------------------------------------------------------------------------

    def action_next_interface(self, step: int = 1) -> None:
        names = sorted(self.book.models)
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

    def action_redraw(self) -> None:
        self.post_message(RedrawAsked())

    def redraw_all(self) -> None:
        """Every line of the table is drawn again on the next frame (the terminal is being written whole)."""
        self.table.redraw_all()

    def action_open_detail(self) -> None:
        ifname, key = self.current, self.table.cursor_key
        if ifname and key:
            self.app.push_screen(PeerDetailScreen(ifname, lambda: self.facts(ifname, key), self.usage))

    def action_filter(self, text: str | None = None) -> None:
        box = self.query_one("#filter", Input)
        if box.has_class("hidden"):
            self.table.make_room(FILTER_ROWS)
        box.remove_class("hidden")
        if text is not None:
            box.value = text
            self.table.focus()
            return
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value or not box.has_class("hidden"):
            box.value = ""  # filters at once (FilterBox)
            box.add_class("hidden")
            if self.needle:
                self.set_filter("")
        self.table.focus()

    def set_filter(self, needle: str) -> None:
        self.needle = needle
        for model in self.book.models.values():
            model.set_filter(needle)
        key = self.table.cursor_key
        self.switch_to(self.current)
        if key:
            self.table.select_key(key)

    def _typed(self, text: str) -> None:
        if text != self.needle and self.is_mounted:
            self.set_filter(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter" and event.value != self.needle:
            self.set_filter(event.value)  # normally done already, as it was typed (FilterBox)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            if not event.value:
                event.input.add_class("hidden")
            self.table.focus()
