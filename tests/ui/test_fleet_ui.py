"""The fleet view driven with Pilot over a fake fleet (no ssh): a line per host, health changes, the peer search
across hosts, a host's dashboard opened and left, read-only refusals and a change planned by the host's agent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from tests.fakes import Clock, key
from tests.ui.fleet_fakes import fleet_app, peer
from tests.ui.helpers import body, screen, screen_text, until
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.fleet_app import FleetApp
from wgtui.ui.screens.fleet import FleetScreen
from wgtui.ui.screens.fleet_search import FleetSearchScreen
from wgtui.ui.screens.help import HelpScreen
from wgtui.ui.screens.host_dashboard import HostDashboardScreen

SIZE = (100, 30)


def host_line(app: Any, name: str) -> str:
    return next(line for line in screen_text(app).splitlines() if line.startswith(f" {name} "))


async def ticked(app: Any, pilot: Any, clock: Clock, n: int = 2) -> None:
    for _ in range(n):
        app.tick_now()
        clock.tick()
    await pilot.pause()


async def test_a_line_per_host_and_its_health_as_it_changes(tmp_path: Path) -> None:
    clock = Clock()
    app, hosts = fleet_app(clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "… connecting" in host_line(app, "vpn-a")  # listed before the first answer
        await ticked(app, pilot, clock)
        a, b, c = (host_line(app, h) for h in ("vpn-a", "vpn-b", "vpn-c"))
        assert "● live" in a and " 1/3 " in a and "12 ms" in a
        assert "● live" in b and " 2/2 " in b
        assert "● read-only" in c and " 1/1 " in c  # no wgtui there: reachable, read-only
        assert "3 hosts: 3 live" in screen_text(app) and "4/6 peers online" in screen_text(app)

        hosts["vpn-b"].answer = "silent"  # no answer any more: stale after three intervals, rows kept
        await ticked(app, pilot, clock, 4)
        assert "◐ stale" in host_line(app, "vpn-b") and " 2/2 " in host_line(app, "vpn-b")
        hosts["vpn-b"].answer = "down"
        await ticked(app, pilot, clock, 1)
        assert "✕ unreachable" in host_line(app, "vpn-b")
        assert "● live" in host_line(app, "vpn-a")  # the others carry on
        await pilot.press("down")
        detail = body(app.screen.query_one("#host-detail", Static))
        assert "unreachable: ssh: connect to host vpn-b port 22: Connection timed out" in detail
        hosts["vpn-b"].answer = "ok"
        await ticked(app, pilot, clock, 1)
        assert "● live" in host_line(app, "vpn-b")

        # A peer's traffic and a new peer reach the host's line at the next tick.
        hosts["vpn-a"].bump("wg0", key(1), rx_bytes=301_000, latest_handshake=int(clock()))
        await ticked(app, pilot, clock, 1)
        assert "kB/s" in host_line(app, "vpn-a")


async def test_enter_opens_the_host_as_locally_and_escape_returns_to_a_live_fleet(tmp_path: Path) -> None:
    clock = Clock()
    app, hosts = fleet_app(clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ticked(app, pilot, clock)
        await pilot.press("enter")
        dash = await screen(pilot, HostDashboardScreen)
        assert dash.host == "vpn-a"
        text = screen_text(app)
        assert text.startswith(" vpn-a ") and "alice" in text and "bob-laptop" in text and "carol" in text
        assert "dave" not in text  # vpn-b's peers are not here

        # The host's next updates reach its dashboard; a peer added there shows with its name.
        hosts["vpn-a"].set_peers("wg0", {**hosts["vpn-a"].states["wg0"].peers, key(4): peer(4, "10.1.0.5/32")},
                                 {key(1): "alice", key(2): "bob-laptop", key(3): "carol", key(4): "frank"})
        await ticked(app, pilot, clock, 1)
        assert "frank" in screen_text(app)

        # Unreachable: said under the header, the last rows kept.
        hosts["vpn-a"].answer = "down"
        await ticked(app, pilot, clock, 1)
        text = screen_text(app)
        assert "vpn-a is unreachable" in text and "alice" in text

        await pilot.press("slash")  # the dashboard's own filter
        await pilot.press(*"bob")
        await pilot.press("escape")  # clears it first
        assert isinstance(app.screen, HostDashboardScreen)
        await pilot.press("escape")
        await screen(pilot, FleetScreen)
        hosts["vpn-a"].answer = "ok"
        ticks = app.ticks
        await ticked(app, pilot, clock, 1)
        assert app.ticks == ticks + 1 and "● live" in host_line(app, "vpn-a")


async def test_slash_finds_a_peer_on_any_host_and_enter_opens_it_selected(tmp_path: Path) -> None:
    clock = Clock()
    app, _hosts = fleet_app(clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ticked(app, pilot, clock)
        await pilot.press("slash")
        search = await screen(pilot, FleetSearchScreen)
        await pilot.press(*"10.2.5.77")  # an address inside vpn-b's printers /24
        await until(pilot, lambda: len(search.found) == 1)
        assert search.found[0].host == "vpn-b" and search.found[0].row.name == "printers"
        search.query_one("#fleet-query", Input).value = "e"  # by name, on every host (read-only ones too)
        await until(pilot, lambda: search.query_text == "e" and len(search.found) == 4)
        assert {(f.host, f.row.name) for f in search.found} == {("vpn-a", "alice"), ("vpn-b", "dave"),
                                                                  ("vpn-b", "printers"), ("vpn-c", "erin")}
        search.query_one("#fleet-query", Input).value = key(3)[:6]  # a key prefix (carol)
        await until(pilot, lambda: [f.row.name for f in search.found] == ["carol"])
        search.query_one("#fleet-query", Input).value = "dav"
        await until(pilot, lambda: [f.row.name for f in search.found] == ["dave"])
        assert "1 peer on 1 host" in screen_text(app)
        await pilot.press("enter")
        dash = await screen(pilot, HostDashboardScreen)
        assert dash.host == "vpn-b" and dash.table.cursor_key == key(11)
        await pilot.press("escape")
        await screen(pilot, FleetScreen)
        await pilot.press("slash")
        await screen(pilot, FleetSearchScreen)
        await pilot.press("escape")  # back without opening anything
        await screen(pilot, FleetScreen)


async def test_a_read_only_host_refuses_changes_with_the_install_command(tmp_path: Path) -> None:
    clock = Clock()
    app, hosts = fleet_app(clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ticked(app, pilot, clock)
        await pilot.press("down", "down", "enter")
        dash = await screen(pilot, HostDashboardScreen)
        assert dash.host == "vpn-c" and dash.read_only
        assert "read-only" in screen_text(app).splitlines()[0]
        await pilot.press("a")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any("not installed on vpn-c" in m and "sudoers" in m for m in said), said
        assert not isinstance(app.screen, PeerForm) and hosts["vpn-c"].requests == []


async def test_read_only_option_turns_every_change_off(tmp_path: Path) -> None:
    clock = Clock()
    app, hosts = fleet_app(clock, tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await ticked(app, pilot, clock)
        assert "read-only" in screen_text(app).splitlines()[0]
        await pilot.press("enter")
        await screen(pilot, HostDashboardScreen)
        await pilot.press("a")
        await pilot.pause()
        assert any("--read-only" in n.message for n in app._notifications)
        assert hosts["vpn-a"].requests == []
        await pilot.press("question_mark")
        help_screen = await screen(pilot, HelpScreen)
        assert "back to the fleet view" in help_screen.plain


def agent_replies(new_key: str) -> dict[str, dict[str, Any]]:
    """What vpn-a's agent answers for `peer add wg0 --name frank`."""
    path = "/etc/wireguard/wg0.conf"
    return {
        "context": {"context": {
            "interface": "wg0", "config": path, "convention": "friendly_name",
            "owners": [["10.1.0.2/32", key(1), "alice"], ["10.1.0.3/32", key(2), "bob-laptop"],
                       ["10.1.0.4/32", key(3), "carol"]],
            "taken_names": ["alice", "bob-laptop", "carol"], "keys_in_use": [key(1), key(2), key(3)],
            "allowed_ips": "10.1.0.5/32", "allowed_ips_note": "", "peer": None,
            "settings": {"endpoint": "vpn-a.example.com:51820"}}},
        "plan": {"token": "p1", "plan": {
            "action": "add", "interface": "wg0", "title": "Add peer frank to wg0", "config": path,
            "public_key": new_key, "old_public_key": None, "file_only": False, "warnings": [], "notes": [],
            "diff": f"--- {path}\n+++ {path}\n@@ -5,0 +6,4 @@\n+\n+# friendly_name = frank\n+[Peer]\n"
                    f"+PublicKey = {new_key}\n",
            "runtime": [f"peer {new_key[:4]}… allowed-ips 10.1.0.5/32"],
            "client_config": "/etc/wireguard/clients/wg0-frank.conf"}},
        "apply": {"result": {
            "applied": True, "outcome": "applied", "message": "Added frank to wg0 (interface and file).",
            "steps": [], "rollback_failed": False, "client_config": ["/etc/wireguard/clients/wg0-frank.conf"],
            "client_text": "[Interface]\nPrivateKey = (a private key)\nAddress = 10.1.0.5/32\n"}},
        "discard": {},
    }


