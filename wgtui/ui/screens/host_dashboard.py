"""Provides a remote host's dashboard: the local dashboard, fed by the fleet's updates of that host."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import BindingType
from textual.widgets import Input, Static

from wgtui.durations import short_age
from wgtui.lifecycle.peer_usage import UsageReader
from wgtui.remote.host import Health
from wgtui.remote.watch import HostSummary, HostUpdate
from wgtui.ui import keymap
from wgtui.ui.messages import LeaveHost
from wgtui.ui.prefs import ViewPrefs
from wgtui.ui.screens.dashboard import DashboardScreen, History, KeyPolicy

if TYPE_CHECKING:
    from wgtui.ui.app import AppOptions


def health_notice(s: HostSummary, has_rows: bool) -> tuple[str, bool]:
    """The line under the header while the host is not simply live, and whether it is an error."""
    last = f"its rows as of {short_age(s.age)} ago" if s.age is not None and has_rows else "no rows yet"
    if s.health is Health.UNREACHABLE:
        return f"{s.name} is unreachable ({s.error or 'no answer'}): showing {last}; retrying.", True
    if s.health is Health.STALE:
        return f"{s.name} has not answered for {short_age(s.age or 0)}: showing {last}.", False
    if s.health is Health.CONNECTING:
        return f"Connecting to {s.name}…", False
    if s.read_only:
        return (f"{s.name} has no wgtui: shown read-only through `wg show all dump`; a change key says how to "
                "install it."), False
    return "", False


class HostDashboardScreen(DashboardScreen):
    """Exactly the local dashboard (keys, table, detail, forms), but: its rows come from `feed` (the fleet's
    updates of this host, in order, from a snapshot on), its header names the host, its changes go to the host
    (ChangeRequested carries it), escape goes back to the fleet, and a host that stops answering is said."""

    # Escape here clears the filter or, with none, goes back (it replaces the dashboard's escape binding).
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.HOST)

    def __init__(self, host: str, options: AppOptions, *, history: History, key_policy: KeyPolicy,
                 view: ViewPrefs | None = None, usage: UsageReader | None = None) -> None:
        super().__init__(options, is_demo=False, history=history, key_policy=key_policy, view=view, title=host,
                         usage=usage)
        self.host = host
        self.host_name = host
        self.forced_read_only = options.read_only
        """--read-only: every host is shown read-only, whatever it has."""
        self.seq = -1
        """The number of the latest update applied: older ones (already in a snapshot) are skipped."""
        self.refusal: str | None = None
        """Why the host refuses changes (no wgtui there), said by every change key."""
        self._notice: tuple[str, bool] = ("", False)

    def feed(self, item: HostUpdate) -> bool:
        """Apply one update of this host unless it is older than what is shown; whether it was applied."""
        if item.seq <= self.seq:
            return False
        self.seq = item.seq
        self.apply_update(item.update, item.configs)
        return True

    def set_health(self, summary: HostSummary) -> None:
        """The host's state as of this tick: read-only or not, and a line saying what is wrong, if anything."""
        read_only = self.forced_read_only or summary.read_only
        self.refusal = summary.refusal
        if read_only != self.read_only:
            self.read_only = read_only
            self.refresh_bindings()
            self.refresh_header()
        if not self.book.models:
            self.table.empty_text = (f"No WireGuard interface on {self.host_name}." if summary.age is not None
                                     else f"Waiting for {self.host_name}'s first answer ({summary.health.value})…")
        notice = health_notice(summary, bool(self.book.models))
        if notice != self._notice:
            self._notice = notice
            box = self.query_one("#notice", Static)
            box.update(notice[0])
            box.set_class(not notice[0], "hidden")
            box.set_class(notice[1], "-error")

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value or not box.has_class("hidden"):
            self.action_clear_filter()
            return
        self.post_message(LeaveHost())

    def action_read_only(self, word: str) -> None:
        if self.forced_read_only or not self.refusal:
            super().action_read_only(word)
            return
        self.notify(f"{word}: {self.refusal}", title=f"{self.host_name} is read-only", severity="warning", timeout=12,
                    markup=False)
