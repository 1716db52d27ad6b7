"""Provides the dashboard screen: interface header, peer table, filter box and detail pane, fed by monitor deltas."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from wgtui.monitor import InterfaceSummary, PeerRow, Update
from wgtui.ui.columns import COLUMNS
from wgtui.ui.key_age import OVERDUE, is_overdue
from wgtui.ui.marks import PeerMarks
from wgtui.ui.messages import ChangeKind, ChangeRequested, RotationsHandshaken
from wgtui.ui.peer_rows import PeerRows
from wgtui.ui.widgets.interface_header import InterfaceHeader, header_text
from wgtui.ui.widgets.peer_detail import PeerDetail
from wgtui.ui.widgets.peer_table import PeerTable

if TYPE_CHECKING:
    from wgtui.ui.app import AppOptions

History = Callable[[str, str, float | None], tuple[list[int], list[int]]]
"""(interface, public key, now) -> bytes received and sent per bucket over the last ten minutes."""
KeyPolicy = Callable[[str], float]
"""Blocking: an interface's max_key_age from its wgtui.json (seconds, 0: none); called in a thread worker."""

SORT_CYCLE = ("state", "name", "handshake", "rx_rate", "tx_rate", "endpoint", "allowed", "rx", "tx", "key",
              "key_age")
SORT_TITLES = {c.id: c.title for c in COLUMNS} | {"state": "state"}
CHANGE_ACTIONS = frozenset({"add_peer", "edit_peer", "remove_peer", "rotate_peer", "client_config", "sync",
                            "pending_rotations", "toggle_mark", "mark_shown", "clear_marks"})
"""Hidden and disabled with --read-only (the client config too: it shows a private key)."""