async def test_add_on_a_host_is_planned_and_applied_by_its_agent(tmp_path: Path) -> None:
    clock = Clock()
    app, hosts = fleet_app(clock, tmp_path)
    a = hosts["vpn-a"]
    a.replies = agent_replies(key(4))
    async with app.run_test(size=SIZE) as pilot:
        await ticked(app, pilot, clock)
        await pilot.press("enter")
        await screen(pilot, HostDashboardScreen)
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        assert "Add a peer to wg0 on vpn-a" in screen_text(app)
        assert form.query_one("#allowed_ips", Input).value == "10.1.0.5/32"  # the host's next free address
        # Validated as on the host: a taken name, a prefix another peer holds.
        form.query_one("#name", Input).value = "alice"
        form.query_one("#allowed_ips", Input).value = "10.1.0.3/32"
        await pilot.pause()
        assert "bob-laptop" in body(form.query_one("#allowed_ips-msg", Static))
        assert "alice" in body(form.query_one("#name-msg", Static))
        form.query_one("#name", Input).value = "frank"
        form.query_one("#allowed_ips", Input).value = "10.1.0.5/32"
        await pilot.pause()
        await pilot.press("enter")
        preview = await screen(pilot, DiffPreview)
        assert preview.plan.title == "Add peer frank to wg0 — on vpn-a"
        assert "+# friendly_name = frank" in body(preview.query_one("#preview-body", Static))
        assert ("plan", {"argv": ["add", "wg0", "--name=frank", "--allowed-ips=10.1.0.5/32"]}) in a.requests
        await pilot.press("n")  # back to the form: the plan is discarded there
        form = await screen(pilot, PeerForm)
        assert form.query_one("#name", Input).value == "frank"
        await until(pilot, lambda: ("discard", {"token": "p1"}) in a.requests)
        await pilot.press("enter")
        await screen(pilot, DiffPreview)
        await pilot.press("y")
        client = await screen(pilot, ClientConfigScreen)
        assert ("apply", {"token": "p1"}) in a.requests
        assert "PrivateKey = (a private key)" in client.text
        assert "/etc/wireguard/clients/wg0-frank.conf" in body(client.query_one("#client-intro", Static))
        assert any("Added frank" in n.message for n in app._notifications)
        flows = app.flows
        assert flows is not None and flows.failure is None and flows.last_result is not None
        assert hosts["vpn-b"].requests == []  # nothing went to another host


