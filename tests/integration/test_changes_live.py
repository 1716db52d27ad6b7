"""The change pipeline against real wireguard-go: live adds lose no packet, a staged rotation moves a real client,
faults leave the interface and the file as they were. `wg show dump` is the reference throughout."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.cli import wgtui_in, wgtui_popen
from tests.netns import Daemon, Lab, entered
from wgtui import store
from wgtui.backends.host import HostBackend
from wgtui.changes import Planner, transaction
from wgtui.conf import Document

pytestmark = pytest.mark.netns


def server_config(tmp: Path, server: Daemon, peers: dict[str, tuple[str, str]]) -> Path:
    """The server's wg-quick file as a careful admin keeps it: comments, names, the live peers."""
    assert server.address
    text = (f"# {server.ifname}: test VPN\n[Interface]\nAddress = {server.address}/24\n"
            f"ListenPort = {server.listen_port}\nPrivateKey = {server.private_key}\n")
    for name, (key, ips) in peers.items():
        text += f"\n# friendly_name = {name}\n[Peer]\nPublicKey = {key}\nAllowedIPs = {ips}\n"
    path = tmp / f"{server.ifname}.conf"
    path.write_text(text)
    path.chmod(0o600)
    return path


def client_from(lab: Lab, ns: str, conf: Path, server_underlay: str) -> Daemon:
    """Bring up a client exactly as its generated config says (the tunnel route stays in its namespace)."""
    doc = Document.read(conf)
    iface = doc.interface
    assert iface is not None and iface.private_key
    (peer,) = doc.peers
    address = next(a for a in iface.addresses if "." in a).split("/")[0]
    client = lab.wireguard(ns, address=f"{address}/24", private_key=iface.private_key)
    assert peer.public_key and peer.endpoint == f"{server_underlay}:51820"
    lab.set_peer(client, peer.public_key, endpoint=peer.endpoint, allowed_ips=list(peer.allowed_ips),
                 keepalive=peer.persistent_keepalive, preshared_key=peer.preshared_key)
    return client


def test_live_add_loses_no_packet_and_the_new_client_handshakes(lab: Lab, tmp_path: Path,
                                                                timing: Callable[[str], None]) -> None:
    a, b = lab.pair()
    c_ns = lab.netns()
    server_side, _ = lab.link(a.ns, c_ns)
    assert a.address and b.address
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    original = conf.read_text()
    assert lab.ping(b, a.address, count=2, interval=0.05).ok
    before = lab.dump(a).peers[b.public_key]

    ping = lab.ping_start(b, a.address, count=120, interval=0.02)
    time.sleep(0.3)
    result = wgtui_in(a.ns, "peer", "add", a.ifname, "--name", "carol", "--preshared-key", "--config-dir",
                      str(tmp_path), "--server-endpoint", f"{server_side}:51820", "--client-config",
                      str(tmp_path / "carol.conf"), "--yes")
    pinged = lab.ping_finish(ping)
    assert result.returncode == 0, result.stderr
    assert pinged.received == pinged.sent == 120, pinged.output  # not one packet of the other peer lost
    after = lab.dump(a)
    old = after.peers[b.public_key]
    assert old.rx_bytes > before.rx_bytes and old.latest_handshake >= before.latest_handshake  # no reset
    new_key = next(k for k in after.peers if k != b.public_key)
    assert after.peers[new_key].allowed_ips == (f"{a.address.rsplit('.', 1)[0]}.3/32",)
    assert after.peers[new_key].has_preshared_key
    text = conf.read_text()
    assert text.startswith(original) and "# friendly_name = carol" in text and new_key in text
    assert oct((tmp_path / "carol.conf").stat().st_mode & 0o777) == "0o600"

    client = client_from(lab, c_ns, tmp_path / "carol.conf", server_side)
    started = time.monotonic()
    assert lab.ping(client, a.address, count=1, deadline=10).ok
    timing(f"new peer added live: first ping through it after {time.monotonic() - started:.2f} s")
    assert lab.dump(a).peers[new_key].latest_handshake > 0


