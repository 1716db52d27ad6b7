"""The usage ledger: increases, counter resets, restarts of wgtui, stable peer ids across rotation, final readings,
downsampling and pruning, several processes on one database, and its cost at 10,000 peers."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.lifecycle.conftest import BERLIN
from wgtui import keys
from wgtui.lifecycle import db
from wgtui.lifecycle.history import DAY_KEEP, HOUR_KEEP
from wgtui.lifecycle.ledger import Increase, Ledger, LedgerError, Totals
from wgtui.lifecycle.periods import Period, period_bounds
from wgtui.model import PeerState

K1, K2, K3, K4 = (keys.keypair()[1] for _ in range(4))
T0 = int(datetime.fromisoformat("2026-03-10T12:00:00+01:00").timestamp())


def peers(*items: tuple[str, int, int]) -> dict[str, PeerState]:
    return {key: PeerState(key, rx_bytes=rx, tx_bytes=tx) for key, rx, tx in items}


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def ledger(state_dir: Path) -> Iterator[Ledger]:
    with Ledger.open(state_dir, tz=BERLIN) as led:
        led.record("wg0", T0 - 60, {})  # the interface is known: counters found later are usage, not a baseline
        yield led


def totals(led: Ledger, key: str, ifname: str = "wg0") -> tuple[int, int]:
    t = led.totals(ifname)[key]
    return t.rx_total, t.tx_total


def test_database_is_private_and_in_wal_mode(state_dir: Path) -> None:
    with Ledger.open(state_dir):
        pass
    assert stat.S_IMODE(os.stat(state_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state_dir / "wgtui.db").st_mode) == 0o600
    with Ledger.open(state_dir) as led:
        assert led.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        led.record("wg0", T0, peers((K1, 1, 1)))
        for suffix in ("-wal", "-shm"):
            assert stat.S_IMODE(os.stat(state_dir / f"wgtui.db{suffix}").st_mode) == 0o600
    with pytest.raises(db.DatabaseMissing):
        Ledger.open(state_dir.parent / "elsewhere", create=False)


def test_each_poll_adds_the_increase(ledger: Ledger) -> None:
    assert ledger.record("wg0", T0, peers((K1, 1000, 100), (K2, 0, 0))) == {
        K1: Increase(ledger.totals("wg0")[K1].peer_id, 1000, 100)}
    assert ledger.record("wg0", T0 + 1, peers((K1, 1500, 100), (K2, 10, 20)))[K1].rx == 500
    assert totals(ledger, K1) == (1500, 100) and totals(ledger, K2) == (10, 20)
    assert ledger.totals("wg0")[K1].peer_id != ledger.totals("wg0")[K2].peer_id


def test_an_unchanged_poll_writes_nothing(ledger: Ledger) -> None:
    ledger.record("wg0", T0, peers((K1, 1000, 100)))
    before = ledger.conn.total_changes
    assert ledger.record("wg0", T0 + 1, peers((K1, 1000, 100))) == {}
    assert ledger.conn.total_changes == before


def test_a_decrease_is_a_reset_and_the_new_reading_is_the_increase(ledger: Ledger) -> None:
    ledger.record("wg0", T0, peers((K1, 5000, 700)))
    # rx went down: the peer was re-created, so tx restarted from 0 too (it is already past its old value)
    increase = ledger.record("wg0", T0 + 1, peers((K1, 300, 900)))[K1]
    assert (increase.rx, increase.tx) == (300, 900)
    assert totals(ledger, K1) == (5300, 1600)
    ledger.record("wg0", T0 + 2, peers((K1, 400, 0)))  # and again, tx the one that says so
    assert totals(ledger, K1) == (5700, 1600)
    ledger.record("wg0", T0 + 3, peers((K1, 450, 20)))
    assert totals(ledger, K1) == (5750, 1620)


def test_the_first_poll_of_an_interface_is_lifetime_not_usage_of_that_minute(state_dir: Path) -> None:
    with Ledger.open(state_dir, tz=BERLIN) as led:
        assert led.record("wg9", T0, peers((K1, 10**12, 10**11))) == {}  # years of traffic before wgtui
        peer = led.totals("wg9")[K1]
        assert (peer.rx_total, peer.tx_total) == (10**12, 10**11)
        assert led.used(peer.peer_id, T0 - 86400, T0 + 86400) == (0, 0)  # no quota is used up by it
        led.record("wg9", T0 + 2, peers((K1, 10**12 + 5, 10**11), (K2, 7, 0)))  # later: real usage, new peers too
        assert led.used(peer.peer_id, T0 - 86400, T0 + 86400) == (5, 0)
        assert led.used(led.totals("wg9")[K2].peer_id, T0, T0 + 60) == (7, 0)


def test_a_restart_of_wgtui_neither_double_counts_nor_loses_the_gap(state_dir: Path) -> None:
    with Ledger.open(state_dir, tz=BERLIN) as led:
        led.record("wg0", T0, {})
        led.record("wg0", T0 + 1, peers((K1, 1000, 10)))
    # wgtui is down for an hour; the peer keeps talking
    with Ledger.open(state_dir, tz=BERLIN) as led:
        assert led.record("wg0", T0 + 3600, peers((K1, 4000, 40)))[K1][1:] == (3000, 30)
        assert totals(led, K1) == (4000, 40)
    # down again, and meanwhile the host rebooted: the counters started again from 0
    with Ledger.open(state_dir, tz=BERLIN) as led:
        led.record("wg0", T0 + 7200, peers((K1, 250, 5)))
        assert totals(led, K1) == (4250, 45)
        pid = led.totals("wg0")[K1].peer_id
        assert led.used(pid, T0, T0 + 86400) == (4250, 45)


def test_an_epoch_change_catches_a_restart_whose_counters_already_passed_the_old_reading(ledger: Ledger) -> None:
    ledger.record("wg0", T0, peers((K1, 1000, 100)), epoch="boot-a/1/7")
    ledger.record("wg0", T0 + 1, peers((K1, 1100, 100)), epoch="boot-a/1/7")
    # re-created while nobody polled, and it moved 5000 bytes since: a plain comparison would count only 3900
    ledger.record("wg0", T0 + 600, peers((K1, 5000, 300)), epoch="boot-a/1/9")
    assert totals(ledger, K1) == (6100, 400)
    ledger.record("wg0", T0 + 601, peers((K1, 5001, 300)))  # no epoch given: only the counters rule
    assert totals(ledger, K1) == (6101, 400)


def test_a_peer_that_left_counts_from_zero_when_it_comes_back(ledger: Ledger) -> None:
    ledger.record("wg0", T0, peers((K1, 1000, 100), (K2, 50, 5)))
    ledger.record("wg0", T0 + 1, peers((K2, 60, 5)))  # K1 removed (by someone else)
    ledger.record("wg0", T0 + 2, peers((K1, 2500, 200), (K2, 60, 5)))  # re-added, and busy: 2500 > 1000
    assert totals(ledger, K1) == (3500, 300)
    # a partial mapping (complete=False) does not mean the others left
    ledger.record("wg0", T0 + 3, peers((K2, 70, 5)), complete=False)
    ledger.record("wg0", T0 + 4, peers((K1, 2600, 200), (K2, 70, 5)))
    assert totals(ledger, K1) == (3600, 300)


def test_final_reading_before_removal_is_counted_once_even_with_an_agent_running(state_dir: Path) -> None:
    with Ledger.open(state_dir, tz=BERLIN) as agent, Ledger.open(state_dir, tz=BERLIN) as cli:
        agent.record("wg0", T0, {})
        agent.record("wg0", T0 + 1, peers((K1, 1000, 100), (K2, 1, 1)))
        # the CLI removes K1: its last counters first, then the removal
        cli.final_reading("wg0", K1, PeerState(K1, rx_bytes=1800, tx_bytes=150), now=T0 + 2)
        cli.peer_removed("wg0", K1)
        assert totals(cli, K1) == (1800, 150)
        agent.record("wg0", T0 + 3, peers((K2, 1, 1)))  # the agent's copy is stale: it must notice, not recount
        assert totals(agent, K1) == (1800, 150)
        # enabled again quickly (before any poll saw it gone): counts from 0, not from the final reading
        agent.record("wg0", T0 + 4, peers((K1, 2000, 10), (K2, 1, 1)))
        assert totals(agent, K1) == (3800, 160)


def test_a_removal_that_failed_after_the_final_reading_does_not_double_count(ledger: Ledger) -> None:
    ledger.record("wg0", T0, peers((K1, 1000, 100)))
    ledger.final_reading("wg0", K1, PeerState(K1, rx_bytes=1200, tx_bytes=100), now=T0 + 1)
    ledger.record("wg0", T0 + 2, peers((K1, 1300, 100)))  # still there: the removal was rolled back
    assert totals(ledger, K1) == (1300, 100)


def test_link_makes_the_new_key_continue_the_old_peer_id(ledger: Ledger) -> None:
    ledger.record("wg0", T0, peers((K1, 1000, 100)))
    old = ledger.totals("wg0")[K1].peer_id
    assert ledger.link("wg0", K1, K2) == old
    ledger.record("wg0", T0 + 60, peers((K2, 300, 30)))  # the client switched; K1 is gone
    assert ledger.totals("wg0")[K2] == Totals(1300, 130, old)
    assert ledger.used(old, T0 - 60, T0 + 120) == (1300, 130)
    assert sorted(k for _, k in ledger.keys_of(old)) == sorted([K1, K2])


def test_a_pending_rotation_links_even_if_nobody_called_link(ledger: Ledger) -> None:
    ledger.record("wg0", T0, peers((K1, 1000, 100)))
    old = ledger.totals("wg0")[K1].peer_id
    # staged rotation: both keys live, the config file's comments say K2 replaces K1
    ledger.record("wg0", T0 + 60, peers((K1, 1100, 100), (K2, 5, 5)), renames={K2: K1})
    assert ledger.totals("wg0")[K2].peer_id == old
    ledger.record("wg0", T0 + 120, peers((K2, 500, 50)), renames={K2: K1})
    assert ledger.totals("wg0")[K2] == Totals(1600, 150, old)


def test_a_new_key_polled_before_the_link_is_merged_into_the_old_peer(ledger: Ledger) -> None:
    ledger.record("wg0", T0, peers((K1, 1000, 100)))
    old = ledger.totals("wg0")[K1].peer_id
    ledger.record("wg0", T0 + 60, peers((K1, 1000, 100), (K3, 40, 4)))  # nobody told us yet
    stray = ledger.totals("wg0")[K3].peer_id
    assert stray != old
    ledger.record("wg0", T0 + 120, peers((K3, 50, 5)), renames={K3: K1})  # now the file says so
    assert ledger.totals("wg0")[K3] == Totals(1050, 105, old)
    assert ledger.used(old, T0 - 60, T0 + 180) == (1050, 105)
    assert ledger.used(stray, 0, 2**40) == (0, 0) and ledger.peer_totals(stray) == (0, 0)
    ledger.link("wg0", K1, K3)  # linking again changes nothing
    assert ledger.totals("wg0")[K3] == Totals(1050, 105, old)


def test_peer_id_can_be_assigned_before_the_first_poll(ledger: Ledger) -> None:
    assert ledger.peer_id("wg0", K4) is None
    pid = ledger.peer_id("wg0", K4, create=True)
    assert pid and len(pid) == 8 and ledger.peer_id("wg0", K4) == pid
    ledger.record("wg0", T0, peers((K4, 99, 1)))
    assert ledger.totals("wg0")[K4] == Totals(99, 1, pid)


def test_interfaces_are_separate(ledger: Ledger) -> None:
    ledger.record("wg1", T0 - 60, {})
    ledger.record("wg0", T0, peers((K1, 10, 1)))
    ledger.record("wg1", T0, peers((K1, 20, 2)))  # the same key on two interfaces: two peers
    assert totals(ledger, K1, "wg0") == (10, 1) and totals(ledger, K1, "wg1") == (20, 2)
    assert ledger.totals("wg0")[K1].peer_id != ledger.totals("wg1")[K1].peer_id


def test_usage_in_a_quota_period_is_exact_at_local_midnight(ledger: Ledger) -> None:
    before = int(datetime.fromisoformat("2026-03-31T23:59:30+02:00").timestamp())
    after = int(datetime.fromisoformat("2026-04-01T00:00:10+02:00").timestamp())
    ledger.record("wg0", before - 60, peers((K1, 0, 0)))
    ledger.record("wg0", before, peers((K1, 700, 0)))  # March
    ledger.record("wg0", after, peers((K1, 1000, 0)))  # April
    pid = ledger.totals("wg0")[K1].peer_id
    april = period_bounds(Period.MONTH, after, BERLIN)
    march = period_bounds(Period.MONTH, before, BERLIN)
    assert april and march
    assert ledger.used(pid, *april) == (300, 0) and ledger.used(pid, *march) == (700, 0)
    # still exact once the minutes are hours and the hours days
    ledger.compact(after + HOUR_KEEP + 3 * 86400)
    assert ledger.conn.execute("SELECT count(*) FROM usage_minute").fetchone()[0] == 0
    assert ledger.conn.execute("SELECT count(*) FROM usage_hour").fetchone()[0] == 0
    assert ledger.used(pid, *april) == (300, 0) and ledger.used(pid, *march) == (700, 0)
    assert ledger.used_by_peer("wg0", *april) == {pid: (300, 0)}


def test_history_is_downsampled_and_pruned_without_touching_totals(state_dir: Path) -> None:
    with Ledger.open(state_dir, tz=BERLIN, auto_compact=False) as led:
        led.record("wg0", T0 - 60, {})
        rx = 0
        # 3 days of one poll a minute, 1000 bytes each
        for minute in range(3 * 1440):
            rx += 1000
            led.record("wg0", T0 + minute * 60, peers((K1, rx, rx // 10)))
        pid = led.totals("wg0")[K1].peer_id
        now = T0 + 3 * 1440 * 60 - 60
        led.compact(now)
        minutes = led.conn.execute("SELECT min(t), count(*) FROM usage_minute").fetchone()
        assert minutes[0] >= now - 86400 - 3600 and minutes[1] <= 1440 + 60  # minutes: about the last day
        hours = led.conn.execute("SELECT t, rx FROM usage_hour ORDER BY t").fetchall()
        assert all(datetime.fromtimestamp(t, BERLIN).minute == 0 for t, _ in hours)  # local hours
        assert all(r == 60_000 for _, r in hours[1:])  # a full hour of minutes each (the first starts mid-hour)
        assert led.used(pid, 0, 2**40) == (rx, rx // 10) == led.peer_totals(pid)

        day = led.history(pid, "day", now)
        assert len(day) == 1440 and day[-1][0] == now // 60 * 60 and all(r == 1000 for _, r, _ in day)
        week = led.history(pid, "week", now)
        assert len(week) == 168 and sum(r for _, r, _ in week) == rx
        assert week[-1][1] == 1000 * (datetime.fromtimestamp(now, BERLIN).minute + 1)
        month = led.history(pid, "month", now)
        assert len(month) == 720 and sum(r for _, r, _ in month) == rx

        # 100 days later the hours are local days; after two years and more they are gone, the totals are not
        led.compact(now + HOUR_KEEP + 10 * 86400)
        assert led.conn.execute("SELECT count(*) FROM usage_hour").fetchone()[0] == 0
        days = led.conn.execute("SELECT t, rx FROM usage_day ORDER BY t").fetchall()
        assert [datetime.fromtimestamp(t, BERLIN).hour for t, _ in days] == [0] * len(days) and len(days) == 4
        assert sum(r for _, r in days) == rx
        year = led.history(pid, "year", now + 100 * 86400)
        assert len(year) == 365 and sum(r for _, r, _ in year) == rx
        led.compact(now + DAY_KEEP + 86400)
        assert led.conn.execute("SELECT count(*) FROM usage_day").fetchone()[0] == 0
        assert led.totals("wg0")[K1][:2] == (rx, rx // 10)


def test_roll_up_to_local_hours_in_a_half_hour_zone(state_dir: Path) -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    start = int(datetime.fromisoformat("2026-05-05T10:00+05:30").timestamp())
    with Ledger.open(state_dir, tz=kolkata, auto_compact=False) as led:
        led.record("wg0", start - 60, {})
        for minute in range(120):
            led.record("wg0", start + minute * 60, peers((K1, (minute + 1) * 10, 0)))
        led.compact(start + 86400 + 3 * 3600)
        hours = led.conn.execute("SELECT t, rx FROM usage_hour ORDER BY t").fetchall()
        assert hours == [(start, 600), (start + 3600, 600)]


def test_two_processes_write_the_same_database_at_once(state_dir: Path) -> None:
    """An agent polling while a CLI assigns ids, takes final readings and links keys, in another process."""
    with Ledger.open(state_dir, tz=BERLIN) as led:
        led.record("wg0", T0, {})
    script = f"""
