"""Provides the rotation session dialog: each peer of a staged rotation, finished as soon as its new key handshakes."""

# Everything shown comes from the core's state machine (Step, StagedRotation): this screen keeps no step of its
# own, it only asks the session to poll, cancels what the user asks to cancel, and draws what the rotations say.

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from wgtui import keys
from wgtui.changes.rotation import RotationSession, StagedRotation, Step
from wgtui.durations import short_age
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.confirm import ConfirmScreen
from wgtui.ui.dialogs.leave_rotations import Leave, LeaveRotations
from wgtui.ui.widgets.rotation_table import STEP_LOOK, RotationTable

log = logging.getLogger(__name__)

POLL = 0.1
"""Seconds between reads of the interface. A client is cut off from the moment it switches to its new key until its
AllowedIPs have moved, so the move must follow the first handshake closely."""

PENDING = frozenset({Step.WAITING, Step.HANDSHAKEN, Step.BLOCKED})
"""Steps in which the rotation is written in the file: leaving keeps it, and it can still be cancelled."""


@dataclass(frozen=True)
class SavedClient:
    """A client config read back from disk, with what in it no longer fits the peer."""

    path: Path
    text: str | None
    """None: there is no saved config."""
    warnings: tuple[str, ...] = ()


class ClientFiles(Protocol):
    """The saved client configs of a session's peers. Blocking: called in thread workers only."""

    def exists(self, rotation: StagedRotation) -> bool: ...

    def read(self, rotation: StagedRotation) -> SavedClient: ...


