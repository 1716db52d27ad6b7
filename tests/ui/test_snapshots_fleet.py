"""SVG snapshot of the fleet view at 80x24 over the fake fleet: three hosts (one read-only), one gone unreachable and
selected, its error readable in the detail line.

A failing snapshot is a question: open snapshot_report.html and look at the difference before updating.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from tests.fakes import Clock, key
from tests.ui.fleet_fakes import fleet_app

SnapCompare = Callable[..., bool]


def test_fleet_view(snap_compare: SnapCompare, tmp_path: Path) -> None:
    clock = Clock()
    app, hosts = fleet_app(clock, tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        for second in range(4):
            if second == 3:
                hosts["vpn-b"].answer = "down"
            hosts["vpn-a"].bump("wg0", key(1), rx_bytes=1_000 + 250_000 * second, tx_bytes=2_000 + 40_000 * second,
                                latest_handshake=int(clock()))
            app.tick_now()
            clock.tick()
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
