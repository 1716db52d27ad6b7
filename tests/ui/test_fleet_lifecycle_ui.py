"""A remote host's dashboard and the peer lifecycle: the expiry, quota and disabled reason its agent sends show as
locally, and enabling an expired peer there asks for a new expiry first, sent to the agent as `--expires`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.widgets import Input, Static

from tests.fakes import Clock
from tests.ui.fleet_fakes import FakeHost, fleet_app
from tests.ui.helpers import body, screen, until
from wgtui.agent.protocol import config_from_json, config_to_json
from wgtui.config_source import load
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.new_expiry import NewExpiryScreen
from wgtui.ui.screens.host_dashboard import HostDashboardScreen

SIZE = (100, 30)
OLGA = "D" * 43 + "="
PAUL = "E" * 43 + "="
PATH = "/etc/wireguard/wg0.conf"


def with_disabled_peers(host: FakeHost) -> None:
    """olga, disabled by the host's agent when her expiry (the end of 2027-01-10) passed; paul, disabled by hand.
    The host's view reaches the dashboard through the protocol's JSON, as from a real agent."""
    conf = host.etc / "wg0.conf"
    conf.write_text(conf.read_text() + "\n#[disabled] # friendly_name = olga\n#[disabled] [Peer]\n"
                    "#[disabled] # wgtui: expires=2027-01-10 quota=50GB/month disabled=expired\n"
                    f"#[disabled] PublicKey = {OLGA}\n#[disabled] AllowedIPs = 10.1.9.9/32\n"
                    "\n#[disabled] # friendly_name = paul\n#[disabled] [Peer]\n"
                    f"#[disabled] PublicKey = {PAUL}\n#[disabled] AllowedIPs = 10.1.9.10/32\n")
    wire = json.loads(json.dumps(config_to_json(load(conf, host.etc / "peers"))))
    host.configs["wg0"] = config_from_json(wire)


def plan_reply(argv_title: str) -> dict[str, Any]:
    return {"token": "p1", "plan": {
        "action": "enable", "interface": "wg0", "title": argv_title, "config": PATH, "public_key": OLGA,
        "old_public_key": None, "file_only": False, "warnings": [], "notes": [], "runtime": [],
        "diff": f"--- {PATH}\n+++ {PATH}\n@@ -9,1 +9,1 @@\n-#[disabled] # wgtui: expires=2027-01-10\n"
                "+# wgtui: expires=2027-06-30\n", "client_config": None}}


async def open_host(app: Any, clock: Clock, pilot: Any) -> HostDashboardScreen:
    """Two fleet ticks (the host's rows arrive), then enter on the first host: its dashboard."""
    for _ in range(2):
        app.tick_now()
        clock.tick()
    await pilot.pause()
    await pilot.press("enter")
    return await screen(pilot, HostDashboardScreen)


async def test_enabling_an_expired_peer_on_a_host_asks_for_a_new_expiry_first(tmp_path: Path) -> None:
    clock = Clock()  # 2027-01-15: olga's expiry passed 4 days ago
    app, hosts = fleet_app(clock, tmp_path)
    a = hosts["vpn-a"]
    with_disabled_peers(a)
    a.replies = {"plan": plan_reply("Enable olga on wg0"), "discard": {}}
    async with app.run_test(size=SIZE) as pilot:
        dash = await open_host(app, clock, pilot)
        row = dash.row_of("wg0", OLGA)
        assert row is not None and row.meta is not None and row.meta.disabled_reason == "expired"
        assert row.meta.quota is not None and row.meta.expires_text == "2027-01-10"
        assert dash.table.select_key(OLGA)
        await pilot.pause()
        pane = body(dash.query_one("#detail-fields", Static))
        assert "⊘ disabled" in pane and "expired 4 days ago" in pane

        await pilot.press("x")  # escape in the question: nothing is asked of the host
        await screen(pilot, NewExpiryScreen)
        await pilot.press("escape")
        await screen(pilot, HostDashboardScreen)
        assert a.requests == []

        await pilot.press("x")
        question = await screen(pilot, NewExpiryScreen)
        assert "olga expired 4 days ago" in body(question.query_one("#expiry-why", Static))
        question.query_one("#new-expiry", Input).value = "2027-06-30"
        await pilot.press("enter")
        preview = await screen(pilot, DiffPreview)
        assert preview.plan.title == "Enable olga on wg0 — on vpn-a"
        assert a.requests == [("plan", {"argv": ["enable", "wg0", OLGA, "--expires=2027-06-30"]})]
        await pilot.press("n")
        await until(pilot, lambda: ("discard", {"token": "p1"}) in a.requests)

        # paul was disabled by hand and has no expiry: enabled without a question, the command line unchanged.
        await screen(pilot, HostDashboardScreen)
        assert dash.table.select_key(PAUL)
        await pilot.pause()
        await pilot.press("x")
        await screen(pilot, DiffPreview)
        assert ("plan", {"argv": ["enable", "wg0", PAUL]}) in a.requests
        await pilot.press("n")
        flows = app.flows
        assert flows is not None and flows.failure is None


async def test_a_hosts_detail_screen_shows_the_quota_use_and_history_its_agent_reads(tmp_path: Path) -> None:
    """Quota use and the day/week/month history of a remote peer come from the host's ledger, through its agent's
    `usage` answer: the same screen as for a local peer."""
    from wgtui.ui.screens.peer_detail import PeerDetailScreen
    from wgtui.ui.widgets.sparkline import Sparkline

    clock = Clock()
    app, hosts = fleet_app(clock, tmp_path)
    a = hosts["vpn-a"]
    with_disabled_peers(a)
    day = [0] * 1439 + [8_000_000_000]
    a.replies = {"usage": {"usage": {"quota": {"used": 12_000_000_000, "period_end": int(clock()) + 17 * 86400},
                                     "history": [day, [0] * 1440], "problem": ""}}}
    async with app.run_test(size=SIZE) as pilot:
        dash = await open_host(app, clock, pilot)
        assert dash.table.select_key(OLGA)
        await pilot.press("enter")
        detail = await screen(pilot, PeerDetailScreen)
        fields = detail.query_one("#detail-all", Static)
        await until(pilot, lambda: "12.0 GB of 50 GB" in body(fields))
        assert "quota  12.0 GB of 50 GB this month (24 %)" in body(fields)
        await pilot.press("h")
        rx_line = detail.query_one("#detail-spark-rx", Sparkline)
        await until(pilot, lambda: rx_line.suffix.startswith("last day"))
        assert rx_line.suffix == "last day: 8.0 GB · peak 8.0 GB/min" and len(rx_line.values) == 1440
        asked = [(op, fields_) for op, fields_ in a.requests if op == "usage"]
        assert asked[0][1] == {"interface": "wg0", "public_key": OLGA, "span": None}
        assert {"interface": "wg0", "public_key": OLGA, "span": "day"} in [f for _, f in asked]
