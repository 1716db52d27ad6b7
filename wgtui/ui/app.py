"""Provides the Textual application: wires the monitor thread to the dashboard and holds app-wide actions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.screen import Screen

from wgtui.backends.base import Backend
from wgtui.backends.locked import LockedBackend
from wgtui.changes.audit import AUDIT_LOG
from wgtui.config_source import ConfigSource
from wgtui.interrupts import signal_name
from wgtui.model import REJECT_AFTER_TIME
from wgtui.monitor import Monitor, Update
from wgtui.settings import load as load_settings
from wgtui.store import StoreError
from wgtui.ui.flows import ChangeFlows, interrupted_configs
from wgtui.ui.key_age import OVERDUE
from wgtui.ui.messages import ChangeKind, ChangeRequested, RotationsHandshaken
from wgtui.ui.screens.dashboard import SORT_CYCLE, SORT_TITLES, DashboardScreen
from wgtui.ui.screens.help import HelpScreen


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


class WgtuiApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "wgtui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
    ]

    def __init__(self, backend: Backend, options: AppOptions | None = None) -> None:
        super().__init__()
        # The poll thread and the change workers share one backend: serialise them.
        self.backend = LockedBackend(backend)
        self.options = options = options or AppOptions()
        self.clock = options.clock
        self.monitor = Monitor(self.backend, interval=options.interval, online_after=options.online_after,
                               interfaces=options.interfaces, config_for=ConfigSource(options.config_dir),
                               clock=options.clock)
        self.dashboard = DashboardScreen(options, is_demo=self.is_demo, history=self.monitor.history,
                                         key_policy=self.key_policy)
        self.changes = ChangeFlows(self)
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

        return diffing(super().get_driver_class())

    def on_mount(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.push_screen(self.dashboard)
        if self.options.notice:
            self.notify(self.options.notice, title="Demo backend", severity="warning", timeout=12)
        if self.options.autostart:
            self.monitor.start(self._from_monitor)
        waiting = interrupted_configs(self.options.config_dir)  # one listdir: journals left by kill -9 or a crash
        if waiting:
            self.changes.recover_interrupted(waiting, self.options.read_only)

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
        try:
            # Blocks the poll thread until the UI has applied the update: polls cannot pile up behind a busy UI.
            self.call_from_thread(self.dashboard.apply_update, update)
        except RuntimeError:
            self.monitor.stop()  # the app is shutting down

    def poll_now(self) -> Update:
        """Poll on the UI thread and apply the result (tests, and after a change)."""
        update = self.monitor.poll_once()
        self.dashboard.apply_update(update)
        return update

    async def action_quit(self) -> None:
        self.changes.shutdown()
        self.monitor.stop()
        self.exit()

    def action_help(self) -> None:
        source = ("simulated interfaces (demo backend): nothing real is read or changed" if self.is_demo
                  else "the kernel through netlink, userspace WireGuard through /var/run/wireguard/*.sock")
        self.push_screen(HelpScreen(self.options.online_after, self.options.notice, source,
                                    read_only=self.options.read_only))

    def on_change_requested(self, message: ChangeRequested) -> None:
        changes, ifname, keys = self.changes, message.ifname, message.keys
        if message.kind is ChangeKind.ADD:
            changes.add(ifname)
        elif message.kind is ChangeKind.EDIT:
            changes.edit(ifname, keys[0])
        elif message.kind is ChangeKind.REMOVE:
            changes.remove(ifname, keys[0])
        elif message.kind is ChangeKind.ROTATE:
            changes.rotate(ifname, keys)
        elif message.kind is ChangeKind.SYNC:
            changes.sync(ifname)
        elif message.kind is ChangeKind.CLIENT_CONFIG:
            changes.client_config(ifname, keys[0], message.name)
        elif message.kind is ChangeKind.PENDING_ROTATIONS:
            changes.pending_rotations(ifname)

    def on_rotations_handshaken(self, message: RotationsHandshaken) -> None:
        self.changes.handshaken(message.ifname, message.pairs)

    def on_unmount(self) -> None:
        self.changes.shutdown()
        self.monitor.stop()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        dash = self.dashboard
        for sort in SORT_CYCLE:
            yield SystemCommand(f"Sort by {SORT_TITLES[sort]}", f"Order peers by {SORT_TITLES[sort]}",
                                lambda sort=sort: dash.set_sort(sort))  # type: ignore[misc]
        if not self.options.read_only:
            yield SystemCommand("Add a peer", "Form → diff preview → apply live and to the file (a)",
                                dash.action_add_peer)
            yield SystemCommand("Edit the highlighted peer", "Name, allowed IPs, keepalive, endpoint (e)",
                                dash.action_edit_peer)
            yield SystemCommand("Remove the highlighted peer", "Confirm → diff preview → apply (d)",
                                dash.action_remove_peer)
            yield SystemCommand("Rotate the highlighted peer's key", "Staged, now, or preshared key only; with "
                                "marks: every marked peer in one staged session (r)", dash.action_rotate_peer)
            yield SystemCommand("Pending rotations", "Watch, finish or cancel the rotations waiting for their new "
                                "key's first handshake on this interface (R)", dash.action_pending_rotations)
            yield SystemCommand("Mark every peer shown", "Mark the peers the filter shows, to rotate them together (m)",
                                dash.action_mark_shown)
            yield SystemCommand("Clear the marks", "Unmark every peer of this interface (u)", dash.action_clear_marks)
            yield SystemCommand("Show the saved client config", "The config and QR code wgtui saved for the "
                                "highlighted peer (c)", dash.action_client_config)
            yield SystemCommand("Sync file and interface", "Resolve drift peer by peer, choosing which side wins (y)",
                                dash.action_sync)
        yield SystemCommand("Reverse sort order", "Flip the current order", dash.action_sort_reverse)
        yield SystemCommand("Filter peers", "Show only peers matching a text", dash.action_filter)
        yield SystemCommand("Show overdue keys", "Filter on `overdue`: keys older than the rotation policy "
                            "(--max-key-age, or max_key_age in wgtui.json)",
                            lambda: dash.action_filter(OVERDUE))
        yield SystemCommand("Toggle full public keys", "Show keys in full or shortened", dash.action_toggle_keys)
        yield SystemCommand("Toggle detail pane", "Hide or show the pane under the table", dash.action_toggle_pane)
        for name in sorted(dash.models):
            yield SystemCommand(f"Switch to interface {name}", f"Show the peers of {name}",
                                lambda name=name: dash.switch_to(name))  # type: ignore[misc]
