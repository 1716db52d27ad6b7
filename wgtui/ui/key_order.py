"""Provides typed keys handled in the order they were typed, however many arrive at once (SSH delivers bursts)."""

# Textual hands a letter straight to the focused Input, but a bound key (backspace, arrows, tab, enter) bubbles
# up the widget tree, one message queue at a time, before its binding runs; and what a binding sets going (focus
# moves, a field selecting its text as it gains focus) is queued behind the keys that already arrived. So keys that
# arrive together overtook each other: "bob", backspace, "x" typed quickly gave "bobx" minus a later letter, and
# "alice", tab, tab, "10.0.0.5/32" put the address into the name (seen at 80x24 in tmux; Textual issue #6605).
# Over a slow link a fast typist's keys arrive together. So each key is resolved before the next is taken:
# whatever the last binding queued runs first, then priority bindings, then the focused widget's own handling of
# what it consumes (its letters, a paste), then the bindings from the focused widget up: the chain the bubbled key
# would have met. A key nothing handles goes on as before.

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from textual import events
from textual.app import App
from textual.message_pump import MessagePump

SETTLE_S = 0.5
"""The longest a key waits for a widget to handle what is queued before it (a safety net: it takes a few ms)."""


class KeyOrder:
    """One app's keys, one at a time."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.behind = 0
        """Bindings whose consequences (callbacks in the app's queue) have not all run yet."""

    async def handled(self, event: events.Key | events.Paste) -> bool:
        """Handle a key or paste from the terminal now, in its turn; False: let Textual forward it as usual."""
        if event.is_forwarded:
            return False
        app = self.app
        if self.behind:
            # An earlier key's binding queued work (a focus change) behind this key: it goes to the back too
            again = events.Paste(event.text) if isinstance(event, events.Paste) else events.Key(event.key,
                                                                                               event.character)
            app.post_message(again)
            return True
        await settle(app.screen)
        await settle(app.focused)
        focused = app.focused
        if isinstance(event, events.Paste):
            if focused is None:
                return False
            event._set_forwarded()
            await focused._on_message(event)  # the paste handlers of the widget's classes, as its queue runs them
            return True
        if app.screen.maximized is not None and event.key == "escape":
            return False  # Textual's own rule for a maximized widget
        app.app_focus = True
        if focused is not None and focused.check_consume_key(event.key, event.character):
            if await app._check_bindings(event.key, priority=True):
                return self._bound()
            event._set_forwarded()
            await focused._on_message(event)
            return True
        if await app._check_bindings(event.key, priority=True) or await app._check_bindings(event.key):
            return self._bound()
        return False

    def _bound(self) -> bool:
        """A binding ran: the keys already queued wait for what it queued in turn."""
        self.behind += 1
        if not self.app.call_later(self._caught_up):
            self.behind -= 1
        return True

    def _caught_up(self) -> None:
        self.behind -= 1


async def settle(pump: MessagePump | None) -> None:
    """Let `pump` handle what is queued for it (a field's focus, a screen's resume) before the next key."""
    if pump is None or not pump.message_queue_size:
        return
    done = asyncio.Event()
    if pump.call_later(done.set):
        with contextlib.suppress(asyncio.TimeoutError):  # then the key goes on, as Textual alone would send it
            await asyncio.wait_for(done.wait(), SETTLE_S)
