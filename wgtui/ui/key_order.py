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
# Keys typed while a change opens its dialog ("a" then "alice" at once, while the add form is worked out in a
# thread) are for that dialog: they used to reach the dashboard's own bindings ("i" switched the interface, "e"
# started an edit). They are kept until the dialog opens and then given to it; if the flow ends without a dialog
# (it was refused: its message says why), they are dropped; after HOLD_S they go where they would have gone.
# Kept keys are for the first dialog only: once it closes, the rest are dropped. And a dialog is answered only by
# keys that arrived after it was shown: "d", "y", "y" typed at once would otherwise confirm a removal and apply its
# diff unseen. Only a dialog that says ACCEPTS_TYPE_AHEAD takes keys that arrived before it: the peer form (text
# typed ahead is still the user's text, and its diff preview comes next) and the screens whose keys only look
# around (details, help, the sort and column choosers).

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any

from textual import events
from textual._time import get_time
from textual.app import App
from textual.message_pump import MessagePump
from textual.screen import ModalScreen, Screen
from textual.timer import Timer

SETTLE_S = 0.5
"""The longest a key waits for a widget to handle what is queued before it (a safety net: it takes a few ms)."""
HOLD_S = 3.0
"""The longest keys typed while a dialog opens are kept for it: a flow that waits longer (another process holds
the config's lock) must not swallow the keys that would leave it, `q` among them."""


class KeyOrder:
    """One app's keys, one at a time."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.behind = 0
        """Bindings whose consequences (callbacks in the app's queue) have not all run yet."""
        self.held: list[events.Key | events.Paste] | None = None
        """Keys typed while a dialog opens (None: not holding)."""
        self._giving = False
        self._first = False
        self._hold_timer: Timer | None = None
        self._subscribed = False
        self._shown: weakref.WeakKeyDictionary[Screen[Any], float] = weakref.WeakKeyDictionary()
        """When each screen was first shown, on the clock Textual stamps events with."""

    def _subscribe(self) -> None:
        if not self._subscribed and self.app.is_running:
            self.app.screen_change_signal.subscribe(self.app, self._screen_changed, immediate=True)
            self._subscribed = True  # screens shown before this are not known: they take every key

    def hold(self) -> None:
        """A change flow starts: keep what is typed for the dialog it opens."""
        app = self.app
        if self.held is not None or not app.is_running:
            return
        self._subscribe()
        self.held = []
        self._hold_timer = app.set_timer(HOLD_S, self._give)

    def flow_ended(self) -> None:
        """The flow is over: keys kept for a dialog that never opened are dropped (its refusal says why)."""
        if self.held is not None and not self._giving:
            self._stop_holding()

    def _screen_changed(self, screen: Screen[Any]) -> None:
        self._shown.setdefault(screen, get_time())
        if self.held is None:
            return
        if self._giving:
            self.held.clear()  # the dialog they were typed for has closed (or another opened over it)
        else:
            self._give()

    def _give(self) -> None:
        """Hand the kept keys on, one app turn each, behind whatever the last one queued."""
        self._hold_timer = None
        if self.held is not None and not self._giving:
            self._giving = True
            self._first = True
            if not self.app.call_later(self._give_one):
                self._stop_holding()

    async def _give_one(self) -> None:
        if self._first:
            # The dialog has just been pushed: its mounting (which focuses its first field through the app's queue)
            # runs first, then the keys, one app turn behind it.
            self._first = False
            await settle(self.app.screen)
            if self.app.call_later(self._give_one):
                return
        if not self.held:
            self._stop_holding()
            return
        await self._now(self.held.pop(0))
        if not self.app.call_later(self._give_one):
            self._stop_holding()

    def _stop_holding(self) -> None:
        self.held = None
        self._giving = False
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None

    async def handled(self, event: events.Key | events.Paste) -> bool:
        """Handle a key or paste from the terminal now, in its turn; False: let Textual forward it as usual."""
        if event.is_forwarded:
            return False
        self._subscribe()
        if self.held is not None:
            self.held.append(event)  # given on in order, from the app's queue (_give_one), after those before it
            return True
        if self.behind:
            # An earlier key's binding queued work (a focus change) behind this key: it goes to the back too
            again = events.Paste(event.text) if isinstance(event, events.Paste) else events.Key(event.key,
                                                                                               event.character)
            again.time = event.time  # when it arrived, not when it was queued again
            self.app.post_message(again)
            return True
        return await self._now(event)

    async def _now(self, event: events.Key | events.Paste) -> bool:
        """Resolve one key or paste; False: nothing here handles it (Textual forwards it, or a kept key is dropped:
        no binding and no field wanted it)."""
        app = self.app
        await settle(app.screen)
        await settle(app.focused)
        screen = app.screen
        if event.time < self._shown.get(screen, 0.0) and isinstance(screen, ModalScreen) \
                and not getattr(screen, "ACCEPTS_TYPE_AHEAD", False):
            return True  # typed before this dialog could be seen: it does not answer it
        focused = app.focused
        if isinstance(event, events.Paste):
            if focused is None:
                return False
            event._set_forwarded()
            await focused._on_message(event)  # the paste handlers of the widget's classes, as its queue runs them
            return True
        if screen.maximized is not None and event.key == "escape":
            return False  # Textual's own rule for a maximized widget
        app.app_focus = True
        if focused is not None:
            screen._clear_tooltip()  # as Textual does for each key
        if await app._check_bindings(event.key, priority=True):
            return await self._bound()
        if focused is not None and focused.check_consume_key(event.key, event.character):
            event._set_forwarded()
            await focused._on_message(event)
            return True
        if await app._check_bindings(event.key):
            return await self._bound()
        return False

    async def _bound(self) -> bool:
        """A binding ran: the keys already queued wait for what it set going. A screen's action often posts a
        message that bubbles to the app (the dashboard's `a` asks the app for a change flow): once the screen has
        passed it on, it is in the app's queue ahead of the mark below, and the keys behind wait for both."""
        await settle(self.app.screen)
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