import sys
from pathlib import Path
from wgtui.lifecycle.ledger import Ledger
from wgtui.model import PeerState
led = Ledger.open(Path({str(state_dir)!r}))
for i in range(150):
    led.peer_id("wg0", "cli" + str(i).rjust(40, "0") + "=", create=True)
    led.final_reading("wg1", {K2!r}, PeerState({K2!r}, rx_bytes=i + 1), now={T0} + i)
print("ok")
"""
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root}
    cli = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    with Ledger.open(state_dir, tz=BERLIN) as agent:
        rx = 0
        while cli.poll() is None or rx < 100_000:
            rx += 1000
            agent.record("wg0", T0 + rx / 1000, peers((K1, rx, 1)))
        out, err = cli.communicate(timeout=60)
        assert cli.returncode == 0 and out.strip() == b"ok", err.decode()
        assert agent.totals("wg0")[K1][:2] == (rx, 1)
        assert agent.totals("wg1")[K2][:2] == (150, 0)
        assert len(agent.totals("wg0")) == 151


def test_a_writer_that_holds_the_lock_too_long_costs_one_poll_not_its_traffic(state_dir: Path) -> None:
    with Ledger.open(state_dir, tz=BERLIN, timeout=0.2) as led:
        led.record("wg0", T0, {})
        led.record("wg0", T0 + 1, peers((K1, 100, 10)))
        other = db.connect(state_dir / "wgtui.db")
        other.execute("BEGIN IMMEDIATE")  # another process in a (far too long) write transaction
        started = time.monotonic()
        with pytest.raises(LedgerError, match="could not be updated"):
            led.record("wg0", T0 + 2, peers((K1, 300, 30)))
        assert time.monotonic() - started < 2  # waited its busy timeout, not forever
        other.execute("ROLLBACK")
        other.close()
        led.record("wg0", T0 + 3, peers((K1, 500, 50)))  # the missed poll's traffic is in this one
        assert totals(led, K1) == (500, 50)


def test_cost_at_ten_thousand_peers(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = 10_000
    all_keys = [keys.b64(os.urandom(32)) for _ in range(n)]
    counters = {key: [i * 1000, i * 100] for i, key in enumerate(all_keys)}

    def snapshot() -> dict[str, PeerState]:
        return {k: PeerState(k, rx_bytes=c[0], tx_bytes=c[1]) for k, c in counters.items()}

    with Ledger.open(state_dir, tz=BERLIN) as led:
        led.record("wg0", T0, snapshot())
        changed_times, same_times = [], []
        for poll in range(1, 11):
            for key in all_keys[(poll * 500) % n:(poll * 500) % n + n // 20]:  # 5 % of the peers moved
                counters[key][0] += 1500
                counters[key][1] += 90
            state = snapshot()
            started = time.perf_counter()
            assert len(led.record("wg0", T0 + 2 * poll, state)) == n // 20
            changed_times.append(time.perf_counter() - started)
        for poll in range(11, 16):
            started = time.perf_counter()
            assert led.record("wg0", T0 + 2 * poll, state) == {}
            same_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        every = led.totals("wg0")
        totals_time = time.perf_counter() - started
    assert len(every) == n
    changed, same = sorted(changed_times)[len(changed_times) // 2], sorted(same_times)[len(same_times) // 2]
    with capsys.disabled():
        print(f"\nledger at {n} peers: record() with 5% changed {changed * 1000:.1f} ms, unchanged {same * 1000:.1f} "
              f"ms, totals() {totals_time * 1000:.1f} ms (medians)")
    assert changed < 0.25 and same < 0.1  # generous: a shared 2-core machine
