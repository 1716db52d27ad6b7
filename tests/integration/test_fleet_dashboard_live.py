"""The fleet view over real SSH, driven with Pilot: two hosts in network namespaces (sshd, wireguard-go wg0, their
own /etc/wireguard), their lines, a host's dashboard, a peer found on the other host, a peer added through the form
and the agent's preview, and a frozen host turning unreachable while the other stays live."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from tests.netns import run
from tests.sshlab import SshHost, SshLab
from tests.ui.helpers import body, screen, screen_text, until
from wgtui import keys
from wgtui.conf import Document
from wgtui.remote.fleet import Fleet
from wgtui.remote.ssh import HostSpec, SshOptions
from wgtui.remote.watch import FleetWatch
from wgtui.ui.app import AppOptions
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.fleet_app import FleetApp
from wgtui.ui.screens.fleet import FleetScreen
from wgtui.ui.screens.fleet_search import FleetSearchScreen
from wgtui.ui.screens.host_dashboard import HostDashboardScreen

pytestmark = pytest.mark.netns
SIZE = (110, 30)


def named_peer(hosts: SshLab, host: SshHost, name: str, last_octet: int) -> str:
    """A peer on the host's wg0 and in its file, named there."""
    key = keys.keypair()[1]
    address = f"{host.tunnel.rsplit('.', 1)[0]}.{last_octet}/32"
    hosts.wg(host, "set", "wg0", "peer", key, "allowed-ips", address)
    host.conf.write_text(host.conf.read_text() + f"\n# friendly_name = {name}\n[Peer]\nPublicKey = {key}\n"
                                                 f"AllowedIPs = {address}\n")
    return key


def freeze_whole_host(hosts: SshLab, host: SshHost, sig: signal.Signals = signal.SIGSTOP) -> None:
    """hosts.freeze stops sshd's listener, so no new session gets in; a session already open lives in sshd's child
    and the agent it runs: those are stopped too, as when the host itself hangs."""
    if sig is signal.SIGSTOP:
        hosts.freeze(host)
    else:
        hosts.thaw(host)
    for pid in run("ip", "netns", "pids", host.ns, check=False).split():
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid), sig)


def live_keys(hosts: SshLab, host: SshHost) -> set[str]:
    return set(hosts.wg(host, "show", "wg0", "peers").split())


def fleet_app(hosts: SshLab, tmp_path: Path, *names: str) -> tuple[FleetApp, Fleet]:
    fleet = Fleet([HostSpec(n, n) for n in names], SshOptions(ssh_config=hosts.config, connect_timeout=2))
    watch = FleetWatch(fleet, interval=0.5)
    return FleetApp(watch, AppOptions(interval=0.5, remember=tmp_path / "view.json")), fleet


def host_line(app: Any, name: str) -> str:
    return next((line for line in screen_text(app).splitlines() if line.startswith(f" {name} ")), "")


async def test_fleet_view_lists_opens_finds_and_adds_on_one_host_only(hosts: SshLab, tmp_path: Path) -> None:
    a, b = hosts.host("vpn-a"), hosts.host("vpn-b")
    named_peer(hosts, a, "alice", 10)
    named_peer(hosts, a, "bob", 11)
    zoe = named_peer(hosts, b, "zoe", 20)
    app, fleet = fleet_app(hosts, tmp_path, "vpn-a", "vpn-b")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "● live" in host_line(app, "vpn-a") and "● live" in host_line(app, "vpn-b")
                        and " 0/2 " in host_line(app, "vpn-a") and " 0/1 " in host_line(app, "vpn-b"), 30)

            await pilot.press("enter")  # vpn-a, the first line
            dash = await screen(pilot, HostDashboardScreen)
            assert dash.host == "vpn-a"
            await until(pilot, lambda: "alice" in screen_text(app) and "bob" in screen_text(app))
            assert screen_text(app).startswith(" vpn-a ") and "zoe" not in screen_text(app)
            await pilot.press("escape")
            await screen(pilot, FleetScreen)

            await pilot.press("slash")
            search = await screen(pilot, FleetSearchScreen)
            await pilot.press(*"zoe")
            await until(pilot, lambda: [(f.host, f.row.key) for f in search.found] == [("vpn-b", zoe)])
            await pilot.press("enter")
            dash = await screen(pilot, HostDashboardScreen)
            assert dash.host == "vpn-b" and dash.table.cursor_key == zoe
            await pilot.press("escape")
            await screen(pilot, FleetScreen)

            b_conf, b_live = b.conf.read_bytes(), live_keys(hosts, b)
            await pilot.press("up", "enter")
            dash = await screen(pilot, HostDashboardScreen)
            assert dash.host == "vpn-a"
            await pilot.press("a")
            form = await screen(pilot, PeerForm)
            assert form.query_one("#allowed_ips", Input).value  # the host's next free address, from its agent
            form.query_one("#name", Input).value = "carol"
            await pilot.pause()
            await pilot.press("enter")
            preview = await screen(pilot, DiffPreview)
            assert preview.plan.title == "Add peer carol to wg0 — on vpn-a"
            assert "+# friendly_name = carol" in body(preview.query_one("#preview-body", Static))
            assert "carol" not in a.conf.read_text()  # planned there, nothing changed yet
            await pilot.press("y")
            client = await screen(pilot, ClientConfigScreen)
            assert "PrivateKey = " in client.text

            key = next(k for k, n in Document.read(a.conf).names.items() if n == "carol")
            assert key in live_keys(hosts, a) and stat.S_IMODE(a.conf.stat().st_mode) == 0o600
            assert keys.public_key(client.text.split("PrivateKey = ")[1].split()[0]) == key
            assert b.conf.read_bytes() == b_conf and live_keys(hosts, b) == b_live  # the other host untouched
            await pilot.press("escape")
            await screen(pilot, HostDashboardScreen)
            await until(pilot, lambda: "carol" in screen_text(app) and dash.table.cursor_key == key, 10)
            assert app.flows is not None and app.flows.failure is None
    finally:
        fleet.close()


