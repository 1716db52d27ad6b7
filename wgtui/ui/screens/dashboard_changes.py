"""Provides the dashboard's keys that change things: each asks the app for a change flow, or says why it cannot."""

from __future__ import annotations

from textual.screen import Screen

from wgtui.monitor import PeerRow
from wgtui.ui import keymap
from wgtui.ui.disabled_rows import is_disabled
from wgtui.ui.interfaces import InterfaceBook
from wgtui.ui.messages import ChangeKind, ChangeRequested
from wgtui.ui.widgets.peer_table import PeerTable

CHANGE_ACTIONS = frozenset(k.action.split("(")[0] for k in keymap.DASHBOARD if k.changes)
"""Off with --read-only (the client config too: it shows a private key)."""
TWINS = {"rotate_peer", "pending_rotations", "toggle_disabled", "write_config"}
"""Actions bound twice to one key, with a parameter saying which of the two applies now (see check_action)."""


class ChangeKeys(Screen[None]):
    """The dashboard's change and mark actions. With --read-only they are off and each key says so (a quiet binding
    per key, enabled exactly then); nothing here changes anything: it posts ChangeRequested."""

    book: InterfaceBook
    current: str | None
    read_only: bool
    host: str | None = None
    """The remote host this dashboard shows (None: this machine): its changes go to that host."""

    @property
    def table(self) -> PeerTable:
        return self.query_one("#peers", PeerTable)

    def refresh_header(self) -> None:
        raise NotImplementedError

    def highlighted_row(self) -> PeerRow | None:
        raise NotImplementedError

    @staticmethod
    def row_disabled(row: PeerRow) -> bool:
        return is_disabled(row)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "read_only":
            return self.read_only
        if self.read_only and action in CHANGE_ACTIONS:
            return False
        current = self.current or ""
        if action in TWINS and parameters:
            wanted = bool(parameters[0])
            if action == "rotate_peer":
                now = bool(self.book.marks.marked(current))
            elif action == "pending_rotations":
                now = bool(self.book.marks.pending(current))
            elif action == "toggle_disabled":
                row = self.highlighted_row()
                now = row is not None and is_disabled(row)
            else:
                now = self.book.has_file(self.current) is False
            return now == wanted
        if action == "clear_marks":
            return bool(self.book.marks.marked(current))
        return True

    def action_read_only(self, word: str) -> None:
        self.notify(f"{word}: not with --read-only, which shows interfaces and changes nothing. Start wgtui without "
                    "--read-only to change peers.", title="Read-only", severity="warning", timeout=5, markup=False)

    # -- asking the app --------------------------------------------------------------------------------------

    def _highlighted(self, *, live: str = "") -> tuple[str, str] | None:
        """The interface and key of the highlighted peer; with `live`, a disabled peer is refused with a sentence
        ending the one `live` starts (`It cannot be edited`)."""
        key = self.table.cursor_key
        if self.current is None or key is None:
            self.notify("No peer is highlighted.", severity="warning", timeout=3)
            return None
        row = self.book.row(self.current, key)
        if live and row is not None and is_disabled(row):
            self.notify(f"{row.name or 'This peer'} is disabled: {live} while it is (x enables it).",
                        severity="warning", timeout=5, markup=False)
            return None
        return self.current, key

    def _ask(self, kind: ChangeKind, keys: tuple[str, ...] = (), name: str = "") -> None:
        if self.current is None:
            self.notify("There is no interface here.", severity="warning", timeout=3)
            return
        self.post_message(ChangeRequested(kind, self.current, keys, name, host=self.host))

    def action_add_peer(self) -> None:
        self._ask(ChangeKind.ADD)

    def action_edit_peer(self) -> None:
        if target := self._highlighted(live="it cannot be edited"):
            self._ask(ChangeKind.EDIT, (target[1],))

    def action_remove_peer(self) -> None:
        if target := self._highlighted(live="remove its #[disabled] block from the file by hand, or enable it first"):
            self._ask(ChangeKind.REMOVE, (target[1],))

    def action_rotate_peer(self, _marked: bool = False) -> None:
        """The highlighted peer; with marks, every marked peer of this interface in one staged session."""
        marks = self.book.marks.marked(self.current or "")
        if marks:
            model = self.table.model
            ordered = sorted(marks, key=lambda k: (i if (i := model.index_of(k)) is not None else len(model), k))
            self._ask(ChangeKind.ROTATE, tuple(ordered))
        elif target := self._highlighted(live="its key cannot be rotated"):
            self._ask(ChangeKind.ROTATE, (target[1],))

    def action_pending_rotations(self, _shown: bool = True) -> None:
        self._ask(ChangeKind.PENDING_ROTATIONS)

    def action_sync(self) -> None:
        self._ask(ChangeKind.SYNC)

    def action_client_config(self) -> None:
        if target := self._highlighted():
            row = self.book.row(*target)
            self._ask(ChangeKind.CLIENT_CONFIG, (target[1],), row.name if row is not None else "")

    def action_toggle_disabled(self, _enable: bool = False) -> None:
        """Disable the highlighted peer, or enable it when it is a disabled one (the footer says which)."""
        if target := self._highlighted():
            row = self.book.row(*target)
            enable = row is not None and is_disabled(row)
            self._ask(ChangeKind.ENABLE if enable else ChangeKind.DISABLE, (target[1],))

    def action_undo(self) -> None:
        self._ask(ChangeKind.UNDO)

    def action_write_config(self, _shown: bool = True) -> None:
        if self.current is not None and self.book.has_file(self.current):
            self.notify(f"{self.current} has a config file already: wgtui init never overwrites one (y syncs it with "
                        "the interface).", timeout=5, markup=False)
            return
        self._ask(ChangeKind.INIT)

    # -- marks -----------------------------------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        """Mark or unmark the highlighted peer, then move down (marking a run of peers is one key per peer)."""
        target = self._highlighted()
        row = self.book.row(*target) if target is not None else None
        if target is None or row is None:
            return
        why = self.book.marks.toggle(target[0], row)
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
        marks = self.book.marks
        skipped = marks.mark_all(self.current, (model.rows[k] for k in model.visible_keys(0, len(model))))
        self._marks_changed()
        n = len(marks.marked(self.current))
        left = (f"; {skipped} cannot be rotated (disabled, drift marks, or a rotation is pending)" if skipped
                else "")
        self.notify(f"{n} peer{'s' if n != 1 else ''} marked on {self.current}{left}. r rotates them in one staged "
                    "session, u clears the marks.", timeout=6)

    def action_clear_marks(self) -> None:
        if self.current is not None:
            self.clear_marks(self.current)

    def clear_marks(self, ifname: str) -> None:
        if self.book.marks.clear(ifname) and ifname == self.current:
            self._marks_changed()

    def _marks_changed(self) -> None:
        self.table.refresh_changed()
        self.refresh_header()
