"""Provides a footer that shows as many keys as the terminal's width holds, the most important first."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.events import Resize
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class RankedFooter(Footer):
    """Textual's footer shows every shown binding and clips what does not fit, so at 80 columns the last keys vanish
    whatever they are and at 200 columns nothing more appears. This one ranks them (`rank`: binding id -> rank, 1
    first, -1 always) and shows the best ranked that fit, in the bindings' own order; the rest are in help (?)."""

    def __init__(self, rank: Mapping[str, int], *, id: str | None = None) -> None:
        super().__init__(id=id, show_command_palette=False)
        self.rank = rank
        self._width = 0

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        app = self.app
        seen: set[str] = set()
        entries: list[tuple[int, int, FooterKey]] = []
        for order, (_node, binding, enabled, tooltip) in enumerate(self.screen.active_bindings.values()):
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            display = app.get_key_display(binding)
            key = FooterKey(binding.key, display, binding.description, binding.action, disabled=not enabled,
                            tooltip=tooltip)
            entries.append((self.rank.get(binding.id or "", -1), order, key))
        room = self.size.width or app.size.width
        chosen: list[tuple[int, FooterKey]] = []
        used = 0
        for rank, order, key in sorted(entries, key=lambda e: (e[0] > 0, e[0], e[1])):
            need = len(key.key_display) + len(key.description) + 3  # " k " + "Word ": FooterKey's own padding
            if used + need > room and rank > 0:
                continue
            used += need
            chosen.append((order, key))
        for _order, key in sorted(chosen, key=lambda c: c[0]):
            # Born with the footer's look: a FooterKey starts compact and the binding then undoes it, two style
            # updates per key each time the footer is rebuilt (a dozen times while the dashboard starts).
            key.set_reactive(FooterKey.compact, self.compact)
            yield key.data_bind(compact=Footer.compact)

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._width:
            self._width = event.size.width
            self.call_after_refresh(self.recompose)