def test_staged_rotation_moves_a_real_client_and_reports_the_gap(lab: Lab, tmp_path: Path,
                                                                 timing: Callable[[str], None]) -> None:
    a, b = lab.pair()
    c_ns = lab.netns()
    server_side, _ = lab.link(a.ns, c_ns)
    assert a.address and b.address
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    added = wgtui_in(a.ns, "peer", "add", a.ifname, "--name", "carol", "--config-dir", str(tmp_path),
                     "--server-endpoint", f"{server_side}:51820", "--client-config", str(tmp_path / "carol.conf"),
                     "--yes")
    assert added.returncode == 0, added.stderr
    client = client_from(lab, c_ns, tmp_path / "carol.conf", server_side)
    assert lab.ping(client, a.address, count=1, deadline=10).ok
    old_key = client.public_key

    interval, count = 0.02, 400
    client_ping = lab.ping_start(client, a.address, count=count, interval=interval)
    other_ping = lab.ping_start(b, a.address, count=count, interval=interval)
    new_conf = tmp_path / "carol-new.conf"
    rotation = wgtui_popen(a.ns, "peer", "rotate", a.ifname, "carol", "--staged", "--config-dir", str(tmp_path),
                           "--client-config", str(new_conf), "--timeout", "30", "--yes")
    deadline = time.monotonic() + 20
    while not new_conf.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert new_conf.exists(), rotation.stderr.read() if rotation.stderr else ""
    # Stage 1 is live: both keys are on the interface and the old one still carries the traffic.
    both = lab.dump(a)
    assert old_key in both.peers and len(both.peers) == 3
    new_private = Document.read(new_conf).interface.private_key  # type: ignore[union-attr]
    time.sleep(0.5)
    switched = time.monotonic()
    lab.wg(client, "set", client.ifname, "private-key", str(lab._secret(new_private or "")))
    out, err = rotation.communicate(timeout=40)
    done = time.monotonic()
    assert rotation.returncode == 0, err
    client_result, other_result = lab.ping_finish(client_ping), lab.ping_finish(other_ping)

    after = lab.dump(a)
    new_key = next(k for k in after.peers if k not in (b.public_key, old_key))
    assert old_key not in after.peers and after.peers[new_key].allowed_ips == both.peers[old_key].allowed_ips
    doc = Document.read(conf)
    assert doc.names.get(new_key) == "carol" and doc.find_peer(old_key) is None
    lost = client_result.sent - client_result.received
    timing(f"staged rotation: client switched key, rotation finished {done - switched:.2f} s later; client lost "
           f"{lost} of {client_result.sent} pings at {interval * 1000:.0f} ms (gap ~{lost * interval:.2f} s); "
           f"other peer lost {other_result.sent - other_result.received}")
    assert other_result.received == other_result.sent == count, other_result.output
    assert lab.ping(client, a.address, count=3, interval=0.05).ok  # the client works on its new key
    assert "now uses key" in out


def live_peers(lab: Lab, daemon: Daemon) -> dict[str, tuple[tuple[str, ...], int, bool]]:
    """The configuration part of `wg show dump` (no counters): what a rollback must restore."""
    return {k: (p.allowed_ips, p.persistent_keepalive, p.has_preshared_key) for k, p in lab.dump(daemon).peers.items()}


