"""Rotation sessions on real wireguard-go: pending rotations outlive the session that started them, several peers at
once, each finished when its own client switches; saved client configs follow their peers; key age in JSON."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.integration.cli import wgtui_in, wgtui_popen
from tests.integration.test_changes_live import client_from, server_config
from tests.netns import Daemon, Lab
from wgtui.conf import Document
from wgtui.conf.meta import rotation_marks

pytestmark = pytest.mark.netns


def switch_key(lab: Lab, client: Daemon, config: Path) -> None:
    """The client imports its new config: its private key (the peer, address and endpoint stay)."""
    private = Document.read(config).interface.private_key  # type: ignore[union-attr]
    lab.wg(client, "set", client.ifname, "private-key", str(lab._secret(private or "")))


def add_client(lab: Lab, server: Daemon, etc: Path, name: str, server_side: str, ns: str) -> Daemon:
    done = wgtui_in(server.ns, "peer", "add", server.ifname, "--name", name, "--config-dir", str(etc),
                    "--server-endpoint", f"{server_side}:51820", "--yes")
    assert done.returncode == 0, done.stderr
    client = client_from(lab, ns, etc / "clients" / f"{server.ifname}-{name}.conf", server_side)
    assert lab.ping(client, server.address, count=1, deadline=10).ok
    return client


def test_a_rotation_left_by_a_dropped_session_is_finished_by_peer_pending(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    c_ns = lab.netns()
    server_side, _ = lab.link(a.ns, c_ns)
    assert b.address and a.address
    server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    client = add_client(lab, a, tmp_path, "carol", server_side, c_ns)
    old_key = client.public_key
    created = json.loads(wgtui_in(a.ns, "show", a.ifname, "--config-dir", str(tmp_path), "--json").stdout)
    carol = next(p for p in created["interfaces"][0]["peers"] if p["name"] == "carol")
    assert abs(carol["key_created"] - time.time()) < 60 and carol["rotation"] is None

    rotating = wgtui_popen(a.ns, "peer", "rotate", a.ifname, "carol", "--config-dir", str(tmp_path),
                           "--timeout", "60", "--yes")
    new_conf = tmp_path / "clients" / f"{a.ifname}-carol-next.conf"
    deadline = time.monotonic() + 20
    while not new_conf.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert new_conf.exists()
    time.sleep(0.5)  # waiting for the handshake now
    rotating.send_signal(signal.SIGHUP)  # the SSH session drops
    _, err = rotating.communicate(timeout=20)
    assert rotating.returncode == 129 and "--resume" in err and "stays pending" in err, err
    # Pending in the file and on the interface; the old key still carries carol's traffic.
    doc = Document.read(tmp_path / f"{a.ifname}.conf")
    (mark,) = rotation_marks(doc).values()
    assert mark.old_key == old_key and doc.find_peer(mark.new_key) is not None
    live = lab.dump(a).peers
    assert live[mark.new_key].allowed_ips == () and live[old_key].allowed_ips
    assert lab.ping(client, a.address, count=1, deadline=5).ok
    shown = json.loads(wgtui_in(a.ns, "show", a.ifname, "--config-dir", str(tmp_path), "--json").stdout)
    carol = next(p for p in shown["interfaces"][0]["peers"] if p["public_key"] == old_key)
    assert carol["rotation"] == {"new_public_key": mark.new_key, "started": mark.started, "state": "waiting"}
    listed = wgtui_in(a.ns, "peer", "pending", "--config-dir", str(tmp_path), "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)["rotations"][0]["state"] == "waiting"

    new_text = new_conf.read_text()
    switch_key(lab, client, new_conf)  # later, the client imports the config it was given
    lab.ping(client, a.address, count=1, deadline=5)  # its first packet makes the handshake (and is lost)
    finished = wgtui_in(a.ns, "peer", "pending", "--config-dir", str(tmp_path), "--finish")
    assert finished.returncode == 0 and "finished now" in finished.stdout, finished.stdout + finished.stderr
    live = lab.dump(a).peers
    assert old_key not in live and live[mark.new_key].allowed_ips == (f"{a.address.rsplit('.', 1)[0]}.3/32",)
    doc = Document.read(tmp_path / f"{a.ifname}.conf")
    assert doc.names[mark.new_key] == "carol" and not rotation_marks(doc)
    assert lab.ping(client, a.address, count=3, interval=0.05).ok  # traffic flows on the new key
    # The new key's config replaced the old key's as carol's saved client config.
    assert (tmp_path / "clients" / f"{a.ifname}-carol.conf").read_text() == new_text and not new_conf.exists()


def test_three_peers_at_once_two_finish_at_their_own_time_one_is_cancelled(lab: Lab, tmp_path: Path) -> None:
    server_ns = lab.netns()
    server = lab.wireguard(server_ns, "10.96.0.1/24")
    server_config(tmp_path, server, {})
    clients = {}
    for name in ("c1", "c2", "c3"):
        ns = lab.netns()
        side, _ = lab.link(server_ns, ns)
        clients[name] = add_client(lab, server, tmp_path, name, side, ns)
    handoff = tmp_path / "handoff"
    handoff.mkdir(mode=0o700)
    started = wgtui_in(server.ns, "peer", "rotate", server.ifname, "c1", "c2", "c3", "--no-wait",
                      "--client-config-dir", str(handoff), "--config-dir", str(tmp_path), "--yes")
    assert started.returncode == 0, started.stderr
    assert "3 rotations stay pending" in started.stdout
    assert sorted(p.name for p in handoff.iterdir()) == [f"{server.ifname}-c{i}.conf" for i in (1, 2, 3)]
    marks = rotation_marks(Document.read(tmp_path / f"{server.ifname}.conf"))
    assert len(marks) == 3 and len(lab.dump(server).peers) == 6

    switch_key(lab, clients["c1"], handoff / f"{server.ifname}-c1.conf")
    lab.ping(clients["c1"], server.address, count=1, deadline=5)
    first = wgtui_in(server.ns, "peer", "pending", server.ifname, "--config-dir", str(tmp_path), "--finish", "--json")
    states = {r["name"]: r["state"] for r in json.loads(first.stdout)["rotations"]}
    assert first.returncode == 0 and states == {"c1": "done", "c2": "waiting", "c3": "waiting"}, first.stdout

    cancelled = wgtui_in(server.ns, "peer", "rotate", server.ifname, "c3", "--cancel", "--config-dir", str(tmp_path),
                         "--yes")
    assert cancelled.returncode == 0, cancelled.stderr
    assert lab.ping(clients["c3"], server.address, count=1, deadline=5).ok  # its old key never stopped working

    resumed = wgtui_popen(server.ns, "peer", "rotate", server.ifname, "c2", "--resume", "--config-dir", str(tmp_path),
                          "--timeout", "30")
    time.sleep(1)
    switch_key(lab, clients["c2"], handoff / f"{server.ifname}-c2.conf")
    lab.ping(clients["c2"], server.address, count=1, deadline=5)
    out, err = resumed.communicate(timeout=40)
    assert resumed.returncode == 0 and "c2: done" in out, out + err
    assert not rotation_marks(Document.read(tmp_path / f"{server.ifname}.conf"))
    for name in ("c1", "c2", "c3"):
        assert lab.ping(clients[name], server.address, count=2, interval=0.05).ok, name
    assert len(lab.dump(server).peers) == 3


def test_the_saved_client_config_follows_psk_address_and_removal(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    c_ns = lab.netns()
    server_side, _ = lab.link(a.ns, c_ns)
    assert a.address and b.address
    server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    client = add_client(lab, a, tmp_path, "carol", server_side, c_ns)
    saved = tmp_path / "clients" / f"{a.ifname}-carol.conf"

    psk = wgtui_in(a.ns, "peer", "rotate", a.ifname, "carol", "--psk", "--config-dir", str(tmp_path), "--yes")
    assert psk.returncode == 0, psk.stderr
    new_psk = Document.read(saved).peers[0].preshared_key
    assert new_psk and new_psk == Document.read(tmp_path / f"{a.ifname}.conf").peer(client.public_key).preshared_key
    lab.set_peer(client, a.public_key, preshared_key=new_psk)  # the client takes the PSK from the saved file
    time.sleep(0.2)
    lab.wg(client, "set", client.ifname, "peer", a.public_key, "endpoint", f"{server_side}:51820")
    assert lab.ping(client, a.address, count=1, deadline=10).ok

    subnet = a.address.rsplit(".", 1)[0]
    moved = wgtui_in(a.ns, "peer", "edit", a.ifname, "carol", "--allowed-ips", f"{subnet}.50/32", "--config-dir",
                     str(tmp_path), "--yes")
    assert moved.returncode == 0, moved.stderr
    assert Document.read(saved).interface.addresses == (f"{subnet}.50/32",)  # type: ignore[union-attr]

    removed = wgtui_in(a.ns, "peer", "remove", a.ifname, "carol", "--config-dir", str(tmp_path), "--yes")
    assert removed.returncode == 0 and not saved.exists(), removed.stderr
