"""Provides the table of a rotation session: a row per peer, drawn from the core's Step and StagedRotation only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from wgtui import keys
from wgtui.changes.rotation import StagedRotation, Step
from wgtui.durations import short_age

STEP_LOOK: dict[Step, tuple[str, str]] = {
    Step.PLANNED: ("·", "dim"),
    Step.WAITING: ("…", "yellow"),
    Step.HANDSHAKEN: ("→", "bold cyan"),
    Step.DONE: ("✓", "green"),
    Step.CANCELLED: ("–", "dim"),
    Step.BLOCKED: ("!", "bold red"),
    Step.FAILED: ("✗", "red"),
}
"""A glyph per step (shapes that read without colour, NO_COLOR included) and its style."""

COLUMNS = (("peer", "peer"), ("new", "new key"), ("step", "step"), ("waited", "waited"), ("client", "client config"))
STEP_WIDTH = max(len(f"{glyph} {step}") for step, (glyph, _style) in STEP_LOOK.items())
"""The step column fits every step from the start: a DataTable sizes a column by its first cells."""


class RotationTable(DataTable[Text], inherit_bindings=False):
    """Rows keyed by old key; `refresh_rows` redraws only the cells whose text changed (the seconds, mostly).

    DataTable's own enter binding is left out, so that enter is the dialog's (client config) and the footer says so.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, id="session.up"),
        Binding("down", "cursor_down", "Down", show=False, id="session.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="session.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="session.page_down"),
        Binding("home", "scroll_top", "First", show=False, id="session.first"),
        Binding("end", "scroll_bottom", "Last", show=False, id="session.last"),
    ]

    def __init__(self, rotations: Sequence[StagedRotation], client: Callable[[StagedRotation], str], *,
                 id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.rotations = rotations
        self.client = client
        """The client config column's text for a rotation: saved, own key, –."""
        self.ended: dict[str, float] = {}
        """Seconds each finished rotation had waited when it finished (the clock keeps running, the wait does not)."""
        self._drawn: dict[str, tuple[str, ...]] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key, width=STEP_WIDTH if key == "step" else None)
        for rotation in self.rotations:
            cells = self._cells(rotation)
            self.add_row(*cells, key=rotation.old_key)
            self._drawn[rotation.old_key] = tuple(c.plain for c in cells)

    @property
    def highlighted(self) -> StagedRotation | None:
        index = self.cursor_row
        return self.rotations[index] if 0 <= index < len(self.rotations) else None

    def waited(self, rotation: StagedRotation) -> float:
        if rotation.finished or rotation.step is Step.BLOCKED:
            return self.ended.setdefault(rotation.old_key, rotation.waited)
        self.ended.pop(rotation.old_key, None)
        return rotation.waited

    def _cells(self, rotation: StagedRotation) -> tuple[Text, ...]:
        glyph, style = STEP_LOOK[rotation.step]
        return (Text(rotation.label), Text(keys.short_key(rotation.new_key)), Text(f"{glyph} {rotation.step}", style),
                Text(short_age(self.waited(rotation)), justify="right"), Text(self.client(rotation)))

    def refresh_rows(self) -> None:
        for rotation in self.rotations:
            cells = self._cells(rotation)
            plain = tuple(c.plain for c in cells)
            drawn = self._drawn.get(rotation.old_key)
            if plain == drawn:
                continue
            for (key, _label), cell, old in zip(COLUMNS, cells, drawn or ("",) * len(cells), strict=True):
                if cell.plain != old:
                    self.update_cell(rotation.old_key, key, cell)
            self._drawn[rotation.old_key] = plain
