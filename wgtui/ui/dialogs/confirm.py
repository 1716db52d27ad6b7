"""Provides small dialogs: a yes/no confirmation and a message box for results that must be read, not missed."""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

Severity = Literal["information", "warning", "error"]


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (y, enter on the focused yes button) or False (n, escape). Nothing happens here:
    the caller acts on the answer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: Text, *, yes: str = "Yes", no: str = "Cancel", danger: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.yes = yes
        self.no = no
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm-box") as box:
            box.border_title = Content(self.title_text)
            with VerticalScroll(classes="dialog-body"):
                yield Static(self.body, id="confirm-body")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="error" if self.danger else "primary",
                             compact=True)
                yield Button(f"{self.no} (n)", id="no", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")


class MessageScreen(ModalScreen[None]):
    """A result the user must acknowledge: failures, and anything that says what to do next."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close", id="message.close"),
    ]

    def __init__(self, title: str, body: Text, severity: Severity = "information") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.severity = severity

    def compose(self) -> ComposeResult:
        with Vertical(classes=f"dialog -{self.severity}", id="message-box") as box:
            box.border_title = Content(self.title_text)
            with VerticalScroll(classes="dialog-body"):
                yield Static(self.body, id="message-body")
            with Horizontal(classes="buttons"):
                yield Button("Close (enter)", id="close", compact=True)
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)