async def test_a_frozen_host_turns_unreachable_while_the_other_stays_live(hosts: SshLab, tmp_path: Path) -> None:
    a, b = hosts.host("vpn-a"), hosts.host("vpn-b")
    named_peer(hosts, a, "alice", 10)
    named_peer(hosts, b, "zoe", 20)
    app, fleet = fleet_app(hosts, tmp_path, "vpn-a", "vpn-b")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "● live" in host_line(app, "vpn-a") and "● live" in host_line(app, "vpn-b"),
                        30)
            freeze_whole_host(hosts, b)
            try:
                frozen = time.monotonic()
                await until(pilot, lambda: "✕ unreachable" in host_line(app, "vpn-b"), 30)
                took = time.monotonic() - frozen
                ticks = app.ticks
                await until(pilot, lambda: app.ticks >= ticks + 2)  # the view keeps ticking meanwhile
                assert "● live" in host_line(app, "vpn-a") and " 0/1 " in host_line(app, "vpn-a")
                assert " 0/1 " in host_line(app, "vpn-b")  # its last figures kept
                await pilot.press("down")
                assert "unreachable: " in body(app.screen.query_one("#host-detail", Static))
                assert took < 2 + 5 + 2, took  # the connect timeout plus one poll, and a tick
            finally:
                freeze_whole_host(hosts, b, signal.SIGCONT)
    finally:
        fleet.close()


async def test_disable_rotate_and_undo_on_a_host_through_its_dashboard(hosts: SshLab, tmp_path: Path) -> None:
    a = hosts.host("vpn-a")
    alice = named_peer(hosts, a, "alice", 10)
    app, fleet = fleet_app(hosts, tmp_path, "vpn-a")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "● live" in host_line(app, "vpn-a"), 30)
            await pilot.press("enter")
            dash = await screen(pilot, HostDashboardScreen)
            await until(pilot, lambda: dash.table.cursor_key == alice)

            await pilot.press("x")  # disable: the agent's diff, applied there
            preview = await screen(pilot, DiffPreview)
            assert preview.plan.title.endswith("— on vpn-a") and "#[disabled]" in body(
                preview.query_one("#preview-body", Static))
            await pilot.press("y")
            await until(pilot, lambda: "#[disabled] PublicKey = " + alice in a.conf.read_text(), 10)
            assert alice not in live_keys(hosts, a)
            await pilot.press("z")  # undo brings it back
            await screen(pilot, DiffPreview)
            await pilot.press("y")
            await until(pilot, lambda: alice in live_keys(hosts, a), 10)

            await until(pilot, lambda: dash.table.cursor_key == alice and not isinstance(app.screen, DiffPreview))
            await pilot.press("r")  # rotate now: a new key pair, its client config shown here
            await pilot.press("down", "enter")
            preview = await screen(pilot, DiffPreview)
            await pilot.press("y")
            client = await screen(pilot, ClientConfigScreen)
            new_key = keys.public_key(client.text.split("PrivateKey = ")[1].split()[0])
            assert live_keys(hosts, a) == {new_key} and new_key in a.conf.read_text()
            assert stat.S_IMODE(a.conf.stat().st_mode) == 0o600
            assert app.flows is not None and app.flows.failure is None
    finally:
        fleet.close()
