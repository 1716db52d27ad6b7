"""Provides key rotation screens: the choice of how to rotate, and the live progress of a staged rotation."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Footer, Input, Label, RadioButton, RadioSet, Static

from wgtui import keys
from wgtui.changes.rotation import Progress, Stage, StagedRotation
from wgtui.changes.transaction import ApplyResult
from wgtui.conf.validate import validate_key
from wgtui.ui.screens.peer_form import Check

log = logging.getLogger(__name__)

Mode = Literal["staged", "now", "psk"]
Phase = Literal["starting", "waiting", "completing", "cancelling", "done", "cancelled", "failed", "pending"]
POLL = 0.1
"""Seconds between checks for the new key's handshake: the client is cut off between its switch and the move."""


@dataclass(frozen=True)
class RotateRequest:
    mode: Mode
    public_key: str | None = None
    """The client's new public key when it made its own key pair; None: wgtui generates one."""


class ModeChoices(RadioSet):
    """Enter takes the highlighted mode and goes on (space only selects it): one key per decision."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Continue", show=False, id="rotate.choose"),
    ]

    class Chosen(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def action_choose(self) -> None:
        index = self._selected if self._selected is not None else self.pressed_index
        self.post_message(self.Chosen(max(index, 0)))


class RotateChoice(ModalScreen[RotateRequest | None]):
    """Staged is the default because it never strands the client."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Cancel", id="rotate.cancel"),
        Binding("enter", "submit", "Continue", id="rotate.submit"),
    ]
    MODES: ClassVar[list[tuple[Mode, str]]] = [
        ("staged", "staged (default): the old key works until the client uses the new one"),
        ("now", "now: swap at once; the client is cut off until it has its new config"),
        ("psk", "preshared key only: same key pair, a new preshared key"),
    ]

    def __init__(self, label: str, ifname: str) -> None:
        super().__init__()
        self.label = label
        self.ifname = ifname

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rotate-dialog") as dialog, VerticalScroll(classes="dialog-body"):
            dialog.border_title = Content(f"Rotate the key of {self.label} on {self.ifname}")
            with ModeChoices(id="rotate-mode", compact=True):
                for i, (mode, text) in enumerate(self.MODES):
                    yield RadioButton(text, value=i == 0, id=f"mode-{mode}", compact=True)
            with Horizontal(classes="form-row", id="row-new-key"):
                yield Label("New public key", classes="form-label")
                with Vertical(classes="form-field"):
                    yield Input(placeholder="empty: wgtui generates a key pair (config and QR follow)",
                                id="new-key", compact=True, valid_empty=True, validators=[Check(validate_key)])
                    yield Static(classes="form-msg", id="new-key-msg", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Continue (enter)", id="submit", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#rotate-mode", ModeChoices).focus()

    @property
    def mode(self) -> Mode:
        pressed = self.query_one("#rotate-mode", ModeChoices).pressed_index
        return self.MODES[max(pressed, 0)][0]

    @on(RadioSet.Changed)
    def _mode_changed(self) -> None:
        self.query_one("#row-new-key").display = self.mode != "psk"

    @on(ModeChoices.Chosen)
    def _mode_chosen(self, event: ModeChoices.Chosen) -> None:
        self.action_submit(self.MODES[event.index][0])

    @on(Input.Changed, "#new-key")
    def _key_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        message = "" if result is None or result.is_valid else " ".join(result.failure_descriptions)
        msg = self.query_one("#new-key-msg", Static)
        msg.update(Text(message, style="red"))
        msg.display = bool(message)
        self.query_one("#submit", Button).disabled = bool(message)

    @on(Input.Submitted, "#new-key")
    def _key_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self.action_submit()

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def action_submit(self, mode: Mode | None = None) -> None:
        if self.query_one("#submit", Button).disabled:
            return
        mode = mode or self.mode
        key = self.query_one("#new-key", Input).value.strip() if mode != "psk" else ""
        self.dismiss(RotateRequest(mode, key or None))


_MARK = {"done": ("✓ ", "green"), "current": ("▶ ", "bold"), "pending": ("· ", "dim"), "failed": ("✗ ", "red"),
         "skipped": ("– ", "dim")}


