"""Provides the dashboard's filter box: an Input whose text is handed on as it is typed, in the same frame."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input


class FilterBox(Input):
    """Textual's Input, and `on_value` called at once with each new text.

    Input.Changed is handled a frame after the key (the box is drawn first, then the table re-filtered); called
    here, the filtered table and the box are drawn in the same frame. The Changed message still follows.
    """

    def __init__(self, on_value: Callable[[str], None], *, placeholder: str = "", id: str | None = None,
                 classes: str | None = None, compact: bool = False) -> None:
        super().__init__(placeholder=placeholder, id=id, classes=classes, compact=compact)
        self._on_value = on_value

    def watch_value(self, value: str) -> None:
        self._on_value(value)