async def test_a_refusal_by_the_agent_is_said_in_its_words(tmp_path: Path) -> None:
    clock = Clock()
    app, hosts = fleet_app(clock, tmp_path)
    hosts["vpn-a"].replies = {"plan": {"ok": False, "error": "nothing to undo: wgtui has made no change to wg0"}}
    async with app.run_test(size=SIZE) as pilot:
        await ticked(app, pilot, clock)
        await pilot.press("enter")
        await screen(pilot, HostDashboardScreen)
        await pilot.press("z")
        await until(pilot, lambda: any("nothing to undo" in n.message for n in app._notifications))
        assert ("plan", {"argv": ["undo", "wg0"]}) in hosts["vpn-a"].requests
        assert isinstance(app.screen, HostDashboardScreen)


def test_wgtui_with_hosts_and_no_command_opens_the_fleet_view(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    from wgtui.cli import main

    hosts_file = tmp_path / "fleet.txt"
    hosts_file.write_text("# the company's servers\nvpn1\nadmin@vpn2.example.com\n")
    ran: list[FleetApp] = []

    def run(self: FleetApp) -> None:
        ran.append(self)

    monkeypatch.setattr(FleetApp, "run", run)
    assert main(["--hosts", str(hosts_file), "--interval", "3", "--online-after", "60", "--read-only"]) == 0
    (app,) = ran
    watch = app.fleet_watch
    assert [w.host.name for w in watch.watches] == ["vpn1", "admin@vpn2.example.com"]
    assert watch.interval == 3.0 and not watch.finish_rotations  # --read-only finishes no rotation either
    assert app.options.read_only and app.options.online_after == 60.0 and app.options.interval == 3.0


async def test_help_and_palette_list_the_fleet_keys(tmp_path: Path) -> None:
    clock = Clock()
    app, _hosts = fleet_app(clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ticked(app, pilot, clock)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any(t.startswith("Find a peer on every host") for t in titles)
        assert any(t.startswith("Open the highlighted host") for t in titles)
        await pilot.press("question_mark")
        help_screen = await screen(pilot, HelpScreen)
        assert "The fleet" in help_screen.plain and "find a peer on every host" in help_screen.plain
        assert "over your ssh" in help_screen.plain


def test_a_form_request_becomes_the_command_line_the_agent_plans() -> None:
    from wgtui.ui.dialogs.form_context import PeerRequest

    add = PeerRequest("-odd name", "10.1.0.5/32", "25", "", public_key=key(7), preshared_key=True,
                      server_endpoint="vpn.example.com:51820")
    assert add.argv("wg0", "vpn.example.com:51820") == [
        "add", "wg0", "--name=-odd name", "--allowed-ips=10.1.0.5/32", f"--public-key={key(7)}", "--preshared-key",
        "--keepalive=25"]  # a value starting with a dash stays a value; the remembered endpoint is not sent again
    assert "--server-endpoint=vpn2.example.com:51820" in PeerRequest(
        "x", "auto", "", "", server_endpoint="vpn2.example.com:51820").argv("wg0", "vpn.example.com:51820")
    edit = PeerRequest("alice", "10.1.0.9/32", "", "", edit=key(1), changed=frozenset({"allowed_ips", "keepalive"}))
    assert edit.argv("wg0") == ["edit", "wg0", key(1), "--allowed-ips=10.1.0.9/32", "--keepalive="]
