"""Provides the fleet view: one line per host, the selected host in full below, a search for a peer on every host."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Static

from wgtui import fmt
from wgtui.remote.host import Health
from wgtui.remote.watch import Found, HostSummary
from wgtui.ui import keymap
from wgtui.ui.fleet_lines import detail_text, host_lines
from wgtui.ui.messages import HostChosen, RedrawAsked
from wgtui.ui.screens.fleet_search import FleetSearchScreen
from wgtui.ui.widgets.footer import RankedFooter
from wgtui.ui.widgets.line_table import LineTable

Search = Callable[[str], list[Found]]
"""Blocking (called in a thread): the peers matching a query on every host."""

PART_STYLE = {"": "", "error": "red", "warn": "yellow"}


def fleet_header(summaries: Sequence[HostSummary], read_only: bool) -> Text:
    """` wgtui fleet  3 hosts: 2 live · 1 unreachable   412/1,000 online · ↓ 1.2 MB/s ↑ 30 kB/s`."""
    text = Text(" wgtui fleet ", style="bold")
    if read_only:
        text.append(" read-only ", style="black on yellow")
    text.append(f"  {len(summaries)} host{'s' if len(summaries) != 1 else ''}: ")
    counts = [(h, sum(1 for s in summaries if s.health is h)) for h in Health]
    styles = {Health.LIVE: "green", Health.STALE: "yellow", Health.UNREACHABLE: "red bold", Health.CONNECTING: "dim"}
    text.append_text(Text(" · ").join(Text(f"{n} {h.value}", style=styles[h]) for h, n in counts if n)
                     or Text("none", style="dim"))
    online, total = sum(s.online for s in summaries), sum(s.total for s in summaries)
    text.append(f"\n {online}/{total} peers online · ↓ {fmt.rate(sum(s.rx_rate for s in summaries))} "
                f"↑ {fmt.rate(sum(s.tx_rate for s in summaries))}")
    drift, pending = sum(s.drift for s in summaries), sum(s.pending for s in summaries)
    if drift:
        text.append(f" · drift on {drift} peer{'s' if drift != 1 else ''}", style="yellow")
    if pending:
        text.append(f" · ↻ {pending} rotation{'s' if pending != 1 else ''} pending", style="bold")
    return text


class FleetScreen(Screen[None]):
    """Fed by `show` once per tick: the work is one line per host (the peers never reach this screen). Opening a
    host posts HostChosen; the app owns the hosts' dashboards."""

    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.FLEET)

    def __init__(self, search: Search, *, read_only: bool = False, clock: Callable[[], float]) -> None:
        super().__init__()
        self.search = search
        self.read_only = read_only
        self.clock = clock
        self.summaries: list[HostSummary] = []
        self._shown: tuple[object, ...] = ()
        """What the header and the detail were last drawn from: redrawn only when it changes."""
        self._detail_rows = -1
        """How many screen rows the detail took: the layout is worked out again only when that changes."""

    def compose(self) -> ComposeResult:
        yield Static(fleet_header([], self.read_only), id="fleet-header")
        yield LineTable(empty_text="Connecting to the hosts…", id="hosts")
        yield Static(id="host-detail", markup=False)
        yield RankedFooter(keymap.FOOTER_RANK)

    def on_mount(self) -> None:
        self.query_one("#hosts", LineTable).focus()

    @property
    def table(self) -> LineTable:
        return self.query_one("#hosts", LineTable)

    def show(self, summaries: Sequence[HostSummary]) -> None:
        """One tick's summaries (one per host, in the fleet's order)."""
        self.summaries = list(summaries)
        self._draw()

    def _draw(self) -> None:
        table = self.table
        width = table.scrollable_content_region.width or self.app.size.width
        head, lines = host_lines(self.summaries, width)
        table.set_lines(head, lines, empty_text="No host: give --host, --hosts or --inventory."
                        if not self.summaries else None)
        self._refresh_texts()

    def _refresh_texts(self) -> None:
        selected = self.selected()
        shown = (tuple(self.summaries), selected)
        if shown == self._shown:
            return
        self._shown = shown
        # Updated without a layout pass (a re-arrangement of the whole screen) unless the detail's height changes:
        # the header is always two lines.
        self.query_one("#fleet-header", Static).update(fleet_header(self.summaries, self.read_only), layout=False)
        lines = detail_text(selected) if selected is not None else []
        box = self.query_one("#host-detail", Static)
        detail = Text("\n").join(Text(line, style=PART_STYLE.get(part, "")) for line, part in lines)
        box.update(detail, layout=False)
        box.clear_cached_dimensions()
        room = box.content_region.width or max(1, self.app.size.width - 2)
        rows = box.get_content_height(self.size, self.size, room)  # wrapped as the box wraps it
        if rows != self._detail_rows:
            self._detail_rows = rows
            box.refresh(layout=True)

    def selected(self) -> HostSummary | None:
        key = self.table.cursor_key
        return next((s for s in self.summaries if s.name == key), None)

    def on_line_table_cursor_moved(self, _message: LineTable.CursorMoved) -> None:
        self._refresh_texts()

    def on_resize(self) -> None:
        self.call_after_refresh(self._draw)  # the table's new width is known after the layout

    # -- keys ------------------------------------------------------------------------------------------------

    def action_open_host(self) -> None:
        key = self.table.cursor_key
        if key is None:
            self.notify("No host is highlighted.", severity="warning", timeout=3)
            return
        self.post_message(HostChosen(key))

    def action_search(self) -> None:
        def chosen(found: Found | None) -> None:
            if found is not None:
                self.table.select_key(found.host)
                self.post_message(HostChosen(found.host, found.ifname, found.row.key))

        self.app.push_screen(FleetSearchScreen(self.search, clock=self.clock), chosen)

    def action_redraw(self) -> None:
        self.post_message(RedrawAsked())

    def redraw_all(self) -> None:
        self.table.refresh()
