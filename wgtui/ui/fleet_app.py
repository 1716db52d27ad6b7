"""Provides the fleet view's application: the fleet's ticks to the fleet screen, and to the host dashboard open."""

# One thread ticks the fleet (FleetWatch.start: every host polled at once, none waited for longer than an
# interval) and hands each tick to the UI thread, which draws one line per host and, when a host's dashboard is
# open, applies that host's update to it: the UI's work per tick is the hosts' lines plus what changed on the one
# host shown. A dashboard opens from a snapshot of its host's rows, so it needs no history of ticks.

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual.binding import BindingType

from wgtui.remote.changes import RemoteChanges
from wgtui.remote.watch import FleetTick, FleetWatch, HostSummary
from wgtui.ui import keymap, prefs
from wgtui.ui.base_app import TerminalApp
from wgtui.ui.messages import ChangeRequested, HostChosen, LeaveHost, ViewChosen, run_change
from wgtui.ui.remote_flows import RemoteFlows
from wgtui.ui.screens.fleet import FleetScreen
from wgtui.ui.screens.host_dashboard import HostDashboardScreen

if TYPE_CHECKING:
    from wgtui.ui.app import AppOptions


class FleetApp(TerminalApp):
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.APP)

    def __init__(self, watch: FleetWatch, options: AppOptions) -> None:
        prefs_path = options.remember or (prefs.default_path() if options.autostart else None)
        super().__init__(online_after=options.online_after, read_only=options.read_only, notice=options.notice,
                         prefs_path=prefs_path)
        self.fleet_watch = watch
        self.options = options
        self.clock = options.clock
        self.host_options = replace(options, interfaces=None, notice=None)
        self.view, self.prefs_problem = prefs.load(prefs_path) if prefs_path else (prefs.ViewPrefs(), None)
        self.fleet = FleetScreen(watch.find, read_only=options.read_only, clock=options.clock)
        self.host_screen: HostDashboardScreen | None = None
        """The host dashboard open now (None: the fleet view is shown)."""
        self.flows: RemoteFlows | None = None
        """The change flows of the open host."""
        self.latest: dict[str, HostSummary] = {}
        self.summaries: tuple[HostSummary, ...] = ()
        self.ticks = 0

    async def on_mount(self) -> None:
        self.start_redraws()
        await self.push_screen(self.fleet)
        self.fleet.show(self.fleet_watch.summaries())  # every host listed, connecting, before the first answer
        if self.prefs_problem:
            self.notify(self.prefs_problem, title="Remembered view", severity="warning", markup=False)
        if self.options.autostart:
            self.fleet_watch.start(self._from_watch)

    def help_source(self) -> str:
        n = len(self.fleet_watch.watches)
        return (f"{n} host{'s' if n != 1 else ''} over your ssh, each through `wgtui agent --stdio` there (or, where "
                "wgtui is missing, read-only through `wg show all dump`)")

    def redraw_screens(self) -> None:
        self.fleet.redraw_all()
        if self.host_screen is not None:
            self.host_screen.redraw_all()

    def shutdown(self) -> None:
        self.fleet_watch.stop(wait=False)

    def on_unmount(self) -> None:
        self.fleet_watch.stop(wait=False)

    # -- ticks -----------------------------------------------------------------------------------------------

    def _from_watch(self, tick: FleetTick) -> None:
        """From the fleet's thread: blocks it until the UI has applied the tick (ticks never pile up)."""
        try:
            self.call_from_thread(self.apply_tick, tick)
        except RuntimeError:
            self.fleet_watch.stop(wait=False)  # the app is shutting down
        except Exception:
            if not self.taking_down(self.fleet):
                raise
            self.fleet_watch.stop(wait=False)  # a tick that arrived while the screens were being taken down

    def tick_now(self) -> FleetTick:
        """Tick on the UI thread and apply it (tests)."""
        tick = self.fleet_watch.step()
        self.apply_tick(tick)
        return tick

    def apply_tick(self, tick: FleetTick) -> None:
        """One line per host, and the open host's update (if it brought one) to its dashboard."""
        self.ticks += 1
        self.summaries = tick.summaries
        self.latest = {s.name: s for s in tick.summaries}
        dash = self.host_screen
        if dash is None:
            self.fleet.show(tick.summaries)
            return
        # The fleet screen is under the dashboard: it is brought up to date when it shows again.
        item = tick.updates.get(dash.host_name)
        if item is not None:
            dash.feed(item)
        summary = self.latest.get(dash.host_name)
        if summary is not None:
            dash.set_health(summary)

    # -- opening and leaving a host --------------------------------------------------------------------------

    async def on_host_chosen(self, message: HostChosen) -> None:
        if self.host_screen is not None:
            return
        name = message.host
        host_watch = self.fleet_watch.watch(name)
        changes = RemoteChanges(host_watch.host)
        dash = HostDashboardScreen(name, self.host_options, history=host_watch.monitor.history,
                                   key_policy=self._key_policy, view=self.view, usage=changes.usage)
        self.flows = RemoteFlows(self, dash, changes, refresh=self.fleet_watch.refresh,
                                 clock=self.clock, key_order=self.key_order)
        self.host_screen = dash
        await self.push_screen(dash)
        dash.feed(self.fleet_watch.snapshot(name))
        summary = self.latest.get(name)
        if summary is not None:
            dash.set_health(summary)
        if message.ifname is not None and message.key is not None and message.ifname in dash.book.models:
            dash.switch_to(message.ifname)
            if not dash.table.select_key(message.key):
                dash.select_when_seen = (message.ifname, message.key)

    def on_leave_host(self, _message: LeaveHost) -> None:
        if self.host_screen is None or self.screen is not self.host_screen:
            return
        self.host_screen = None
        self.flows = None
        self.pop_screen()
        if self.summaries:
            self.fleet.show(self.summaries)

    def on_view_chosen(self, message: ViewChosen) -> None:
        self.view = message.prefs  # the next host opened gets the same sort and columns
        super().on_view_chosen(message)

    @staticmethod
    def _key_policy(_ifname: str) -> float:
        # A host's wgtui.json is there, not here: only --max-key-age marks overdue keys in the fleet.
        return 0.0

    # -- changes ---------------------------------------------------------------------------------------------

    def on_change_requested(self, message: ChangeRequested) -> None:
        flows, dash = self.flows, self.host_screen
        if flows is not None and dash is not None and message.host == dash.host_name:
            run_change(flows, message)
