"""Provides what the local dashboard's app and the fleet view's app share: output, redraws, signals, help, palette."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.driver import Driver
from textual.screen import Screen

from wgtui.changes.audit import AUDIT_LOG
from wgtui.interrupts import signal_name
from wgtui.store import StoreError
from wgtui.ui import keymap, prefs
from wgtui.ui.columns import TITLES
from wgtui.ui.key_age import OVERDUE
from wgtui.ui.key_order import KeyOrder
from wgtui.ui.messages import RedrawAsked, ViewChosen
from wgtui.ui.peer_rows import SORTS, order_words
from wgtui.ui.screen_diff import ScreenDiff
from wgtui.ui.screens.dashboard import DashboardScreen
from wgtui.ui.screens.help import HelpScreen

FULL_REDRAW_SECONDS = 60.0
"""How long text that another program wrote on the terminal can stay: the screen diff writes only the cells it
changed, so it would stay until those cells change. A full frame every minute costs one screen of output (see
README's measurements); Ctrl+L does the same at once."""


class TerminalApp(App[None]):
    """An app that writes through the screen diff, redraws on Ctrl+L and every minute, leaves cleanly on SIGTERM
    and SIGHUP (after a change in progress), remembers the dashboard's view, and offers its keys by name."""

    CSS_PATH = "app.tcss"
    TITLE = "wgtui"

    def __init__(self, *, online_after: float, read_only: bool, notice: str | None,
                 prefs_path: Path | None) -> None:
        self.screen_diff = ScreenDiff()
        """The driver's screen diff (a real terminal only): invalidated for a full redraw. Made before App's own
        __init__, which asks for the driver class."""
        super().__init__()
        self.online_after = online_after
        self.read_only = read_only
        self.notice = notice
        self.prefs_path = prefs_path
        self.full_redraws = 0
        self.stopped_by: int | None = None
        """The signal (SIGTERM, SIGHUP, SIGINT) that ended the app, for the exit code."""
        self.loop: asyncio.AbstractEventLoop | None = None
        self.key_order = KeyOrder(self)

    # -- what each app says of itself ------------------------------------------------------------------------

    def help_source(self) -> str:
        """Where the figures come from, for help."""
        raise NotImplementedError

    def redraw_screens(self) -> None:
        """Before a full redraw: the screens' own caches of what is on the terminal are forgotten."""

    def shutdown(self) -> None:
        """The app is ending (quit or signal): stop polling, leave changes as they are."""

    # -- output ----------------------------------------------------------------------------------------------

    def taking_down(self, screen: Screen[Any]) -> bool:
        """The app is exiting or shutting down (a test's run_test ends with a shutdown that never calls exit),
        or `screen` is being removed: a tick from a thread that meets missing widgets then is expected."""
        return self._exit or not self.is_running or screen._closing or screen._closed

    async def on_event(self, event: events.Event) -> None:
        # Keys from the terminal are resolved one by one, in the order typed (see key_order)
        if isinstance(event, (events.Key, events.Paste)) and await self.key_order.handled(event):
            return
        await super().on_event(event)

    def get_driver_class(self) -> type[Driver]:
        # Output goes through a screen diff that writes only the cells that changed (ui/screen_diff.py): a
        # dashboard that redraws every second costs a fraction of the bytes over SSH.
        from wgtui.ui.screen_diff import diffing

        return diffing(super().get_driver_class(), self.screen_diff)

    def start_redraws(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.set_interval(FULL_REDRAW_SECONDS, self.full_redraw)

    def full_redraw(self) -> None:
        """Write every cell of the terminal again: what another program wrote over the screen goes."""
        self.full_redraws += 1
        self.screen_diff.invalidate()
        self.redraw_screens()
        self.screen.refresh(repaint=True)

    def on_redraw_asked(self, _message: RedrawAsked) -> None:
        self.full_redraw()

    # -- signals ---------------------------------------------------------------------------------------------

    def signal_from_handler(self, signum: int) -> None:
        """SIGTERM, SIGHUP (the SSH session dropped) or SIGINT outside a change: leave cleanly. Called in the signal
        handler, inside the event loop's select: handed to the loop rather than acted on there."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.stop_for_signal, signum, "")

    def signal_after_change(self, signum: int) -> None:
        """A signal that waited for a change to end (see wgtui.interrupts): called in the thread that ran it."""
        message = (f"{signal_name(signum)} arrived while a change was being applied: wgtui finished it first (the "
                   f"audit log, {AUDIT_LOG} beside the config, says how it ended) and stopped.")
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.stop_for_signal, signum, message)

    def stop_for_signal(self, signum: int, message: str) -> None:
        if self.stopped_by is not None:
            return
        self.stopped_by = signum
        self.shutdown()
        self.exit(message=message or None)

    async def action_quit(self) -> None:
        self.shutdown()
        self.exit()

    # -- help, the remembered view, the palette --------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(keymap.help_rows(self.screen), self.online_after, self.notice,
                                    self.help_source(), read_only=self.read_only))

    def on_view_chosen(self, message: ViewChosen) -> None:
        if self.prefs_path is not None:
            self._remember(self.prefs_path, message.prefs)

    @work(thread=True, exclusive=True, group="prefs", exit_on_error=False)
    def _remember(self, path: Path, view: prefs.ViewPrefs) -> None:
        # fsync on a slow disk must not hold up the table; `exclusive` keeps only the latest choice waiting.
        try:
            prefs.save(path, view)
        except (StoreError, OSError) as exc:
            self.call_from_thread(self.notify, f"The view was not remembered: {exc}", severity="warning",
                                  markup=False)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for row in keymap.help_rows(screen):
            # Moving the cursor is no command, and Textual lists its own (quit, keys) already.
            if not row.available or row.namespace is None or row.group in (None, keymap.Group.MOVE,
                                                                            keymap.Group.APP):
                continue
            title = row.text[0].upper() + row.text[1:]
            yield SystemCommand(title, f"key: {row.keys}", self._runner(row.action, row.namespace))
        if not isinstance(screen, DashboardScreen):
            return
        dash = screen
        for sort in SORTS:
            yield SystemCommand(f"Sort by {TITLES[sort]}", f"Order peers by {TITLES[sort]}: "
                                f"{order_words(sort, False)} (S reverses)",
                                lambda sort=sort: dash.set_sort(sort))  # type: ignore[misc]
        yield SystemCommand("Show overdue keys", "Filter on `overdue`: keys older than the rotation policy "
                            "(--max-key-age, or max_key_age in wgtui.json)", lambda: dash.action_filter(OVERDUE))
        for name in sorted(dash.book.models):
            yield SystemCommand(f"Switch to interface {name}", f"Show the peers of {name}",
                                lambda name=name: dash.switch_to(name))  # type: ignore[misc]

    def _runner(self, action: str, namespace: object) -> Callable[[], object]:
        return lambda: self.run_action(action, namespace)  # type: ignore[arg-type]