def test_file_write_failure_rolls_back_the_live_interface(lab: Lab, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = lab.pair()
    assert b.address
    lab.set_peer(a, b.public_key, keepalive=25, preshared_key="uZ2sG8t8hC4y0l8qB9H8y5o1g5a2e4H8c1m1N2d3r0Q=")
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    before_file, before_live = conf.read_bytes(), live_peers(lab, a)
    real_replace = os.replace

    def read_only(src: str, dst: str) -> None:
        if Path(dst) == conf:
            raise OSError(30, "Read-only file system")
        real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", read_only)
    with entered(a.ns):
        backend = HostBackend()
        try:
            result = transaction.run(Planner(a.ifname, conf, backend).remove("site-b"), backend)
        finally:
            backend.close()
    assert not result.ok and "rolled back" in result.message and "Read-only" in result.message
    assert conf.read_bytes() == before_file
    assert live_peers(lab, a) == before_live  # site-b is back with its allowed IPs, keepalive and PSK
    with entered(a.ns):
        backend = HostBackend()
        psk = backend.preshared_key(a.ifname, b.public_key)
        backend.close()
    assert psk == "uZ2sG8t8hC4y0l8qB9H8y5o1g5a2e4H8c1m1N2d3r0Q="


def test_a_daemon_gone_since_the_preview_leaves_the_file_untouched(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    assert b.address
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    before = conf.read_bytes()
    with entered(a.ns):
        backend = HostBackend()
        try:
            plan = Planner(a.ifname, conf, backend).add("carol", allowed_ips="10.97.0.9/32")
            lab.stop(a)  # the daemon dies between the preview and the confirmation
            result = transaction.run(plan, backend)
        finally:
            backend.close()
    # The re-check under the lock reads the interface again before anything is written: refused, not half-done.
    assert not result.ok and result.message.startswith("Nothing was changed") and "cannot be read" in result.message
    assert conf.read_bytes() == before and not (tmp_path / "clients").exists()
    assert not [p for p in tmp_path.iterdir() if "wgtui-journal" in p.name or p.name.endswith(store.TMP_SUFFIX)]


def test_file_changed_since_the_preview_is_refused(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    assert b.address
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    before_live = live_peers(lab, a)
    with entered(a.ns):
        backend = HostBackend()
        try:
            plan = Planner(a.ifname, conf, backend).add("carol", allowed_ips="10.97.0.9/32")
            conf.write_text(conf.read_text() + "# edited by hand meanwhile\n")
            result = transaction.run(plan, backend)
        finally:
            backend.close()
    assert not result.ok and "changed on disk" in result.message
    assert live_peers(lab, a) == before_live and conf.read_text().endswith("meanwhile\n")


def test_dry_run_changes_nothing_and_prints_the_diff(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    assert b.address
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    before_file, before_live = conf.read_bytes(), live_peers(lab, a)
    result = wgtui_in(a.ns, "peer", "remove", a.ifname, "site-b", "--config-dir", str(tmp_path), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"-PublicKey = {b.public_key}" in result.stdout and "-# friendly_name = site-b" in result.stdout
    assert conf.read_bytes() == before_file and live_peers(lab, a) == before_live
    refused = wgtui_in(a.ns, "peer", "add", a.ifname, "--name", "x", "--allowed-ips", f"{b.address}/32",
                       "--config-dir", str(tmp_path), "--yes")
    assert refused.returncode == 1 and "already belongs to site-b" in refused.stderr
    assert conf.read_bytes() == before_file and live_peers(lab, a) == before_live


def test_sync_adopts_a_hand_added_peer_and_brings_up_a_file_only_one(lab: Lab, tmp_path: Path) -> None:
    from wgtui import keys

    a, b = lab.pair()
    assert b.address
    by_hand = keys.keypair()[1]
    lab.set_peer(a, by_hand, allowed_ips=["10.97.1.1/32"], keepalive=15)  # `wg set` by hand, never written down
    only_in_file = keys.keypair()[1]
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32"),
                                       "retired": (only_in_file, "10.97.2.2/32")})
    preview = wgtui_in(a.ns, "peer", "sync", a.ifname, "--config-dir", str(tmp_path), "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert "only on the interface" in preview.stdout and "only in the file" in preview.stdout
    done = wgtui_in(a.ns, "peer", "sync", a.ifname, "--config-dir", str(tmp_path), "--yes")
    assert done.returncode == 0, done.stderr
    live = live_peers(lab, a)
    assert live[only_in_file] == (("10.97.2.2/32",), 0, False) and by_hand in live  # nothing was deleted
    doc = Document.read(conf)
    hand = doc.find_peer(by_hand)
    assert hand is not None and hand.allowed_ips == ("10.97.1.1/32",) and hand.persistent_keepalive == 15
    again = wgtui_in(a.ns, "peer", "sync", a.ifname, "--config-dir", str(tmp_path), "--dry-run")
    assert again.returncode == 0 and "nothing to sync" in again.stdout  # already so: not an error for a script
