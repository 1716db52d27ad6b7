"""Provides the question enabling an expired peer asks first: its new expiry (empty: never), checked as you type."""

# Enabled with the expiry that passed, the agent would disable the peer again at once; the command line refuses that
# (`--expires` or `--force`), and the dashboard asks instead of refusing. Empty means never, which is what --force
# does (the passed expiry is lifted); the preview that follows shows the new `expires=` in the diff.

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from wgtui.keys import short_key
from wgtui.lifecycle.periods import PolicyError, parse_expiry
from wgtui.model import KEEP, Unchanged
from wgtui.ui.policy_facts import WARN, expiry_fact, expiry_hint

if TYPE_CHECKING:
    from textual.app import App

    from wgtui.monitor import PeerRow

NEW_EXPIRY_PLACEHOLDER = "empty: never (e.g. 2027-06-30, or 2027-06-30T18:00+02:00)"


def expiry_problem(text: str, now: float) -> str:
    """Why `text` cannot be the new expiry ("" when it can): it must parse and lie ahead."""
    if not text.strip():
        return ""
    try:
        expiry = parse_expiry(text)
    except PolicyError as exc:
        return str(exc)
    if expiry.expired(now):
        return "That has passed already: give a time ahead (or leave it empty: never)."
    return ""


class NewExpiryScreen(ModalScreen[str | None]):
    """Dismisses with the new expiry as typed (`never` when left empty), or None (escape: nothing is enabled)."""

    DEFAULT_CSS = """
    NewExpiryScreen { align: center middle; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="new_expiry.cancel", tooltip="close; the peer stays disabled"),
    ]

    def __init__(self, label: str, passed: str, clock: Callable[[], float]) -> None:
        super().__init__()
        self.label = label
        self.passed = passed
        """`2 days ago (2027-01-13 08:00 UTC)`."""
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="expiry-dialog") as box:
            box.border_title = Content(f"Enable {self.label}")
            yield Static(Text(f"{self.label} expired {self.passed}. Enabled with that expiry, the agent would "
                              "disable it again at once: give it a new one.", style=WARN), id="expiry-why")
            with Horizontal(classes="form-row"):
                yield Label("New expiry", classes="form-label")
                with Vertical(classes="form-field"):
                    yield Input(placeholder=NEW_EXPIRY_PLACEHOLDER, id="new-expiry", compact=True)
                    yield Static(id="new-expiry-msg", classes="form-msg")
            with Horizontal(classes="buttons"):
                yield Button("Preview (enter)", id="submit", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._judge("")
        self.query_one("#new-expiry", Input).focus()

    def _judge(self, value: str) -> bool:
        msg = self.query_one("#new-expiry-msg", Static)
        problem = expiry_problem(value, self.clock())
        if problem:
            msg.update(Text(problem, style="red"))
        elif value.strip():
            msg.update(Text(*expiry_hint(parse_expiry(value), self.clock())))
        else:
            msg.update(Text("never expires: the expiry that passed is lifted", style="dim"))
        msg.display = True
        self.query_one("#submit", Button).disabled = bool(problem)
        return not problem

    @on(Input.Changed, "#new-expiry")
    def _changed(self, event: Input.Changed) -> None:
        self._judge(event.value)

    @on(Input.Submitted, "#new-expiry")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.action_cancel()
        else:
            self._submit()

    def _submit(self) -> None:
        value = self.query_one("#new-expiry", Input).value
        if self._judge(value):
            self.dismiss(value.strip() or "never")

    def action_cancel(self) -> None:
        self.dismiss(None)


async def new_expiry_if_expired(app: App[Any], row: PeerRow | None, now: float,
                                clock: Callable[[], float]) -> str | Unchanged | None:
    """Before enabling: KEEP when the peer's expiry has not passed (nothing to ask), else the new expiry the user
    gives (`never` included), or None when they cancel."""
    fact = expiry_fact(row.meta if row is not None else None, now)
    if row is None or fact is None or fact[0] != "expired":
        return KEEP
    label = row.name or short_key(row.peer.public_key)
    return await app.push_screen_wait(NewExpiryScreen(label, fact[1], clock))
