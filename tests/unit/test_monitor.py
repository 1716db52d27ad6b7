"""The monitor: rates, counter resets, states and their expiry, history, names, vanished interfaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import Clock, FakeBackend, key
from wgtui.config_source import ConfigSource, ConfigView
from wgtui.drift import Drift
from wgtui.model import PeerState, PeerStatus
from wgtui.monitor import Monitor


def make(online_after: float = 180) -> tuple[FakeBackend, Clock, Monitor]:
    backend, clock = FakeBackend(), Clock()
    return backend, clock, Monitor(backend, online_after=online_after, clock=clock)


def test_first_poll_is_a_reset_with_every_peer_and_no_rates() -> None:
    backend, clock, mon = make()
    keys = backend.add_peers("wg0", 5, latest_handshake=int(clock.now) - 10, rx_bytes=100)
    (delta,) = mon.poll_once().interfaces
    assert delta.reset and set(delta.upserts) == set(keys)
    assert all(r.rx_rate is None and r.status is PeerStatus.ONLINE for r in delta.upserts.values())
    assert (delta.summary.online, delta.summary.total) == (5, 5)


def test_only_changed_peers_are_reported_and_rates_are_per_second() -> None:
    backend, clock, mon = make()
    keys = backend.add_peers("wg0", 100, latest_handshake=int(clock.now), rx_bytes=1000, tx_bytes=10)
    mon.poll_once()
    clock.tick(1)
    # Second poll: every idle peer now has a measured rate of zero (it had none), reported once.
    (delta,) = mon.poll_once().interfaces
    assert len(delta.upserts) == 100 and all(r.rx_rate == 0.0 for r in delta.upserts.values())
    clock.tick(2)
    backend.bump("wg0", keys[7], rx_bytes=5000, tx_bytes=410)
    (delta,) = mon.poll_once().interfaces
    assert not delta.reset and list(delta.upserts) == [keys[7]]
    row = delta.upserts[keys[7]]
    assert (row.rx_rate, row.tx_rate) == (2000.0, 200.0)
    assert (delta.summary.rx_rate, delta.summary.tx_rate) == (2000.0, 200.0)
    # Next poll without traffic: the rate drops to zero, reported once, then nothing.
    clock.tick(1)
    (delta,) = mon.poll_once().interfaces
    assert list(delta.upserts) == [keys[7]] and delta.upserts[keys[7]].rx_rate == 0.0
    clock.tick(1)
    (delta,) = mon.poll_once().interfaces
    assert not delta.upserts and delta.summary.rx_rate == 0.0


def test_counter_reset_is_not_a_negative_rate() -> None:
    backend, clock, mon = make()
    (k,) = backend.add_peers("wg0", 1, latest_handshake=int(clock.now), rx_bytes=10_000, tx_bytes=10_000)
    mon.poll_once()
    clock.tick(1)
    backend.bump("wg0", k, rx_bytes=300, tx_bytes=200)
    row = mon.poll_once().interfaces[0].upserts[k]
    assert row.rx_rate is None and row.tx_rate is None
    rx, tx = mon.history("wg0", k)
    assert sum(rx) == 300 and sum(tx) == 200  # traffic since the reset still counts


def test_online_peer_turns_stale_when_handshake_ages_without_any_change() -> None:
    backend, clock, mon = make(online_after=180)
    (k,) = backend.add_peers("wg0", 1, latest_handshake=int(clock.now) - 170)
    never = backend.add_peers("wg0", 1)[0]
    (delta,) = mon.poll_once().interfaces
    assert delta.upserts[k].status is PeerStatus.ONLINE and delta.upserts[never].status is PeerStatus.NEVER
    clock.tick(1)
    mon.poll_once()  # rates measured as zero
    clock.tick(4)
    assert not mon.poll_once().interfaces[0].upserts
    clock.tick(6)
    (delta,) = mon.poll_once().interfaces
    assert delta.upserts[k].status is PeerStatus.STALE and delta.summary.online == 0
    # A new handshake brings it back.
    backend.bump("wg0", k, latest_handshake=int(clock.now))
    clock.tick(1)
    (delta,) = mon.poll_once().interfaces
    assert delta.upserts[k].status is PeerStatus.ONLINE and delta.summary.online == 1


def test_removed_peers_and_vanished_interface_then_recovery() -> None:
    backend, clock, mon = make()
    keys = backend.add_peers("wg0", 3, latest_handshake=int(clock.now))
    mon.poll_once()
    del backend.ifaces["wg0"][keys[1]]
    clock.tick()
    (delta,) = mon.poll_once().interfaces
    assert delta.removed == (keys[1],) and delta.summary.total == 2
    mon.fixed_interfaces = ["wg0"]
    backend.gone.add("wg0")
    clock.tick()
    (delta,) = mon.poll_once().interfaces
    assert not delta.summary.state.up and "does not exist" in (delta.summary.state.error or "")
    assert set(delta.removed) == {keys[0], keys[2]}
    backend.gone.clear()
    clock.tick()
    (delta,) = mon.poll_once().interfaces
    assert delta.reset and delta.summary.state.up and len(delta.upserts) == 2


def test_a_peer_leaving_as_another_arrives_is_still_reported_removed() -> None:
    # The same number of peers before and after: only the count of peers that were there before tells the
    # tracker that one left.
    backend, clock, mon = make()
    keys = backend.add_peers("wg0", 4, latest_handshake=int(clock.now))
    mon.poll_once()
    clock.tick()
    mon.poll_once()
    del backend.ifaces["wg0"][keys[2]]
    new = key(100)
    backend.ifaces["wg0"][new] = PeerState(public_key=new, latest_handshake=int(clock.now))
    backend.bump("wg0", keys[0], endpoint="192.0.2.9:51820")
    clock.tick()
    (delta,) = mon.poll_once().interfaces
    assert delta.removed == (keys[2],)
    assert set(delta.upserts) == {new, keys[0]}
    assert (delta.summary.total, delta.summary.online) == (4, 4)
    assert set(mon._trackers["wg0"].rows) == {keys[0], keys[1], keys[3], new}


def test_names_change_reported_only_for_peers_whose_name_changed() -> None:
    backend, clock = FakeBackend(), Clock()
    keys = backend.add_peers("wg0", 3)
    configs = {"wg0": ConfigView(names={keys[0]: "alice"})}
    mon = Monitor(backend, clock=clock, config_for=lambda ifname: configs[ifname])
    (delta,) = mon.poll_once().interfaces
    assert delta.upserts[keys[0]].name == "alice" and delta.upserts[keys[1]].name == ""
    clock.tick()
    mon.poll_once()
    configs["wg0"] = ConfigView(names={keys[0]: "alice", keys[2]: "carol"})
    clock.tick()
    (delta,) = mon.poll_once().interfaces
    assert list(delta.upserts) == [keys[2]] and delta.upserts[keys[2]].name == "carol"


def test_drift_marks_and_file_only_rows_follow_the_file_and_the_interface(tmp_path: Path) -> None:
    backend, clock = FakeBackend(), Clock()
    live = backend.add_peers("wg0", 2, allowed_ips=("10.0.0.2/32",))
    (tmp_path / "wg0.conf").write_text(
        f"[Interface]\nListenPort = 1\n\n[Peer]\nPublicKey = {live[0]}\nAllowedIPs = 10.0.0.2\n\n"
        f"# friendly_name = gone\n[Peer]\nPublicKey = {key(50)}\nAllowedIPs = 10.0.0.50/32\n")
    mon = Monitor(backend, clock=clock, config_for=ConfigSource(tmp_path))
    (delta,) = mon.poll_once().interfaces
    rows = delta.upserts
    assert rows[live[0]].drift == ()  # 10.0.0.2 in the file is 10.0.0.2/32 on the interface
    assert rows[live[1]].drift == (Drift.RUNTIME_ONLY,)
    assert rows[key(50)].drift == (Drift.FILE_ONLY,) and rows[key(50)].name == "gone" and rows[key(50)].file_only
    assert delta.summary.total == 2  # a file-only peer is shown, not counted
    # The peer leaves the interface but stays in the file: its row turns into a file-only row, not a removal.
    del backend.ifaces["wg0"][live[0]]
    clock.tick()
    (delta,) = mon.poll_once().interfaces
    assert delta.removed == () and delta.upserts[live[0]].drift == (Drift.FILE_ONLY,)
    # The file-only peer comes up: a live row replaces the file row.
    backend.add_peers("wg0", 0)
    backend.ifaces["wg0"][key(50)] = PeerState(key(50), allowed_ips=("10.0.0.50/32",))
    clock.tick()
    (delta,) = mon.poll_once().interfaces
    assert delta.upserts[key(50)].drift == () and delta.upserts[key(50)].name == "gone"
    assert delta.summary.total == 2


def test_interfaces_appear_and_disappear_with_discovery() -> None:
    backend, clock, mon = make()
    backend.add_peers("wg0", 1)
    assert [d.name for d in mon.poll_once().interfaces] == ["wg0"]
    backend.add_peers("wg1", 2)
    clock.tick()
    assert [d.name for d in mon.poll_once().interfaces] == ["wg0", "wg1"]
    del backend.ifaces["wg0"]
    clock.tick()
    assert [d.name for d in mon.poll_once().interfaces] == ["wg1"]


def test_thread_polls_and_stops() -> None:
    import threading

    backend, _clock, mon = make()
    backend.add_peers("wg0", 2)
    mon.interval = 0.05
    got: list[int] = []
    done = threading.Event()

    def on_update(update: object) -> None:
        got.append(1)
        if len(got) >= 3:
            done.set()

    mon.start(on_update)
    assert done.wait(5)
    mon.stop()
    count = len(got)
    done.wait(0.2)
    assert len(got) == count  # nothing after stop


def test_a_busy_peer_keeps_one_expiry_per_handshake_and_still_turns_stale() -> None:
    backend, clock, mon = make(online_after=180)
    (k,) = backend.add_peers("wg0", 1, latest_handshake=int(clock.now), rx_bytes=1)
    mon.poll_once()
    for i in range(100):  # traffic every second, the same handshake: a new row each poll
        clock.tick(1)
        backend.bump("wg0", k, rx_bytes=1000 * (i + 2))
        assert mon.poll_once().interfaces[0].upserts[k].status is PeerStatus.ONLINE
    assert len(mon._trackers["wg0"].expiries) == 1
    backend.bump("wg0", k, latest_handshake=int(clock.now))  # a new handshake: a new expiry
    clock.tick(1)
    mon.poll_once()
    assert len(mon._trackers["wg0"].expiries) == 2
    clock.tick(178)
    mon.poll_once()
    assert mon._trackers["wg0"].rows[k].status is PeerStatus.ONLINE
    clock.tick(1)  # 180 s after the new handshake
    (delta,) = mon.poll_once().interfaces
    assert delta.upserts[k].status is PeerStatus.STALE and delta.summary.online == 0


def test_rows_made_positionally_are_ordinary_frozen_rows() -> None:
    from dataclasses import FrozenInstanceError, astuple

    from wgtui.monitor_rows import PeerRow, new_row

    values = (PeerState(public_key=key(1)), "laptop", PeerStatus.ONLINE, 1.5, None, (Drift.FILE_ONLY,), None)
    made, usual = new_row(*values), PeerRow(*values)
    assert type(made) is PeerRow and made == usual and hash(made) == hash(usual)
    assert astuple(made)[1:] == values[1:] and made.key == key(1) and made.file_only
    with pytest.raises(FrozenInstanceError):
        made.name = "x"  # type: ignore[misc]
