"""Provides the Textual application: wires the monitor thread to the dashboard and holds app-wide actions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from wgtui.backends.base import Backend
from wgtui.backends.locked import LockedBackend
from wgtui.model import REJECT_AFTER_TIME
from wgtui.monitor import Monitor, Update
from wgtui.names_source import ConfigNames
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
                               interfaces=options.interfaces, names_for=ConfigNames(options.config_dir),
                               clock=options.clock)
        self.dashboard = DashboardScreen()

    @property
    def is_demo(self) -> bool:
        return self.backend.kind == "demo"

    def on_mount(self) -> None:
        self.push_screen(self.dashboard)
        if self.options.notice:
            self.notify(self.options.notice, title="Demo backend", severity="warning", timeout=12)
        if self.options.autostart:
            self.monitor.start(self._from_monitor)

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
        self.monitor.stop()
        self.exit()

    def action_help(self) -> None:
        source = ("simulated interfaces (demo backend): nothing real is read or changed" if self.is_demo
                  else "the kernel through netlink, userspace WireGuard through /var/run/wireguard/*.sock")
        self.push_screen(HelpScreen(self.options.online_after, self.options.notice, source))

    def on_unmount(self) -> None:
        self.monitor.stop()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        dash = self.dashboard
        for sort in SORT_CYCLE:
            yield SystemCommand(f"Sort by {SORT_TITLES[sort]}", f"Order peers by {SORT_TITLES[sort]}",
                                lambda sort=sort: dash.set_sort(sort))  # type: ignore[misc]
        yield SystemCommand("Reverse sort order", "Flip the current order", dash.action_sort_reverse)
        yield SystemCommand("Filter peers", "Show only peers matching a text", dash.action_filter)
        yield SystemCommand("Toggle full public keys", "Show keys in full or shortened", dash.action_toggle_keys)
        yield SystemCommand("Toggle detail pane", "Hide or show the pane under the table", dash.action_toggle_pane)
        for name in sorted(dash.models):
            yield SystemCommand(f"Switch to interface {name}", f"Show the peers of {name}",
                                lambda name=name: dash.switch_to(name))  # type: ignore[misc]