class RotationProgress(ModalScreen[ApplyResult]):
    """Drives a StagedRotation: its blocking calls run in thread workers, one at a time; a timer asks ten times a
    second whether the new key has handshaken; completing starts by itself once it has.

    Dismisses with the ApplyResult of the rotation (done, cancelled and rolled back, or failed).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel_or_close", "Cancel rotation", id="rotation.cancel"),
        # q would quit wgtui mid-rotation (which rolls it back): make it the same as escape here.
        Binding("q", "cancel_or_close", "Cancel rotation", id="rotation.cancel_q", show=False),
        Binding("c", "client_config", "Client config", id="rotation.client_config"),
    ]

    def __init__(self, rotation: StagedRotation, show_client: Callable[[], object] | None = None) -> None:
        super().__init__()
        self.rotation = rotation
        self.show_client = show_client
        """Pushes the client-config screen; None when the client brought its own public key."""
        self.phase: Phase = "starting"
        self.at = 0
        """Index of the step in progress (the one that failed, or where a cancel stopped)."""
        self.message = "Adding the new key beside the old one…"
        self.waited = 0.0
        self.client_shown = False
        self.result: ApplyResult | None = None
        self._lock = threading.Lock()
        """One rotation call at a time: a check must not race a cancel on the same StagedRotation."""
        self._pending = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rotation-dialog") as dialog:
            dialog.border_title = Content(f"Staged rotation of {self.rotation.label} on {self.rotation.plan.ifname}")
            with VerticalScroll(classes="dialog-body"):
                yield Static(id="rotation-steps")
                yield Static(id="rotation-message")
            with Horizontal(classes="buttons"):
                yield Button("Cancel rotation (esc)", id="cancel", variant="error", compact=True)
                if self.show_client is not None:
                    yield Button("Client config (c)", id="client", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.redraw()
        self._run("start")
        self._timer = self.set_interval(POLL, self.poll)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "client_config":
            return self.show_client is not None and self.phase != "starting"
        return True

    # -- drawing ---------------------------------------------------------------------------------------------

    def steps(self) -> list[tuple[str, str]]:
        """(state, text) per step, in order."""
        r = self.rotation
        ips = ", ".join(r.allowed_ips) or "(none)"
        timeout = int(r.timeout)
        texts = [
            f"New key {keys.short_key(r.new_key)} added beside the old one, without AllowedIPs",
            "Client config shown (c shows it again)" if self.show_client else
            "The client has its new key (it made the key pair itself)",
            f"Waiting for the new key's first handshake: {int(self.waited)} s of {timeout} s",
            f"AllowedIPs {ips} moved to the new key",
            f"Old key {keys.short_key(r.old.public_key)} removed",
            f"{r.plan.config_path} written (name and metadata carried over)",
        ]
        at = self.at
        states = []
        for i, text in enumerate(texts):
            if i < at:
                states.append(("done", text))
            elif i == at and self.phase == "failed":
                states.append(("failed", text))
            elif self.phase == "cancelled":
                states.append(("skipped", text))
            elif i == at or (self.phase == "completing" and i > at):
                states.append(("current", text))
            else:
                states.append(("pending", text))
        return states

    def redraw(self) -> None:
        lines = []
        for state, line in self.steps():
            mark, style = _MARK[state]
            lines.append(Text.assemble((mark, style), (line, "dim" if state in ("pending", "skipped") else "")))
        self.query_one("#rotation-steps", Static).update(Text("\n").join(lines))
        style = {"done": "green", "failed": "bold red", "cancelled": "yellow", "pending": "yellow"}.get(self.phase, "")
        self.query_one("#rotation-message", Static).update(Text(self.message, style=style))
        finished = self.phase in ("done", "cancelled", "failed", "pending")
        button = self.query_one("#cancel", Button)
        button.label = "Close (esc)" if finished else "Cancel rotation (esc)"
        button.variant = "primary" if finished else "error"
        button.disabled = self.phase in ("starting", "completing", "cancelling")
        self.refresh_bindings()

    # -- the rotation, one blocking call at a time -----------------------------------------------------------

    def poll(self) -> None:
        """Every POLL seconds (and from tests): ask whether the new key has handshaken."""
        if self.phase == "waiting" and not self._pending:
            self._run("check")

    def _run(self, op: str) -> None:
        self._pending = True
        self._call(op)

    @work(thread=True, group="rotation", exit_on_error=False)
    def _call(self, op: str) -> None:
        rotation = self.rotation
        with self._lock:
            outcome: Progress | ApplyResult
            try:
                if op == "start":
                    outcome = rotation.start()
                elif op == "check":
                    outcome = rotation.check()
                elif op == "complete":
                    outcome = rotation.complete()
                else:
                    outcome = rotation.cancel("cancelled by the user")
            except Exception as exc:  # a bug must still end in words on screen, not a silent stuck screen
                log.exception("staged rotation: %s failed", op)
                outcome = ApplyResult(False, f"Unexpected error while the rotation was {rotation.stage.value} "
                                             f"({exc!r}): compare `wg show {rotation.plan.ifname}` with the file.")
        with contextlib.suppress(RuntimeError):  # the app is closing: nobody to tell
            self.app.call_from_thread(self._after, op, outcome)

    def _after(self, op: str, outcome: Progress | ApplyResult) -> None:
        self._pending = False
        if op == "check" and self.phase != "waiting":
            return  # the user cancelled while this check ran: the cancel's own result follows
        stage = self.rotation.stage
        if isinstance(outcome, Progress):
            self.waited = outcome.waited
            self.message = outcome.message
            if stage is Stage.WAITING and outcome.timed_out:
                self.phase = "pending"
                self._finish(ApplyResult(False, outcome.message))
            elif stage is Stage.WAITING and outcome.ready:
                self.phase, self.at = "completing", 3
                self.message = "The new key has handshaken: moving the AllowedIPs and removing the old key…"
                self._run("complete")
            elif stage is Stage.WAITING:
                # The step list shows the seconds; this line says what happens next.
                self.message = ("The old key keeps working meanwhile. The rotation completes by itself once the "
                                "client connects with its new config; esc cancels and removes the new key.")
                if op == "start":
                    self.phase, self.at = "waiting", 1 if self.show_client else 2
                    self._show_client_once()
            elif stage is Stage.CANCELLED:
                self.phase = "cancelled"
                self._finish(ApplyResult(False, outcome.message))
            else:
                self.phase = "failed"
                self._finish(ApplyResult(False, outcome.message))
        else:
            self.message = outcome.message
            if stage is Stage.DONE:
                self.phase, self.at = "done", 6
            elif stage is Stage.CANCELLED:
                self.phase = "cancelled"
            elif stage is Stage.WAITING:
                # Moving the AllowedIPs failed: the old key still has them; the next poll tries again.
                self.phase, self.at = "waiting", 2
            else:
                self.phase = "failed"
                if op == "complete":
                    self.at = 5  # the file could not be written (the runtime part was rolled back)
            if stage is not Stage.WAITING:
                self._finish(outcome)
        self.redraw()

    def _finish(self, result: ApplyResult) -> None:
        self.result = result
        if self._timer is not None:
            self._timer.stop()

    def _show_client_once(self) -> None:
        if self.show_client is not None and not self.client_shown:
            self.client_shown = True
            self.at = max(self.at, 2)
            self.show_client()

    # -- keys ------------------------------------------------------------------------------------------------

    def action_client_config(self) -> None:
        if self.show_client is not None:
            self.client_shown = True
            self.show_client()
            self.redraw()

    def action_cancel_or_close(self) -> None:
        if self.result is not None:
            self.dismiss(self.result)
        elif self.phase == "waiting" and not self._pending:
            self.phase = "cancelling"
            self.message = "Cancelling: removing the new key…"
            self.redraw()
            self._run("cancel")
        elif self.phase == "waiting":
            # A check is in flight: cancel right after it (the lock orders the two calls).
            self.phase = "cancelling"
            self.redraw()
            self._call("cancel")
        else:
            self.notify("One moment: the rotation is in the middle of a step.", severity="warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "client":
            self.action_client_config()
        else:
            self.action_cancel_or_close()

    def cancel_now(self, why: str) -> ApplyResult | None:
        """Blocking: roll back a waiting rotation when wgtui is closing (the old key never stopped working)."""
        with self._lock:
            if self.rotation.stage is Stage.WAITING:
                return self.rotation.cancel(why)
        return None
