"""Provides the Textual application: wires the monitor thread to the dashboard and holds app-wide actions."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.binding import BindingType

from wgtui import gcpolicy
from wgtui.backends.base import Backend
from wgtui.backends.locked import LockedBackend
from wgtui.changes.handshake_watch import HandshakeWatch
from wgtui.changes.transaction import Recorder, set_recorder
from wgtui.conf import lines
from wgtui.config_source import ConfigSource
from wgtui.lifecycle.peer_usage import read_usage
from wgtui.lifecycle.record import recorder
from wgtui.model import REJECT_AFTER_TIME
from wgtui.monitor import Monitor, Update
from wgtui.settings import load as load_settings
from wgtui.store import StoreError
from wgtui.ui import keymap, prefs
from wgtui.ui.base_app import FULL_REDRAW_SECONDS, TerminalApp
from wgtui.ui.disabled_rows import RecordingConfig
from wgtui.ui.flows import ChangeFlows, interrupted_configs
from wgtui.ui.messages import ChangeRequested, RotationsHandshaken, RotationsWaiting, run_change
from wgtui.ui.screens.dashboard import DashboardScreen
from wgtui.ui.words import for_this_user

if TYPE_CHECKING:
    from wgtui.remote.watch import FleetWatch
    from wgtui.ui.fleet_app import FleetApp

__all__ = ["FULL_REDRAW_SECONDS", "AppOptions", "WgtuiApp", "fleet_app"]


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
    state_dir: Path | None = None
    """--state-dir: where the agent's usage ledger is read from (quota usage, day/week/month history); never created
    by the dashboard. None: no ledger is read (tests, benchmarks)."""


class WgtuiApp(TerminalApp):
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.APP)

    def __init__(self, backend: Backend, options: AppOptions | None = None) -> None:
        options = options or AppOptions()
        prefs_path = options.remember or (prefs.default_path() if options.autostart else None)
        # The demo notice as this user should read it: root is never told to start with sudo.
        super().__init__(online_after=options.online_after, read_only=options.read_only,
                         notice=for_this_user(options.notice, os.geteuid()), prefs_path=prefs_path)
        # The poll thread and the change workers share one backend: serialise them.
        self.backend = LockedBackend(backend)
        self.options = options
        self.clock = options.clock
        """Where the detail screen reads usage from (None: nowhere)."""
        self._recorder_before: Recorder | None = None
        self.configs = RecordingConfig(ConfigSource(options.config_dir))
        self.monitor = Monitor(self.backend, interval=options.interval, online_after=options.online_after,
                               interfaces=options.interfaces, config_for=self.configs, clock=options.clock)
        self.handshakes = HandshakeWatch(self.backend, self._handshaken_now)
        """Reads ten times a second while a young rotation waits, so its move follows the client's switch within
        about 0.1 s (the monitor's pace is a second), wherever the rotation was started."""
        view, self.prefs_problem = prefs.load(self.prefs_path) if self.prefs_path else (prefs.ViewPrefs(), None)
        usage = partial(read_usage, options.state_dir) if options.state_dir is not None else None
        self.dashboard = DashboardScreen(options, is_demo=self.is_demo, history=self.monitor.history, usage=usage,
                                         key_policy=self.key_policy, view=view, notice=self.notice)
        self.changes = ChangeFlows(self, self.dashboard)
        self._gc_paused = options.autostart and gc.isenabled()
        if self._gc_paused:
            # Until the first poll is on screen: start-up makes ~10^5 objects that live on (the file's peers, the
            # rows), and the cyclic collector's passes over them cost ~0.1 s before the first frame at 10,000 peers.
            gc.disable()
        if options.autostart:
            # The first poll (the interface and its config file: ~0.5 s at 10,000 peers) runs while Textual starts
            # up, not after it: its update waits for the dashboard (_from_monitor).
            self.monitor.start(self._from_monitor)

    def _resume_gc(self) -> None:
        if self._gc_paused:
            self._gc_paused = False
            gc.enable()

    @property
    def is_demo(self) -> bool:
        return self.backend.kind == "demo"

    def key_policy(self, ifname: str) -> float:
        """Blocking: when a key of `ifname` is overdue, from its wgtui.json (--max-key-age overrides it)."""
        try:
            return float(load_settings(self.options.config_dir, ifname).max_key_age)
        except (StoreError, OSError):
            return 0.0  # an unreadable wgtui.json is reported where it is used for a change

    def on_mount(self) -> None:
        if self.options.state_dir is not None:  # changes made here leave final usage readings and events, as the CLI's
            self._recorder_before = set_recorder(recorder(self.options.state_dir))
        self.start_redraws()
        if self._gc_paused:
            self.set_timer(10.0, self._resume_gc)  # a first poll that never comes must not keep the collector off
        self.push_screen(self.dashboard)
        if self.notice:
            self.notify(self.notice, title="Demo backend", severity="warning", timeout=12, markup=False)
        if self.prefs_problem:
            self.notify(self.prefs_problem, title="Remembered view", severity="warning", markup=False)
        waiting = interrupted_configs(self.options.config_dir)  # one listdir: journals left by kill -9 or a crash
        if waiting:
            self.changes.recover_interrupted(waiting, self.options.read_only)

    def redraw_screens(self) -> None:
        self.dashboard.redraw_all()

    def shutdown(self) -> None:
        self.changes.shutdown()
        self.monitor.stop()

    def _from_monitor(self, update: Update) -> None:
        configs = self.configs.latest()  # the file as this very poll read it: its disabled peers go with the rows
        while not self.dashboard.is_mounted:  # the first poll started with the app (see __init__)
            if self.monitor.stopping or self._exit:
                return
            time.sleep(0.005)
        try:
            # Blocks the poll thread until the UI has applied the update: polls cannot pile up behind a busy UI.
            self.call_from_thread(self.dashboard.apply_update, update, configs)
            self._resume_gc()
            if lines.freeze_asked():
                self.call_from_thread(self.freeze_when_quiet)
        except RuntimeError:
            self.monitor.stop()  # the app is shutting down
        except Exception:
            if not self.taking_down(self.dashboard):
                raise
            self.monitor.stop()  # a poll that arrived while the screens were being taken down (NoMatches)

    def freeze_when_quiet(self) -> bool:
        """gcpolicy.freeze_when_asked, once only what lives on is alive: the dashboard alone on screen, without a
        notification (a dialog or a toast frozen now would never be freed once gone). True when it froze."""
        if self.screen is not self.dashboard or self.screen.query("Toast"):
            return False  # asked again after the next poll
        return gcpolicy.freeze_when_asked()

    def poll_now(self) -> Update:
        """Poll on the UI thread and apply the result (tests, and after a change)."""
        update = self.monitor.poll_once()
        self.dashboard.apply_update(update, self.configs.latest())
        return update

    def help_source(self) -> str:
        return ("simulated interfaces (demo backend): nothing real is read or changed" if self.is_demo
                else "the kernel through netlink, userspace WireGuard through /var/run/wireguard/*.sock")

    # -- messages from the screens ---------------------------------------------------------------------------

    def on_change_requested(self, message: ChangeRequested) -> None:
        run_change(self.changes, message)

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

    def on_unmount(self) -> None:
        self._resume_gc()
        self.changes.shutdown()
        self.handshakes.stop()
        self.monitor.stop()
        if self.options.state_dir is not None:
            set_recorder(self._recorder_before)


def fleet_app(watch: FleetWatch, options: AppOptions) -> FleetApp:
    """The fleet view (ui/fleet_app.py) over `watch`: imported only when asked for, so that a local dashboard
    loads none of it (and the command line reaches the UI through this one module)."""
    from wgtui.ui.fleet_app import FleetApp

    return FleetApp(watch, options)