class RotationSessionScreen(ModalScreen[None]):
    """Polls the session ten times a second in a thread worker (one read of the interface for all its peers), and
    the session finishes each rotation whose new key has handshaken. Every call that changes something holds
    `change_lock`, the app's one-change-at-a-time lock, so a poll never races a cancel or another change."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,c", "client_config", "Client config", id="session.client_config"),
        Binding("x", "cancel_one", "Cancel rotation", id="session.cancel_one"),
        Binding("escape,q", "leave", "Leave", id="session.leave"),
        Binding("escape,q", "close", "Close", id="session.close"),
    ]

    def __init__(self, session: RotationSession, *, lock: threading.Lock, clients: ClientFiles,
                 show_first_client: bool = False) -> None:
        super().__init__()
        self.session = session
        self.rotations: Sequence[StagedRotation] = session.rotations
        self.change_lock = lock
        self.clients = clients
        self.show_first_client = show_first_client
        self.has_client: dict[str, bool] = {r.old_key: r.client is not None for r in self.rotations}
        """Per old key: whether a client config can be shown (in memory, or saved by an earlier session)."""
        self.cancelling: set[str] = set()
        self.polling = False
        self.error = ""
        """An unexpected failure of a poll: shown, and polling stops (the rotations stay pending in the file)."""
        self._keys_for: tuple[bool, ...] = ()
        self._shown: dict[str, Text] = {}

    # -- layout ----------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        n = len(self.rotations)
        what = "Staged key rotation" if self.session.plan is not None else "Pending key rotations"
        with Vertical(classes="dialog", id="session-dialog") as dialog:
            dialog.border_title = Content(f"{what} on {self.session.ifname}: {n} peer{'s' if n != 1 else ''}")
            yield RotationTable(self.rotations, self._client_label, id="session-table")
            yield Static(id="session-message")
            yield Static(id="session-summary")
        yield Footer()

    @property
    def table(self) -> RotationTable:
        return self.query_one(RotationTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.redraw()
        self.set_interval(POLL, self.tick)
        if self.session.plan is None:
            self._look_for_clients()
        if self.show_first_client:
            first = next((i for i, r in enumerate(self.rotations) if r.client is not None), None)
            if first is not None:
                self.call_after_refresh(self.show_client, first)

    # -- drawing ---------------------------------------------------------------------------------------------

    def _client_label(self, rotation: StagedRotation) -> str:
        if self.has_client.get(rotation.old_key):
            return "saved"
        return "own key" if self.session.plan is not None else "–"

    def redraw(self) -> None:
        """Update the cells that changed, the highlighted peer's message, the summary and the footer's keys."""
        self.table.refresh_rows()
        self._show("session-message", self._message(self.highlighted()))
        self._show("session-summary", self._summary())
        keys_for = tuple(bool(self.check_action(a, ())) for a in ("client_config", "cancel_one", "leave"))
        if keys_for != self._keys_for:
            # Ten redraws a second: the footer is rebuilt only when the keys that apply change.
            self._keys_for = keys_for
            self.refresh_bindings()

    def _show(self, widget_id: str, text: Text) -> None:
        # Ten times a second: a Static's update asks for a layout pass of the screen, so only when the text differs.
        if self._shown.get(widget_id) != text:
            self._shown[widget_id] = text
            self.query_one(f"#{widget_id}", Static).update(text)

    def _message(self, rotation: StagedRotation | None) -> Text:
        if self.error:
            return Text(self.error, style="bold red")
        if rotation is None:
            return Text("")
        glyph, style = STEP_LOOK[rotation.step]
        text = Text.assemble((f"{glyph} {rotation.label}: ", style))
        if rotation.step is Step.WAITING:
            new = keys.short_key(rotation.new_key)
            text.append(rotation.message or f"New key {new} is in the file and on {rotation.ifname} beside the old "
                                            "one; waiting for its first handshake.")
            if rotation.waited >= rotation.timeout:
                text.append(f" No handshake within {short_age(rotation.timeout)}: it stays pending (the old key "
                            "works) if you leave.", style="yellow")
            else:
                text.append(" The old key keeps working meanwhile.", style="dim")
        else:
            text.append(rotation.message or str(rotation.step))
        return text

    def _summary(self) -> Text:
        counts: dict[Step, int] = {}
        for rotation in self.rotations:
            counts[rotation.step] = counts.get(rotation.step, 0) + 1
        parts = [f"{n} {step}" for step, n in sorted(counts.items(), key=lambda item: list(Step).index(item[0]))]
        text = Text(" · ".join(parts), style="bold")
        if counts.get(Step.WAITING):
            text.append(" — each finishes by itself when its client connects with its new config; esc leaves "
                        "them pending.", style="dim")
        elif not self.pending():
            text.append(" — nothing is pending any more.", style="dim")
        return text

    def highlighted(self) -> StagedRotation | None:
        return self.table.highlighted

    def pending(self) -> list[StagedRotation]:
        return [r for r in self.rotations if r.step in PENDING]

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.redraw()

    # -- keys ------------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "client_config":
            rotation = self.highlighted()
            return rotation is not None and self.has_client.get(rotation.old_key, False)
        if action == "cancel_one":
            rotation = self.highlighted()
            return rotation is not None and rotation.step in PENDING and rotation.old_key not in self.cancelling
        if action == "leave":
            return bool(self.pending())
        if action == "close":
            return not self.pending()
        return True

    def action_close(self) -> None:
        self.dismiss(None)

    def action_leave(self) -> None:
        pending = self.pending()
        if not pending:
            self.dismiss(None)
            return
        self.app.push_screen(LeaveRotations(len(pending), self.session.ifname), self._leave_answered)

    def _leave_answered(self, answer: Leave | None) -> None:
        pending = self.pending()
        if answer is Leave.KEEP:
            hint = (pending[0].resume_hint() if len(pending) == 1 else
                    f"{len(pending)} rotations stay pending on {self.session.ifname}; the old keys keep working.")
            if pending:
                self.notify(hint + " The dashboard finishes each when it sees its new key handshake; R reopens "
                            "the session.", title="Rotation pending", markup=False, timeout=12)
            self.dismiss(None)
        elif answer is Leave.CANCEL:
            self.cancel(pending, close=True)

    def action_cancel_one(self) -> None:
        rotation = self.highlighted()
        if rotation is None or rotation.step not in PENDING:
            return
        body = Text(f"The new key {keys.short_key(rotation.new_key)} is removed from {rotation.ifname} and the file; "
                    f"{rotation.label} keeps its old key, which worked throughout. A client that already uses the "
                    "new config will not connect until it gets a new one.")
        self.app.push_screen(
            ConfirmScreen(f"Cancel the rotation of {rotation.label}?", body, yes="Cancel rotation", no="Keep it",
                          danger=True),
            lambda yes: self.cancel([rotation]) if yes else None)

    # -- client configs --------------------------------------------------------------------------------------

    def action_client_config(self) -> None:
        if 0 <= self.table.cursor_row < len(self.rotations):
            self.show_client(self.table.cursor_row)

    def show_client(self, index: int) -> None:
        rotation = self.rotations[index]
        if rotation.client is not None and rotation.client_path is not None:
            self._push_client(index, ClientConfigScreen.for_config(
                rotation.client, title=self._client_title(index), save_to=rotation.client_path,
                saved=rotation.client_path, browse=self._browsable()))
        elif self.has_client.get(rotation.old_key):
            self._read_client(index)
        else:
            self.notify(f"No client config for {rotation.label}: the client made its own key pair.", timeout=4)

    def _client_title(self, index: int) -> str:
        rotation = self.rotations[index]
        with_clients = [i for i, r in enumerate(self.rotations) if self.has_client.get(r.old_key)]
        where = (f" · {with_clients.index(index) + 1} of {len(with_clients)} (n / p)"
                 if len(with_clients) > 1 and index in with_clients else "")
        return f"Client config for {rotation.label} ({rotation.ifname}), new key{where}"

    def _browsable(self) -> bool:
        return sum(self.has_client.values()) > 1

    def _push_client(self, index: int, screen: ClientConfigScreen) -> None:
        self.app.push_screen(screen, lambda step: self._client_closed(index, step))

    def _client_closed(self, index: int, step: int | None) -> None:
        """n / p in a client config: the next or previous peer that has one."""
        order = [i for i, r in enumerate(self.rotations) if self.has_client.get(r.old_key)]
        if not step or index not in order:
            return
        following = order[(order.index(index) + step) % len(order)]
        self.table.move_cursor(row=following)
        self.show_client(following)

    def _read_client(self, index: int) -> None:
        rotation = self.rotations[index]

        def read() -> None:
            try:
                saved = self.clients.read(rotation)
            except Exception as exc:  # an unreadable file must end in words on screen
                log.exception("reading a client config")
                self._back(self.notify, f"Could not read the client config of {rotation.label}: {exc}",
                           severity="error", markup=False)
                return
            self._back(self._client_read, index, saved)

        self.run_worker(read, thread=True, group="session-client", exit_on_error=False)

    def _client_read(self, index: int, saved: SavedClient) -> None:
        rotation = self.rotations[index]
        if saved.text is None:
            self.notify(f"No client config for {rotation.label} at {saved.path}.", severity="warning", markup=False)
            return
        self._push_client(index, ClientConfigScreen(
            saved.text, title=self._client_title(index), warnings=list(saved.warnings), saved=saved.path,
            intro=f"Read from {saved.path}: saved when the rotation started.", browse=self._browsable()))

    def _look_for_clients(self) -> None:
        """A resumed session knows its clients' configs only from disk (saved when the rotations started)."""
        rotations = list(self.rotations)

        def look() -> None:
            found = {}
            for rotation in rotations:
                try:
                    found[rotation.old_key] = self.clients.exists(rotation)
                except OSError:
                    found[rotation.old_key] = False
            self._back(self._clients_found, found)

        self.run_worker(look, thread=True, group="session-client", exit_on_error=False)

    def _clients_found(self, found: dict[str, bool]) -> None:
        self.has_client.update(found)
        self.redraw()

    # -- the session, one call at a time ---------------------------------------------------------------------

    def tick(self) -> None:
        """Every POLL seconds: poll if a rotation waits and no poll is running; redraw (the seconds move)."""
        if not self.polling and not self.error and any(r.step is Step.WAITING for r in self.rotations):
            self.polling = True
            self.run_worker(self._poll, thread=True, group="session-poll", exit_on_error=False)
        self.redraw()

    def _poll(self) -> None:
        error = ""
        try:
            with self.change_lock:
                if not get_current_worker().is_cancelled:
                    self.session.poll()
        except Exception as exc:  # a bug must end in words on screen, not in a silently stuck session
            log.exception("rotation session: poll failed")
            error = (f"Unexpected error while watching for handshakes ({exc!r}). The rotations stay pending in the "
                     f"file; compare `wg show {self.session.ifname}` with it, and finish them later (R).")
        self._back(self._polled, error)

    def _polled(self, error: str) -> None:
        self.polling = False
        self.error = self.error or error
        self.redraw()

    def cancel(self, rotations: Sequence[StagedRotation], *, close: bool = False) -> None:
        """Cancel rotations in a thread worker (after any poll in flight: the lock orders them)."""
        chosen = [r for r in rotations if r.step in PENDING and r.old_key not in self.cancelling]
        self.cancelling.update(r.old_key for r in chosen)
        self.refresh_bindings()

        def run() -> None:
            error = ""
            try:
                with self.change_lock:
                    for rotation in chosen:
                        if rotation.step in PENDING:
                            rotation.cancel("cancelled by the user")
            except Exception as exc:
                log.exception("rotation session: cancel failed")
                error = f"Unexpected error while cancelling ({exc!r}): compare `wg show` with the file."
            self._back(self._cancelled, chosen, close, error)

        self.run_worker(run, thread=True, group="session-cancel", exit_on_error=False)

    def _cancelled(self, chosen: list[StagedRotation], close: bool, error: str) -> None:
        self.cancelling.difference_update(r.old_key for r in chosen)
        self.error = self.error or error
        self.redraw()
        stuck = [r for r in chosen if r.step is not Step.CANCELLED and not r.finished]
        for rotation in stuck:
            self.notify(f"{rotation.label}: {rotation.message}", title="Not cancelled", severity="error",
                        markup=False, timeout=12)
        if close and not stuck:
            done = sum(r.step is Step.CANCELLED for r in chosen)
            self.notify(f"Cancelled {done} rotation{'s' if done != 1 else ''} on {self.session.ifname}: the old keys "
                        "keep working.", title="Rotation cancelled", timeout=6)
            self.dismiss(None)

    def _back(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Hand a result from a thread worker to the UI thread (nobody to tell when the app is closing)."""
        with contextlib.suppress(RuntimeError):
            self.app.call_from_thread(fn, *args, **kwargs)
