"""The ledger against real wireguard-go: ping traffic read over UAPI is accounted, and the lifetime total keeps
growing across a restart of the interface (counters back at 0) and across a key rotation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.netns import Daemon, Lab, _wait_for_socket, entered, run
from wgtui import keys
from wgtui.backends.uapi import UapiBackend
from wgtui.lifecycle.ledger import Ledger, interface_epoch
from wgtui.model import InterfaceState

pytestmark = pytest.mark.netns


def read(daemon: Daemon) -> tuple[InterfaceState, str | None]:
    """The interface as wgtui's UAPI backend reads it inside the daemon's namespace, and its epoch there."""
    with entered(daemon.ns):
        return UapiBackend().read(daemon.ifname), interface_epoch(daemon.ifname)


def restart(lab: Lab, daemon: Daemon, peer: Daemon) -> None:
    """Kill the daemon and start it again with the same name, key, port, address and peer: counters restart at 0."""
    lab.stop(daemon)
    daemon.proc = lab.spawn(daemon.ns, "wireguard-go", "-f", daemon.ifname, log=daemon.log)
    _wait_for_socket(daemon)
    run("ip", "-n", daemon.ns, "-batch", "-",
        input=f"addr add {daemon.address}/24 dev {daemon.ifname}\nlink set {daemon.ifname} up\n")
    lab.wg(daemon, "set", daemon.ifname, "private-key", str(lab._secret(daemon.private_key)), "listen-port",
           str(daemon.listen_port))
    lab.set_peer(daemon, peer.public_key, endpoint=peer.endpoint, allowed_ips=[f"{peer.address}/32"])


def ping(lab: Lab, source: Daemon, target: Daemon, count: int) -> None:
    result = lab.ping(source, target.address, count=count, interval=0.01, deadline=10)
    assert result.ok, result.output


def test_real_traffic_is_accounted_across_an_interface_restart(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    with Ledger.open(tmp_path / "state") as ledger:
        state, epoch_before = read(a)
        baseline = state.peers[b.public_key]
        ledger.record(a.ifname, time.time(), state.peers)  # the interface is new to the ledger: its baseline
        ping(lab, b, a, 20)
        state, _ = read(a)
        first = state.peers[b.public_key]
        assert first.rx_bytes > 0
        ledger.record(a.ifname, time.time(), state.peers)
        ping(lab, b, a, 40)
        state, _ = read(a)
        before_restart = state.peers[b.public_key]
        ledger.record(a.ifname, time.time(), state.peers)
        total_before = ledger.totals(a.ifname)[b.public_key]
        assert total_before.rx_total == before_restart.rx_bytes and total_before.tx_total == before_restart.tx_bytes
        used = ledger.used(total_before.peer_id, time.time() - 3600, time.time() + 60)
        assert used == (before_restart.rx_bytes - baseline.rx_bytes, before_restart.tx_bytes - baseline.tx_bytes)

        restart(lab, a, b)
        # From the restarted side: it has no session and handshakes at once (b would wait ~15 s to notice).
        ping(lab, a, b, 10)
        state, epoch_after = read(a)
        after_restart = state.peers[b.public_key]
        assert 0 < after_restart.rx_bytes < before_restart.rx_bytes  # the counters really started again
        assert epoch_before and epoch_after and epoch_after != epoch_before  # a new ifindex: a new instance
        ledger.record(a.ifname, time.time(), state.peers)  # the counters rule alone (no epoch passed)
        total_after = ledger.totals(a.ifname)[b.public_key]
        assert total_after.rx_total > total_before.rx_total
        assert total_after.rx_total == before_restart.rx_bytes + after_restart.rx_bytes
        assert total_after.tx_total == before_restart.tx_bytes + after_restart.tx_bytes
        assert total_after.peer_id == total_before.peer_id

    # wgtui restarts too: nothing is counted twice, the traffic in between is counted once
    ping(lab, a, b, 10)
    with Ledger.open(tmp_path / "state") as ledger:
        state, _ = read(a)
        later = state.peers[b.public_key]
        ledger.record(a.ifname, time.time(), state.peers)
        assert ledger.totals(a.ifname)[b.public_key].rx_total == before_restart.rx_bytes + later.rx_bytes


def test_real_traffic_is_accounted_across_a_key_rotation(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    with Ledger.open(tmp_path / "state") as ledger:
        ledger.record(a.ifname, time.time(), read(a)[0].peers)
        ping(lab, b, a, 20)
        state, _ = read(a)
        ledger.record(a.ifname, time.time(), state.peers)
        old = ledger.totals(a.ifname)[b.public_key]
        assert old.rx_total > 0
        # staged rotation: the server gets b's new key beside the old one; b switches; the old key goes
        new_private = keys.generate_private_key()
        new_public = keys.public_key(new_private)
        lab.set_peer(a, new_public, endpoint=b.endpoint, allowed_ips=[f"{b.address}/32"])
        lab.wg(b, "set", b.ifname, "private-key", str(lab._secret(new_private)))
        ping(lab, b, a, 20)
        state, _ = read(a)
        assert state.peers[new_public].rx_bytes > 0
        ledger.record(a.ifname, time.time(), state.peers, renames={new_public: b.public_key})
        lab.set_peer(a, b.public_key, remove=True)
        ping(lab, b, a, 10)
        state, _ = read(a)
        ledger.record(a.ifname, time.time(), state.peers, renames={new_public: b.public_key})
        rotated = ledger.totals(a.ifname)[new_public]
        assert rotated.peer_id == old.peer_id
        assert rotated.rx_total == old.rx_total + state.peers[new_public].rx_bytes
