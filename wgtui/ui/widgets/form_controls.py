"""Provides form controls whose state reads as text: `[x]`/`[ ]` boxes, `(•)`/`( )` radios, and a radio set that
selects as the arrows move."""

from __future__ import annotations

from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, RadioButton, RadioSet

# Textual draws a toggle as `▐X▌` / `▐●▌` whose state is only the colour of the X or the dot: under NO_COLOR, on a
# monochrome terminal or to a screen reader every box reads "checked". These draw the state itself.


def check_mark(on: bool) -> str:
    return "[x]" if on else "[ ]"


def radio_mark(on: bool) -> str:
    return "(•)" if on else "( )"


_CSS = """
{name} > .toggle--button {{ color: $text-muted; background: transparent; text-style: none; }}
{name}.-on > .toggle--button {{ color: $text-success; background: transparent; text-style: bold; }}
"""


class TextCheckbox(Checkbox):
    """A checkbox reading `[x] label` or `[ ] label`."""

    DEFAULT_CSS = _CSS.format(name="TextCheckbox")

    @property
    def _button(self) -> Content:
        return Content.styled(check_mark(self.value), self.get_visual_style("toggle--button"))


class TextRadioButton(RadioButton):
    """A radio button reading `(•) label` or `( ) label`."""

    DEFAULT_CSS = _CSS.format(name="TextRadioButton")

    @property
    def _button(self) -> Content:
        return Content.styled(radio_mark(self.value), self.get_visual_style("toggle--button"))


class ChoiceSet(RadioSet):
    """A radio set where ↑ ↓ ← → choose, as radio groups do elsewhere: the choice is never only highlighted, so what
    follows it in the form (a field only one choice needs) is there when tab moves on. Space or enter on a choice
    confirms it (Confirmed): the form then moves on to what that choice needs."""

    class Confirmed(Message):
        def __init__(self, choices: ChoiceSet) -> None:
            super().__init__()
            self.choices = choices

        @property
        def control(self) -> ChoiceSet:
            return self.choices

    def action_toggle_button(self) -> None:
        super().action_toggle_button()
        if self.has_focus:
            self.post_message(self.Confirmed(self))

    def action_next_button(self) -> None:
        super().action_next_button()
        if self.has_focus:  # RadioSet also calls this when mounted, to highlight: that must not choose
            RadioSet.action_toggle_button(self)

    def action_previous_button(self) -> None:
        super().action_previous_button()
        if self.has_focus:
            RadioSet.action_toggle_button(self)
