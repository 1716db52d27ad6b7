"""Provides the question asked when a rotation session is left while rotations still wait: keep, cancel or stay."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from wgtui.compat import StrEnum


class Leave(StrEnum):
    KEEP = "keep"
    """Leave them pending: in the file and on the interface, finished by whoever sees the handshake."""
    CANCEL = "cancel"
    """Take the new keys back; the old ones worked throughout."""
    STAY = "stay"


class LeaveRotations(ModalScreen[Leave]):
    """Keeping them pending is the default (enter): it strands nobody and can be undone later, while cancelling
    throws away the configs the clients may already have scanned."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,k", "choose('keep')", "Keep them pending", id="leave.keep"),
        Binding("x", "choose('cancel')", "Cancel them", id="leave.cancel"),
        Binding("escape,s", "choose('stay')", "Stay", id="leave.stay"),
    ]

    def __init__(self, pending: int, ifname: str) -> None:
        super().__init__()
        self.pending = pending
        self.ifname = ifname

    def compose(self) -> ComposeResult:
        some = "1 rotation is" if self.pending == 1 else f"{self.pending} rotations are"
        with Vertical(classes="dialog", id="leave-box") as box:
            box.border_title = Content(f"Leave the rotation session on {self.ifname}?")
            with VerticalScroll(classes="dialog-body"):
                yield Static(Text(
                    f"{some} still pending: each new key is in the file and on {self.ifname} beside its old one, "
                    "which keeps working.\n\nKept pending, each finishes as soon as wgtui sees its new key "
                    "handshake: this dashboard does that by itself (R reopens the session), so does a later one, "
                    "and `wgtui peer pending --finish`. Cancelled, the new keys are removed and the configs handed "
                    "to the clients no longer work."), id="leave-body")
            with Horizontal(classes="buttons"):
                # Not focusable: enter is the dialog's own key (keep), whichever button the mouse last touched.
                for label, choice, variant in (("Keep them pending (enter)", Leave.KEEP, "primary"),
                                               ("Cancel them (x)", Leave.CANCEL, "error"),
                                               ("Stay (esc)", Leave.STAY, "default")):
                    button = Button(label, id=f"leave-{choice}", variant=variant, compact=True)  # type: ignore[arg-type]
                    button.can_focus = False
                    yield button
        yield Footer()

    def action_choose(self, choice: str) -> None:
        self.dismiss(Leave(choice))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(Leave(str(event.button.id).removeprefix("leave-")))
