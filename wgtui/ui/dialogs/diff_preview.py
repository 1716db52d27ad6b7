"""Provides the diff preview: warnings, notes, runtime operations and the file diff, before anything is done."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import PurePath
from typing import ClassVar, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from wgtui.changes import Plan
from wgtui.changes.plan import describe
from wgtui.compat import StrEnum


class Preview(Protocol):
    """What the preview shows: a local Plan, or a change a remote host's agent worked out (RemotePlan, whose title
    names the host). Its runtime operations come as `steps` lines when it is not a Plan."""

    @property
    def title(self) -> str: ...

    @property
    def warnings(self) -> Sequence[str]: ...

    @property
    def notes(self) -> Sequence[str]: ...

    @property
    def diff(self) -> str: ...

    @property
    def config_path(self) -> PurePath: ...

    def diff_stat(self) -> tuple[int, int]: ...


class Choice(StrEnum):
    """How the preview was left."""

    APPLY = "apply"
    CANCEL = "cancel"
    SAVE_CONFIG_OFF = "save-config-off"
    """Turn SaveConfig off first (a change of its own), then the asked change again."""


ENTER_GRACE = 0.5
"""Seconds after the preview opens during which enter does not apply."""

now = time.monotonic
"""The clock of that grace (a module attribute so that a test can hold it still on a loaded machine)."""


def diff_text(diff: str) -> Text:
    """The unified diff coloured like `git diff`. Secrets are already masked by Plan.diff."""
    text = Text()
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = "dim"
        text.append(line + "\n", style=style)
    return text


def _runtime_lines(plan: Preview) -> list[str]:
    """A local plan's runtime operations as lines (a remote plan comes with its lines, given as `steps`)."""
    return [describe(u) for u in plan.runtime] if isinstance(plan, Plan) else []


def preview_text(plan: Preview, steps: Sequence[str] | None = None) -> Text:
    """Everything the preview says, in reading order. Built from Text: names and paths are user data."""
    text = Text()
    for warning in plan.warnings:
        text.append("⚠ ", style="bold yellow")
        text.append(warning + "\n", style="yellow")
    for note in plan.notes:
        text.append("• ", style="dim")
        text.append(note + "\n")
    lines = list(steps) if steps is not None else _runtime_lines(plan)
    text.append("\nRunning interface\n", style="bold")
    if lines:
        for line in lines:
            text.append(f"  {line}\n")
    else:
        text.append("  (not changed)\n", style="dim")
    text.append("\nConfig file\n", style="bold")
    if plan.diff:
        added, removed = plan.diff_stat()
        text.append(f"  {plan.config_path}: +{added} -{removed} lines; keys are masked here\n", style="dim")
        text.append_text(diff_text(plan.diff))
    else:
        text.append(f"  {plan.config_path} does not change\n", style="dim")
    return text


class DiffPreview(ModalScreen[Choice]):
    """Dismisses with a Choice; it changes nothing itself."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "choose('apply')", "Apply", id="preview.apply", tooltip="apply: the interface, then the file"),
        Binding("n,escape", "choose('cancel')", "Cancel", id="preview.cancel",
                tooltip="change nothing (back to the form, when there was one)"),
        Binding("o", "choose('save-config-off')", "SaveConfig off", id="preview.save_config_off",
                tooltip="turn SaveConfig off first, so that wg-quick down does not undo the change"),
        # Enter applies as well, unless a button has focus (then that button is pressed, Cancel included).
        Binding("enter", "apply_enter", "Apply", id="preview.apply_enter", show=False,
                tooltip="apply (not in the first half second: a double enter in a form must not apply)"),
    ]

    def __init__(self, plan: Preview, *, apply_label: str = "Apply", offer_save_config_off: bool = False,
                 steps: Sequence[str] | None = None, cancel_label: str = "Cancel") -> None:
        super().__init__()
        self.plan = plan
        self.apply_label = apply_label
        self.cancel_label = cancel_label
        self.offer_save_config_off = offer_save_config_off
        self.steps = steps
        self.opened = now()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -tall", id="preview-dialog") as dialog:
            dialog.border_title = Content(self.plan.title)
            dialog.border_subtitle = "↑ ↓ scroll"
            with VerticalScroll(classes="dialog-body", id="preview-box"):
                yield Static(preview_text(self.plan, self.steps), id="preview-body")
            with Horizontal(classes="buttons", id="preview-buttons"):
                yield Button(f"{self.apply_label} (y)", id="apply", variant="primary", compact=True)
                yield Button(f"{self.cancel_label} (n)", id="cancel", compact=True)
                if self.offer_save_config_off:
                    yield Button("Turn SaveConfig off first (o)", id="save-config-off", variant="warning",
                                 compact=True)
        yield Footer()

    def on_mount(self) -> None:
        # The diff has focus so that the arrows scroll it; y / enter / n decide.
        self.query_one("#preview-box").focus()
        self.opened = now()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose" and parameters == (Choice.SAVE_CONFIG_OFF,):
            return self.offer_save_config_off
        return True

    def action_choose(self, choice: str) -> None:
        self.dismiss(Choice(choice))

    def action_apply_enter(self) -> None:
        # The form before this screen is submitted with enter too: a double press (or key repeat) there must
        # not apply a change nobody has seen. y is never ignored.
        if now() - self.opened >= ENTER_GRACE:
            self.dismiss(Choice.APPLY)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(Choice(str(event.button.id)))