class DashboardScreen(Screen[None]):
    """Everything here is driven by `apply_update`; no widget reads the backend itself. Changes are asked for with
    messages (ChangeRequested); what the screen needs from the app comes through its constructor."""

    # At 80 columns the footer holds eight entries: the change keys, filter, sort, help and quit, and `R Pending`
    # while a rotation is pending. The rest is in help (?) and the command palette (ctrl+p).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add_peer", "Add", id="dashboard.add_peer"),
        Binding("e", "edit_peer", "Edit", id="dashboard.edit_peer"),
        Binding("d", "remove_peer", "Remove", id="dashboard.remove_peer"),
        # Two bindings of r, for the footer's word: with marks it rotates the marked peers.
        Binding("r", "rotate_peer(False)", "Rotate", id="dashboard.rotate_peer"),
        Binding("r", "rotate_peer(True)", "Rotate marked", id="dashboard.rotate_marked"),
        # Two bindings of R: shown in the footer while something is pending, working (it says so) otherwise.
        Binding("R", "pending_rotations(True)", "Pending", id="dashboard.pending_rotations"),
        Binding("R", "pending_rotations(False)", "Pending rotations", show=False,
                id="dashboard.pending_rotations_none"),
        Binding("space", "toggle_mark", "Mark", id="dashboard.toggle_mark", show=False),
        Binding("m", "mark_shown", "Mark shown", id="dashboard.mark_shown", show=False),
        Binding("u", "clear_marks", "Unmark all", id="dashboard.clear_marks", show=False),
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

    def __init__(self, options: AppOptions, *, is_demo: bool, history: History, key_policy: KeyPolicy) -> None:
        super().__init__()
        self.options = options
        self.clock = options.clock
        self.is_demo = is_demo
        self.history = history
        self.key_policy = key_policy
        self.policies: dict[str, float] = {}
        """Per interface: seconds after which a key is overdue (--max-key-age, else its wgtui.json; 0: none)."""
        self.marks = PeerMarks()
        """Per interface: the marked peers (space, m; rotated together by r) and the pending rotations."""
        self.models: dict[str, PeerRows] = {}
        self.summaries: dict[str, InterfaceSummary] = {}
        self.current: str | None = None
        self.sort = "state"
        self.reverse = False
        self.needle = ""
        self.last_time = 0.0
        self.select_when_seen: tuple[str, str] | None = None
        """(interface, key) of a peer a change just added: the cursor goes to it once a poll shows it."""
        self._keys_for: tuple[bool, bool] | None = None
        """(marked, pending) when the footer's keys were last worked out: they change only with those."""

    def compose(self) -> ComposeResult:
        yield InterfaceHeader(id="header")
        notice = self.options.notice
        yield Static(notice or "", id="notice", classes="" if notice else "hidden", markup=False)
        table = PeerTable(self.clock, id="peers")
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
                model = self.models[delta.name] = self._new_model(delta.name)
            handshaken = self.marks.track(delta)
            if handshaken:
                self.post_message(RotationsHandshaken(delta.name, handshaken))
            change = model.apply(delta)
            self.summaries[delta.name] = delta.summary
            if delta.name == self.current:
                table.model_changed(change)
        for gone in set(self.models) - seen:
            del self.models[gone]
            del self.summaries[gone]
            self.marks.forget(gone)
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

    def _new_model(self, ifname: str) -> PeerRows:
        if self.options.max_key_age:
            self.policies[ifname] = self.options.max_key_age
        else:
            self._load_policy(ifname)
        return PeerRows(self.sort, self.reverse, self.needle,
                        overdue=lambda row: is_overdue(row, self.clock(), self.policies.get(ifname, 0.0)))

    def _load_policy(self, ifname: str) -> None:
        """The interface's max_key_age from its wgtui.json, read in a thread (a file read never blocks drawing)."""
        def load() -> None:
            seconds = self.key_policy(ifname)
            self.app.call_from_thread(self._policy_loaded, ifname, seconds)

        self.run_worker(load, thread=True, group="key-policy", exit_on_error=False)

    def _policy_loaded(self, ifname: str, seconds: float) -> None:
        self.policies[ifname] = seconds
        model = self.models.get(ifname)
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
            if name in self.models:
                return name
        return max(sorted(self.models), key=lambda n: self.summaries[n].total, default=None)

    def switch_to(self, name: str | None) -> None:
        self.current = name
        table = self.table
        table.empty_text = "No peers match the filter (escape clears it)." if self.needle else "No peers."
        table.marks = self.marks.marked(name) if name is not None else frozenset()
        table.max_key_age = self.policies.get(name, 0.0) if name is not None else 0.0
        table.set_model(self.models[name] if name is not None else PeerRows(self.sort, self.reverse))
        self.refresh_header()
        self.refresh_detail()

    def refresh_header(self) -> None:
        summary = self.summaries.get(self.current) if self.current else None
        badge = "DEMO" if self.is_demo else ""
        if self.options.read_only:
            badge = f"{badge} read-only".strip()
        current = self.current or ""
        self.query_one("#header", InterfaceHeader).update(
            header_text(sorted(self.models), self.current, summary, self.table.full_keys, badge,
                        marked=len(self.marks.marked(current)), pending=len(self.marks.pending(current))))
        keys_for = (bool(self.marks.marked(current)), bool(self.marks.pending(current)))
        if keys_for != self._keys_for:
            # Not every poll: each refresh rebuilds the footer.
            self._keys_for = keys_for
            self.refresh_bindings()

    def refresh_detail(self) -> None:
        detail = self.query_one("#detail", PeerDetail)
        if detail.has_class("hidden"):
            return
        key = self.table.cursor_key
        model = self.models.get(self.current) if self.current else None
        row = model.rows.get(key) if (model is not None and key) else None
        history = (self.history(self.current, key, self.last_time or None)
                   if (row is not None and self.current and key) else ([], []))
        detail.show(row, history, self.clock(), self.table.full_keys, self.policies.get(self.current or "", 0.0),
                    self.counterpart(row) if row is not None else None)

    def counterpart(self, row: PeerRow) -> PeerRow | None:
        """The other row of the rotation `row` takes part in: the new key's for an old key, and the other way."""
        meta = row.meta
        other = (meta.rotating_to or meta.replaces) if meta is not None else ""
        model = self.models.get(self.current) if self.current else None
        return model.rows.get(other) if (model is not None and other) else None

    def on_peer_table_cursor_moved(self, _message: PeerTable.CursorMoved) -> None:
        self.refresh_detail()

    # -- changes (hidden with --read-only) -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in CHANGE_ACTIONS and self.options.read_only:
            return False
        marked = bool(self.marks.marked(self.current or ""))
        if action in ("rotate_peer", "pending_rotations") and parameters:
            # Which of the key's two bindings applies: with marks (r), with rotations pending (R).
            now = marked if action == "rotate_peer" else bool(self.marks.pending(self.current or ""))
            return now == bool(parameters[0])
        if action == "clear_marks":
            return marked
        return True

    def _highlighted(self) -> tuple[str, str] | None:
        key = self.table.cursor_key
        if self.current is None or key is None:
            self.notify("No peer is highlighted.", severity="warning", timeout=3)
            return None
        return self.current, key

    def _ask(self, kind: ChangeKind, keys: tuple[str, ...] = (), name: str = "") -> None:
        if self.current is None:
            self.notify("There is no interface here.", severity="warning", timeout=3)
            return
        self.post_message(ChangeRequested(kind, self.current, keys, name))

    def action_add_peer(self) -> None:
        self._ask(ChangeKind.ADD)

    def action_edit_peer(self) -> None:
        if target := self._highlighted():
            self._ask(ChangeKind.EDIT, (target[1],))

    def action_remove_peer(self) -> None:
        if target := self._highlighted():
            self._ask(ChangeKind.REMOVE, (target[1],))

    def action_rotate_peer(self, _marked: bool = False) -> None:
        """The highlighted peer; with marks, every marked peer of this interface in one staged session."""
        marks = self.marks.marked(self.current or "")
        if marks:
            model = self.table.model
            ordered = sorted(marks, key=lambda k: (i if (i := model.index_of(k)) is not None else len(model), k))
            self._ask(ChangeKind.ROTATE, tuple(ordered))
        elif target := self._highlighted():
            self._ask(ChangeKind.ROTATE, (target[1],))

    def action_pending_rotations(self, _shown: bool = True) -> None:
        self._ask(ChangeKind.PENDING_ROTATIONS)

    def action_sync(self) -> None:
        self._ask(ChangeKind.SYNC)

    def action_client_config(self) -> None:
        if target := self._highlighted():
            model = self.models.get(target[0])
            row = model.rows.get(target[1]) if model is not None else None
            self._ask(ChangeKind.CLIENT_CONFIG, (target[1],), row.name if row is not None else "")

    # -- marks -----------------------------------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        """Mark or unmark the highlighted peer, then move down (marking a run of peers is one key per peer)."""
        target = self._highlighted()
        row = self.models[target[0]].rows.get(target[1]) if target is not None else None
        if target is None or row is None:
            return
        why = self.marks.toggle(target[0], row)
        if why:
            self.notify(f"Not marked: {why}.", severity="warning", timeout=4)
            return
        self._marks_changed()
        self.table.action_cursor(1)

    def action_mark_shown(self) -> None:
        """Mark every peer the filter shows (all of them without a filter), those that can be rotated."""
        if self.current is None:
            return
        model = self.table.model
        skipped = self.marks.mark_all(self.current, (model.rows[k] for k in model.visible_keys(0, len(model))))
        self._marks_changed()
        n = len(self.marks.marked(self.current))
        left = f"; {skipped} cannot be rotated (see the drift marks, or a rotation is pending)" if skipped else ""
        self.notify(f"{n} peer{'s' if n != 1 else ''} marked on {self.current}{left}. r rotates them in one staged "
                    "session, u clears the marks.", timeout=6)

    def action_clear_marks(self) -> None:
        if self.current is not None:
            self.clear_marks(self.current)

    def clear_marks(self, ifname: str) -> None:
        if self.marks.clear(ifname) and ifname == self.current:
            self._marks_changed()

    def _marks_changed(self) -> None:
        self.table.refresh_changed()
        self.refresh_header()

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

    def action_filter(self, text: str | None = None) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("hidden")
        if text is not None:
            box.value = text
            self.table.focus()
            return
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
