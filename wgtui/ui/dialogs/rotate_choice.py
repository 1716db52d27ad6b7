"""Provides the choice of how to rotate a key: staged (the default), now, or the preshared key only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, RadioSet, Static

from wgtui.compat import StrEnum
from wgtui.conf.validate import validate_key
from wgtui.ui.dialogs.form_context import Check
from wgtui.ui.widgets.form_controls import TextRadioButton


class Mode(StrEnum):
    STAGED = "staged"
    """The old key works until the client uses the new one: nobody is stranded."""
    NOW = "now"
    PSK = "psk"
    """Same key pair, a new preshared key."""


@dataclass(frozen=True)
class RotateRequest:
    mode: Mode
    public_key: str | None = None
    """The client's new public key when it made its own key pair; None: wgtui generates one."""


class ModeChoices(RadioSet):
    """Enter takes the highlighted mode and goes on (space only selects it): one key per decision."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Continue", show=False, id="rotate.choose",
                tooltip="rotate this way (space only selects it)"),
    ]

    class Chosen(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def action_choose(self) -> None:
        index = self._selected if self._selected is not None else self.pressed_index
        self.post_message(self.Chosen(max(index, 0)))


class RotateChoice(ModalScreen[RotateRequest | None]):
    """Staged is the default because it never strands the client. For several peers at once it is the only mode:
    they are rotated in one session, each client keeping its old key until it uses the new one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Cancel", id="rotate.cancel", tooltip="change nothing"),
        Binding("enter", "submit", "Continue", id="rotate.submit", tooltip="go on to the diff preview"),
    ]
    MODES: ClassVar[list[tuple[Mode, str]]] = [
        (Mode.STAGED, "staged (default): the old key works until the client uses the new one"),
        (Mode.NOW, "now: swap at once; the client is cut off until it has its new config"),
        (Mode.PSK, "preshared key only: same key pair, a new preshared key"),
    ]

    def __init__(self, label: str, ifname: str, *, peers: int = 1) -> None:
        super().__init__()
        self.label = label
        self.ifname = ifname
        self.peers = peers
        self.modes = self.MODES if peers == 1 else self.MODES[:1]
        """What applies: a new public key names one peer's key, and only a staged rotation strands nobody."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rotate-dialog") as dialog, VerticalScroll(classes="dialog-body"):
            title = (f"Rotate the key of {self.label} on {self.ifname}" if self.peers == 1 else
                     f"Rotate the keys of {self.peers} marked peers on {self.ifname}")
            dialog.border_title = Content(title)
            if self.peers > 1:
                yield Static(Text(f"{self.label}: one staged session for all of them, started in one change. Each "
                                  "client config is saved in the clients directory; each peer's rotation finishes "
                                  "by itself when its client connects with the new key."), id="rotate-many")
            with ModeChoices(id="rotate-mode", compact=True):
                for i, (mode, text) in enumerate(self.modes):
                    yield TextRadioButton(text, value=i == 0, id=f"mode-{mode}", compact=True)
            with Horizontal(classes="form-row", id="row-new-key") as row:
                row.display = self.peers == 1
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
        return self.modes[max(pressed, 0)][0]

    @on(RadioSet.Changed)
    def _mode_changed(self) -> None:
        self.query_one("#row-new-key").display = self.mode is not Mode.PSK and self.peers == 1

    @on(ModeChoices.Chosen)
    def _mode_chosen(self, event: ModeChoices.Chosen) -> None:
        self.action_submit(self.modes[min(event.index, len(self.modes) - 1)][0])

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
        key = self.query_one("#new-key", Input).value.strip() if mode is not Mode.PSK and self.peers == 1 else ""
        self.dismiss(RotateRequest(mode, key or None))
