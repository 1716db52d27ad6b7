"""Provides the Textual application: wires the monitor thread to the dashboard and holds app-wide actions."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.driver import Driver
from textual.screen import Screen

from wgtui.backends.base import Backend
from wgtui.backends.locked import LockedBackend
from wgtui.changes.audit import AUDIT_LOG
from wgtui.changes.handshake_watch import HandshakeWatch
from wgtui.config_source import ConfigSource
from wgtui.interrupts import signal_name
from wgtui.model import REJECT_AFTER_TIME
from wgtui.monitor import Monitor, Update
from wgtui.settings import load as load_settings
from wgtui.store import StoreError
from wgtui.ui import keymap, prefs
from wgtui.ui.columns import TITLES
from wgtui.ui.disabled_rows import RecordingConfig
from wgtui.ui.flows import ChangeFlows, interrupted_configs
from wgtui.ui.key_age import OVERDUE
from wgtui.ui.messages import (
    ChangeKind,
    ChangeRequested,
    RedrawAsked,
    RotationsHandshaken,
    RotationsWaiting,
    ViewChosen,
)
from wgtui.ui.peer_rows import SORTS, order_words
from wgtui.ui.screen_diff import ScreenDiff
from wgtui.ui.screens.dashboard import DashboardScreen
from wgtui.ui.screens.help import HelpScreen
from wgtui.ui.words import for_this_user

FULL_REDRAW_SECONDS = 60.0
"""How long text that another program wrote on the terminal can stay: the screen diff writes only the cells it
changed, so it would stay until those cells change. A full frame every minute costs one screen of output (see
README's measurements); Ctrl+L does the same at once."""


@dataclass(frozen=True)
class AppOptions:
    interval: float = 1.0
    online_after: float = float(REJECT_AFTER_TIME)
    interfaces: list[str] | None = None
    config_dir: Path = Path("/etc/wireguard")
    read_only: bool = False
    notice: str | None = None
    """Why the app runs on the demo backend (shown under the header and in help)."""
    max_key_age: float = 0.0
    """--max-key-age in seconds: keys older than this are overdue (0: each interface's wgtui.json decides)."""
    autostart: bool = True
    """Poll in a thread; tests turn it off and call poll_now() for deterministic frames."""
    clock: Callable[[], float] = time.time
    remember: Path | None = None
    """Where the dashboard's sort and columns are remembered. None: the user's default (prefs.default_path) when
    the app runs for real (autostart), nowhere when a test or a benchmark drives it."""


class WgtuiApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "wgtui"
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.APP)

    def __init__(self, backend: Backend, options: AppOptions | None = None) -> None:
        self.screen_diff = ScreenDiff()
        """The driver's screen diff (a real terminal only): invalidated for a full redraw. Made before App's own
        __init__, which asks for the driver class."""
        super().__init__()
        # The poll thread and the change workers share one backend: serialise them.
        self.backend = LockedBackend(backend)
        self.options = options = options or AppOptions()
        self.clock = options.clock
        self.configs = RecordingConfig(ConfigSource(options.config_dir))
        self.monitor = Monitor(self.backend, interval=options.interval, online_after=options.online_after,
                               interfaces=options.interfaces, config_for=self.configs, clock=options.clock)
        self.handshakes = HandshakeWatch(self.backend, self._handshaken_now)
        """Reads ten times a second while a young rotation waits, so its move follows the client's switch within
        about 0.1 s (the monitor's pace is a second), wherever the rotation was started."""
        self.prefs_path = options.remember or (prefs.default_path() if options.autostart else None)
        view, self.prefs_problem = prefs.load(self.prefs_path) if self.prefs_path else (prefs.ViewPrefs(), None)
        self.notice = for_this_user(options.notice, os.geteuid())
        """The demo notice as this user should read it: root is never told to start with sudo."""
        self.dashboard = DashboardScreen(options, is_demo=self.is_demo, history=self.monitor.history,
                                         key_policy=self.key_policy, view=view, notice=self.notice)
        self.changes = ChangeFlows(self, self.dashboard)
        self.full_redraws = 0
        self.stopped_by: int | None = None
        """The signal (SIGTERM, SIGHUP, SIGINT) that ended the app, for the exit code."""
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def is_demo(self) -> bool:
        return self.backend.kind == "demo"

    def key_policy(self, ifname: str) -> float:
        """Blocking: when a key of `ifname` is overdue, from its wgtui.json (--max-key-age overrides it)."""
        try:
            return float(load_settings(self.options.config_dir, ifname).max_key_age)
        except (StoreError, OSError):
            return 0.0  # an unreadable wgtui.json is reported where it is used for a change

    def get_driver_class(self) -> type[Driver]:
        # Output goes through a screen diff that writes only the cells that changed (ui/screen_diff.py): a
        # dashboard that redraws every second costs a fraction of the bytes over SSH.
        from wgtui.ui.screen_diff import diffing

        return diffing(super().get_driver_class(), self.screen_diff)

    def on_mount(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.push_screen(self.dashboard)
        if self.notice:
            self.notify(self.notice, title="Demo backend", severity="warning", timeout=12, markup=False)
        if self.prefs_problem:
            self.notify(self.prefs_problem, title="Remembered view", severity="warning", markup=False)
        if self.options.autostart:
            self.monitor.start(self._from_monitor)
        self.set_interval(FULL_REDRAW_SECONDS, self.full_redraw)
        waiting = interrupted_configs(self.options.config_dir)  # one listdir: journals left by kill -9 or a crash
        if waiting:
            self.changes.recover_interrupted(waiting, self.options.read_only)

    def full_redraw(self) -> None:
        """Write every cell of the terminal again: what another program wrote over the dashboard goes."""
        self.full_redraws += 1
        self.screen_diff.invalidate()
        self.dashboard.redraw_all()
        self.screen.refresh(repaint=True)

    def on_redraw_asked(self, _message: RedrawAsked) -> None:
        self.full_redraw()

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
        self.changes.shutdown()
        self.monitor.stop()
        self.exit(message=message or None)

    def _from_monitor(self, update: Update) -> None:
        configs = self.configs.latest()  # the file as this very poll read it: its disabled peers go with the rows
        try:
            # Blocks the poll thread until the UI has applied the update: polls cannot pile up behind a busy UI.
            self.call_from_thread(self.dashboard.apply_update, update, configs)
        except RuntimeError:
            self.monitor.stop()  # the app is shutting down
        except Exception:
            if not (self._exit or self.dashboard._closing or self.dashboard._closed):
                raise
            self.monitor.stop()  # a poll that arrived while the screens were being taken down (NoMatches)

    def poll_now(self) -> Update:
        """Poll on the UI thread and apply the result (tests, and after a change)."""
        update = self.monitor.poll_once()
        self.dashboard.apply_update(update, self.configs.latest())
        return update

    async def action_quit(self) -> None:
        self.changes.shutdown()
        self.monitor.stop()
        self.exit()

    def action_help(self) -> None:
        source = ("simulated interfaces (demo backend): nothing real is read or changed" if self.is_demo
                  else "the kernel through netlink, userspace WireGuard through /var/run/wireguard/*.sock")
        self.push_screen(HelpScreen(keymap.help_rows(self.screen), self.options.online_after, self.notice, source,
                                    read_only=self.options.read_only))

    # -- messages from the screens ---------------------------------------------------------------------------

    def on_change_requested(self, message: ChangeRequested) -> None:
        changes, ifname, keys = self.changes, message.ifname, message.keys
        kind = message.kind
        if kind is ChangeKind.ADD:
            changes.add(ifname)
        elif kind is ChangeKind.EDIT:
            changes.edit(ifname, keys[0])
        elif kind is ChangeKind.REMOVE:
            changes.remove(ifname, keys[0])
        elif kind is ChangeKind.ROTATE:
            changes.rotate(ifname, keys)
        elif kind is ChangeKind.SYNC:
            changes.sync(ifname)
        elif kind is ChangeKind.CLIENT_CONFIG:
            changes.client_config(ifname, keys[0], message.name)
        elif kind is ChangeKind.PENDING_ROTATIONS:
            changes.pending_rotations(ifname)
        elif kind is ChangeKind.DISABLE:
            changes.disable(ifname, keys[0])
        elif kind is ChangeKind.ENABLE:
            changes.enable(ifname, keys[0])
        elif kind is ChangeKind.UNDO:
            changes.undo(ifname)
        elif kind is ChangeKind.INIT:
            changes.init(ifname)

    def on_rotations_handshaken(self, message: RotationsHandshaken) -> None:
        self.changes.handshaken(message.ifname, message.pairs)

    def on_rotations_waiting(self, message: RotationsWaiting) -> None:
        if not self.options.read_only:
            self.handshakes.update(message.ifname, message.waiting)

    def _handshaken_now(self, ifname: str, pairs: list[tuple[str, str]]) -> None:
        """From the handshake watch's thread."""
        try:
            self.call_from_thread(self.changes.handshaken, ifname, pairs)
        except RuntimeError:
            self.handshakes.stop()  # the app is shutting down

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

    def on_unmount(self) -> None:
        self.changes.shutdown()
        self.handshakes.stop()
        self.monitor.stop()

    # -- the command palette: the same bindings, by name -----------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for row in keymap.help_rows(screen):
            # Moving the cursor is no command, and Textual lists its own (quit, keys) already.
            if not row.available or row.namespace is None or row.group in (None, keymap.Group.MOVE,
                                                                            keymap.Group.APP):
                continue
            title = row.text[0].upper() + row.text[1:]
            yield SystemCommand(title, f"key: {row.keys}", self._runner(row.action, row.namespace))
        if screen is not self.dashboard:
            return
        dash = self.dashboard
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
