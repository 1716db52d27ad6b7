"""Everyday operations on real wireguard-go: disable/enable, undo, and init from a running interface."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.cli import wgtui_in
from tests.integration.test_changes_live import live_peers, server_config
from tests.netns import Lab
from wgtui.conf import Document

pytestmark = pytest.mark.netns


def test_disable_cuts_the_client_off_and_enable_brings_back_the_same_bytes(lab: Lab, tmp_path: Path,
                                                                           timing: Callable[[str], None]) -> None:
    a, b = lab.pair()
    c_ns = lab.netns()
    server_side, _ = lab.link(a.ns, c_ns)
    assert a.address and b.address
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    done = wgtui_in(a.ns, "peer", "add", a.ifname, "--name", "carol", "--preshared-key", "--keepalive", "25",
                    "--config-dir", str(tmp_path), "--server-endpoint", f"{server_side}:51820", "--yes")
    assert done.returncode == 0, done.stderr
    from tests.integration.test_changes_live import client_from

    client = client_from(lab, c_ns, tmp_path / "clients" / f"{a.ifname}-carol.conf", server_side)
    assert lab.ping(client, a.address, count=1, deadline=10).ok
    file_before, live_before = conf.read_bytes(), live_peers(lab, a)

    off = wgtui_in(a.ns, "peer", "disable", a.ifname, "carol", "--config-dir", str(tmp_path), "--yes")
    assert off.returncode == 0, off.stderr
    assert client.public_key not in lab.dump(a).peers
    assert f"#[disabled] PublicKey = {client.public_key}" in conf.read_text()
    assert not lab.ping(client, a.address, count=1, deadline=2).ok  # cut off
    shown = wgtui_in(a.ns, "show", a.ifname, "--config-dir", str(tmp_path))
    assert "state: disabled" in shown.stdout

    on = wgtui_in(a.ns, "peer", "enable", a.ifname, "carol", "--config-dir", str(tmp_path), "--yes")
    assert on.returncode == 0, on.stderr
    assert conf.read_bytes() == file_before and live_peers(lab, a) == live_before  # PSK and keepalive included
    # The client still holds its old session, which the re-added peer does not know: WireGuard starts a new
    # handshake after 15 s without answers (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT), and traffic flows again.
    started = time.monotonic()
    assert lab.ping(client, a.address, count=1, deadline=30).ok
    timing(f"enable: the client's traffic flowed again after {time.monotonic() - started:.1f} s (its own rekey)")


def test_undo_reverts_the_last_change_byte_for_byte(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    assert a.address and b.address
    psk = "uZ2sG8t8hC4y0l8qB9H8y5o1g5a2e4H8c1m1N2d3r0Q="
    lab.set_peer(a, b.public_key, keepalive=25, preshared_key=psk)
    lab.set_peer(b, a.public_key, preshared_key=psk)
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    file_before, live_before = conf.read_bytes(), live_peers(lab, a)
    removed = wgtui_in(a.ns, "peer", "remove", a.ifname, "site-b", "--config-dir", str(tmp_path), "--yes")
    assert removed.returncode == 0 and b.public_key not in lab.dump(a).peers
    preview = wgtui_in(a.ns, "peer", "undo", a.ifname, "--config-dir", str(tmp_path), "--dry-run")
    assert preview.returncode == 0 and "Undo: Remove peer site-b" in preview.stdout
    assert f"+PublicKey = {b.public_key}" in preview.stdout
    undone = wgtui_in(a.ns, "peer", "undo", a.ifname, "--config-dir", str(tmp_path), "--yes")
    assert undone.returncode == 0, undone.stderr
    assert conf.read_bytes() == file_before and live_peers(lab, a) == live_before
    assert lab.ping(a, b.address, count=1, deadline=10).ok  # the server knows b's endpoint again: it handshakes
    lab.set_peer(a, b.public_key, keepalive=5)  # by hand: undoing the undo would now throw that away
    refused = wgtui_in(a.ns, "peer", "undo", a.ifname, "--config-dir", str(tmp_path), "--yes")
    assert refused.returncode == 1 and "changed since" in refused.stderr


def test_init_writes_the_running_interface_and_never_overwrites(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    assert a.address and b.address
    lab.set_peer(a, b.public_key, keepalive=25, preshared_key="uZ2sG8t8hC4y0l8qB9H8y5o1g5a2e4H8c1m1N2d3r0Q=")
    done = wgtui_in(a.ns, "init", a.ifname, "--config-dir", str(tmp_path), "--yes")
    assert done.returncode == 0, done.stderr
    conf = tmp_path / f"{a.ifname}.conf"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    doc = Document.read(conf)
    iface = doc.interface
    assert iface is not None and iface.private_key == a.private_key and iface.listen_port == a.listen_port
    assert iface.addresses == (f"{a.address}/24",)
    (peer,) = doc.peers
    assert (peer.public_key, peer.allowed_ips, peer.persistent_keepalive) == (b.public_key, (f"{b.address}/32",), 25)
    assert peer.preshared_key == "uZ2sG8t8hC4y0l8qB9H8y5o1g5a2e4H8c1m1N2d3r0Q=" and peer.endpoint == b.endpoint
    checked = wgtui_in(a.ns, "check", a.ifname, "--config-dir", str(tmp_path))
    assert checked.returncode == 0, checked.stdout
    again = wgtui_in(a.ns, "init", a.ifname, "--config-dir", str(tmp_path), "--yes")
    assert again.returncode == 1 and "never overwrites" in again.stderr
    # The file it wrote is the interface: a change through it works at once.
    added = wgtui_in(a.ns, "peer", "add", a.ifname, "--name", "carol", "--config-dir", str(tmp_path), "--yes")
    assert added.returncode == 0, added.stderr


def test_peer_apply_on_a_live_interface(lab: Lab, tmp_path: Path) -> None:
    import json as _json

    a, b = lab.pair()
    assert a.address and b.address
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    rows = tmp_path / "peers.json"
    rows.write_text(_json.dumps([{"name": f"laptop-{i}", "preshared_key": True} for i in range(3)]
                                + [{"name": "site-b", "keepalive": 25}]))
    done = wgtui_in(a.ns, "peer", "apply", a.ifname, "--from", str(rows), "--config-dir", str(tmp_path), "--yes",
                    "--json")
    assert done.returncode == 0, done.stderr
    outcomes = [p["outcome"] for p in _json.loads(done.stdout)["peers"]]
    assert outcomes == ["added", "added", "added", "changed"]
    live = lab.dump(a).peers
    doc = Document.read(conf)
    assert len(live) == 4 and {p.public_key for p in doc.peers} == set(live)
    assert all(live[k].has_preshared_key for k, n in doc.names.items() if n.startswith("laptop-"))
    assert live[b.public_key].persistent_keepalive == 25
    again = wgtui_in(a.ns, "peer", "apply", a.ifname, "--from", str(rows), "--config-dir", str(tmp_path), "--yes")
    assert again.returncode == 0 and "Nothing to do" in again.stdout
    rows.write_text(_json.dumps([{"name": "laptop-0", "state": "absent"}, {"name": "laptop-1", "state": "disabled"},
                                 {"name": "laptop-9", "allowed_ips": [f"{b.address}/32"]}]))
    refused = wgtui_in(a.ns, "peer", "apply", a.ifname, "--from", str(rows), "--config-dir", str(tmp_path), "--yes")
    assert refused.returncode == 1 and "row 3:" in refused.stderr and len(lab.dump(a).peers) == 4  # all or nothing
    csv = tmp_path / "peers.csv"
    csv.write_text("name,state\nlaptop-0,absent\nlaptop-1,disabled\n")
    done = wgtui_in(a.ns, "peer", "apply", a.ifname, "--from", str(csv), "--config-dir", str(tmp_path), "--yes")
    assert done.returncode == 0, done.stderr
    assert len(lab.dump(a).peers) == 2 and "#[disabled] # friendly_name = laptop-1" in conf.read_text()
