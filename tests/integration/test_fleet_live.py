"""The fleet over real SSH: hosts in network namespaces, each with its own sshd, wireguard-go wg0, /etc/wireguard and
/var/run/wireguard; wgtui on the admin's side reaching them through ssh and the agent."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.sshlab import SshHost, SshLab
from wgtui import keys
from wgtui.conf import Document

pytestmark = pytest.mark.netns
ROOT = Path(__file__).resolve().parent.parent.parent


def wgtui(hosts: SshLab, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wgtui", *args, "--ssh-config", str(hosts.config)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def live_keys(hosts: SshLab, host: SshHost) -> set[str]:
    return set(hosts.wg(host, "show", "wg0", "peers").split())


def test_two_hosts_each_with_its_own_keys_names_and_one_change(hosts: SshLab) -> None:
    a, b = hosts.host("vpn-a"), hosts.host("vpn-b")
    for host, name in ((a, "alice"), (b, "bob")):
        done = wgtui(hosts, "peer", "add", "wg0", "--name", name, "--host", host.name, "--yes")
        assert done.returncode == 0, done.stderr
        assert f"on {host.name}" in done.stdout or host.name in done.stdout
    shown = wgtui(hosts, "show", "--json", "--host", "vpn-a", "--host", "vpn-b")
    assert shown.returncode == 0, shown.stderr
    by_host = {h["host"]: h for h in json.loads(shown.stdout)["hosts"]}
    assert by_host["vpn-a"]["interfaces"][0]["public_key"] == a.public_key
    assert by_host["vpn-b"]["interfaces"][0]["public_key"] == b.public_key
    assert [p["name"] for p in by_host["vpn-a"]["interfaces"][0]["peers"]] == ["alice"]
    assert [p["name"] for p in by_host["vpn-b"]["interfaces"][0]["peers"]] == ["bob"]

    b_conf, b_live = b.conf.read_bytes(), live_keys(hosts, b)
    preview = wgtui(hosts, "peer", "add", "wg0", "--name", "carol", "--host", "vpn-a", "--dry-run")
    assert preview.returncode == 0 and "Add peer carol to wg0 — on vpn-a" in preview.stdout
    assert "+# friendly_name = carol" in preview.stdout and "carol" not in a.conf.read_text()
    done = wgtui(hosts, "peer", "add", "wg0", "--name", "carol", "--host", "vpn-a", "--yes")
    assert done.returncode == 0, done.stderr
    key = next(k for k, n in Document.read(a.conf).names.items() if n == "carol")
    assert key in live_keys(hosts, a) and stat.S_IMODE(a.conf.stat().st_mode) == 0o600
    assert (a.etc / "clients" / "wg0-carol.conf").exists()  # the client config stays on the host
    assert b.conf.read_bytes() == b_conf and live_keys(hosts, b) == b_live  # the other host untouched


def test_a_host_without_wgtui_is_shown_read_only_and_refuses_changes(hosts: SshLab) -> None:
    hosts.host("vpn-a")
    b = hosts.host("vpn-b", wgtui=False)
    peer = keys.keypair()[1]
    hosts.wg(b, "set", "wg0", "peer", peer, "allowed-ips", "10.96.9.9/32")
    b.conf.write_text(b.conf.read_text() + f"\n# friendly_name = printer\n[Peer]\nPublicKey = {peer}\n"
                                           "AllowedIPs = 10.96.9.9/32\n")
    shown = wgtui(hosts, "show", "--json", "--host", "vpn-a", "--host", "vpn-b")
    by_host = {h["host"]: h for h in json.loads(shown.stdout)["hosts"]}
    assert shown.returncode == 0 and by_host["vpn-b"]["read_only"] and not by_host["vpn-a"]["read_only"]
    (printer,) = by_host["vpn-b"]["interfaces"][0]["peers"]
    assert printer["public_key"] == peer and printer["name"] == "printer"  # names read there, keys kept there
    refused = wgtui(hosts, "peer", "add", "wg0", "--name", "x", "--host", "vpn-b", "--yes")
    assert refused.returncode == 1 and "not installed on vpn-b" in refused.stderr and "sudoers" in refused.stderr


def test_a_frozen_host_is_unreachable_in_time_and_the_other_stays_live(hosts: SshLab) -> None:
    a, b = hosts.host("vpn-a"), hosts.host("vpn-b")
    hosts.freeze(a)
    try:
        started = time.monotonic()
        shown = wgtui(hosts, "show", "--json", "--host", "vpn-a", "--host", "vpn-b", "--connect-timeout", "2")
        took = time.monotonic() - started
    finally:
        hosts.thaw(a)
    by_host = {h["host"]: h for h in json.loads(shown.stdout)["hosts"]}
    assert shown.returncode == 1 and not by_host["vpn-a"]["reachable"] and by_host["vpn-a"]["error"]
    assert by_host["vpn-b"]["reachable"] and by_host["vpn-b"]["interfaces"][0]["public_key"] == b.public_key
    assert took < 2 + 6, took  # the connect timeout plus one poll, process start included


def test_an_inventory_group_with_ansible_host_and_user(hosts: SshLab, tmp_path: Path) -> None:
    a, b = hosts.host("vpn-a"), hosts.host("vpn-b")
    with hosts.config.open("a") as f:  # inventory hosts are reached by address: the test key for those
        f.write(f"Host 10.97.*\n  IdentityFile {hosts.key}\n  StrictHostKeyChecking no\n"
                "  UserKnownHostsFile /dev/null\n  BatchMode yes\n  LogLevel ERROR\n")
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"[vpn]\nalpha ansible_host={a.address} ansible_user=root\n"
                         f"beta ansible_host={b.address} ansible_user=root\n\n[web]\nweb[01:03].example\n\n"
                         "[servers:children]\nvpn\n")
    shown = wgtui(hosts, "show", "--json", "--inventory", str(inventory), "--group", "servers")
    assert shown.returncode == 0, shown.stderr
    by_host = {h["host"]: h for h in json.loads(shown.stdout)["hosts"]}
    assert set(by_host) == {"alpha", "beta"}  # the web group is not in servers
    assert by_host["alpha"]["interfaces"][0]["public_key"] == a.public_key
    assert by_host["beta"]["interfaces"][0]["public_key"] == b.public_key


def test_the_fleet_watch_sums_each_host_and_finds_a_peer_across_hosts(hosts: SshLab) -> None:
    from wgtui.remote.changes import RemoteChanges
    from wgtui.remote.fleet import Fleet
    from wgtui.remote.host import Health
    from wgtui.remote.ssh import HostSpec, SshOptions
    from wgtui.remote.watch import FleetWatch

    a, b = hosts.host("vpn-a"), hosts.host("vpn-b")
    peer = keys.keypair()[1]
    hosts.wg(b, "set", "wg0", "peer", peer, "allowed-ips", "10.96.9.9/32")  # by hand: drift on vpn-b
    fleet = Fleet([HostSpec("vpn-a", "vpn-a"), HostSpec("vpn-b", "vpn-b")], SshOptions(ssh_config=hosts.config))
    watch = FleetWatch(fleet, interval=1.0)
    try:
        first = {s.name: s for s in watch.tick()}
        assert first["vpn-a"].health is Health.LIVE and (first["vpn-a"].total, first["vpn-a"].drift) == (0, 0)
        assert (first["vpn-b"].total, first["vpn-b"].drift) == (1, 1)

        changes = RemoteChanges(watch.watch("vpn-a").host)
        context = changes.context("wg0")
        assert context["allowed_ips"] and context["convention"] == "friendly_name" and not context["keys_in_use"]
        plan = changes.plan(["add", "wg0", "--name", "dana", "--allowed-ips", context["allowed_ips"]])
        assert plan.title == "Add peer dana to wg0 — on vpn-a" and "+# friendly_name = dana" in plan.diff
        assert "dana" not in a.conf.read_text()  # planned there, nothing changed yet
        result = changes.apply(plan)
        assert result.applied and "dana" in a.conf.read_text(), result.message

        after = {s.name: s for s in watch.tick()}
        assert (after["vpn-a"].total, after["vpn-a"].interfaces) == (1, 1) and after["vpn-b"].total == 1
        (found,) = watch.find("dana")
        assert (found.host, found.ifname, found.row.name) == ("vpn-a", "wg0", "dana")
        by_address = watch.find("10.96.9.9")
        assert [(f.host, f.row.key) for f in by_address] == [("vpn-b", peer)]
        assert watch.find(peer[:10])[0].host == "vpn-b" and watch.find("nobody") == []
    finally:
        fleet.close()


def test_peer_apply_on_a_host_sends_the_rows_and_changes_that_host_only(hosts: SshLab, tmp_path: Path) -> None:
    a, b = hosts.host("vpn-a"), hosts.host("vpn-b")
    rows = tmp_path / "peers.csv"  # on the admin's machine only: the host gets the rows, not the file
    rows.write_text("name,allowed_ips,keepalive\nprinter,10.96.1.50/32,25\nscanner,auto,\n")
    b_conf = b.conf.read_bytes()
    done = wgtui(hosts, "peer", "apply", "wg0", "--from", str(rows), "--host", "vpn-a", "--yes")
    assert done.returncode == 0, done.stderr
    assert "row 2: printer: added" in done.stdout and "— on vpn-a" in done.stdout
    names = Document.read(a.conf).names
    assert sorted(names.values()) == ["printer", "scanner"] and set(names) <= live_keys(hosts, a)
    assert b.conf.read_bytes() == b_conf
    again = wgtui(hosts, "peer", "apply", "wg0", "--from", str(rows), "--host", "vpn-a", "--yes")
    assert again.returncode == 0 and "Nothing to do" in again.stdout, again.stderr
    rows.write_text("name,keepalive\nprinter,99999\n")
    bad = wgtui(hosts, "peer", "apply", "wg0", "--from", str(rows), "--host", "vpn-a", "--yes")
    assert bad.returncode == 1 and "row 2:" in bad.stderr


def test_the_fleet_watch_finishes_a_rotation_left_staged_on_a_host(hosts: SshLab) -> None:
    """`peer rotate --no-wait --host` leaves the rotation staged there; once the client's new key has handshaken,
    the fleet (nobody at that host's dashboard) moves its addresses and removes the old key."""
    from wgtui.remote.fleet import Fleet
    from wgtui.remote.ssh import HostSpec, SshOptions
    from wgtui.remote.watch import FleetWatch

    a = hosts.host("vpn-a")
    old_private, new_private = keys.generate_private_key(), keys.generate_private_key()
    old_key, new_key = keys.public_key(old_private), keys.public_key(new_private)
    address = a.tunnel.rsplit(".", 1)[0] + ".50/32"
    done = wgtui(hosts, "peer", "add", "wg0", "--name", "phone", "--public-key", old_key, "--allowed-ips", address,
                 "--host", "vpn-a", "--yes")
    assert done.returncode == 0, done.stderr
    key_file = hosts.tmp / "phone.key"
    key_file.write_text(old_private + "\n")
    key_file.chmod(0o600)
    # The client: a second wireguard-go in the host's own namespaces, keepalives forcing handshakes over loopback.
    hosts.inside(a.pid, "wireguard-go", "wg1")
    hosts.wg(a, "set", "wg1", "private-key", str(key_file), "listen-port", "51821", "peer", a.public_key,
             "endpoint", "127.0.0.1:51820", "allowed-ips", f"{a.tunnel}/32", "persistent-keepalive", "1")
    hosts.inside(a.pid, "ip", "link", "set", "wg1", "up")

    started = wgtui(hosts, "peer", "rotate", "wg0", "phone", "--public-key", new_key, "--no-wait", "--host", "vpn-a",
                    "--yes")
    assert started.returncode == 0, started.stderr
    assert {old_key, new_key} <= live_keys(hosts, a)
    fleet = Fleet([HostSpec("vpn-a", "vpn-a")], SshOptions(ssh_config=hosts.config))
    watch = FleetWatch(fleet, interval=0.5)
    try:
        (summary,) = watch.tick()
        assert summary.pending == 1 and watch.watch("vpn-a").due_rotations() == []  # not yet: the old key is in use
        key_file.write_text(new_private + "\n")
        hosts.wg(a, "set", "wg1", "private-key", str(key_file))  # the client takes its new config
        deadline = time.monotonic() + 30
        while old_key in live_keys(hosts, a) and time.monotonic() < deadline:
            (summary,) = watch.tick()
            time.sleep(0.5)
        assert old_key not in live_keys(hosts, a) and summary.rotation_error is None
        text = a.conf.read_text()
        assert old_key not in text and new_key in text and address in hosts.wg(a, "show", "wg0", "allowed-ips")
        (summary,) = watch.tick()
        assert summary.pending == 0
    finally:
        fleet.close()
