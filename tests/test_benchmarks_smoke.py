"""Small-size runs of every benchmark in benchmarks/, so that they keep working: shapes and sanity, no timings."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from benchmarks import (
    bench_batch,
    bench_changes,
    bench_dashboard_changes,
    bench_keys,
    bench_memory,
    bench_poll,
    bench_startup,
    bench_terminal,
    bench_ui_tick,
    run_all,
)
from benchmarks.common import Result, UapiSource, reference_ms, table
from tests import netns


def sane(results: list[Result], *, allow_skip: bool = False) -> list[Result]:
    assert results and all(isinstance(r, Result) for r in results)
    for r in results:
        if allow_skip and r.unit == "skipped":
            continue
        assert r.unit != "skipped", r.note
        assert math.isfinite(r.value) and r.value >= 0, r
        assert r.met in (True, False, None) and (r.met is None) == (not r.target), r
    assert table(results).count("\n") == len(results) + 1
    return results


def test_synthetic_source_is_what_wireguard_go_writes() -> None:
    from wgtui.backends.uapi import new_cache, parse_get

    source = UapiSource(40)
    cache = new_cache()
    first = parse_get(source.answer(), "wgbench0", cache)
    assert len(first.peers) == 40 and set(first.peers) == set(source.names)
    moved = source.tick(1_800_000_001, 0.1)
    second = parse_get(source.answer(), "wgbench0", cache)
    assert (cache.parsed, cache.reused) == (len(set(moved)), 40 - len(set(moved)))
    assert sum(second.peers[k] is not v for k, v in first.peers.items()) == len(set(moved))


def test_ui_tick() -> None:
    results = sane(bench_ui_tick.run(sizes=(30, 60), ticks=2, size=(80, 24), first_frame_n=60, worst_sort=False))
    assert [r.metric for r in results][-1] == "first frame, 60 peers"


def test_keys() -> None:
    results = sane(bench_keys.run(n=150, size=(100, 30), needle="peer-001"))
    assert len(results) == 8 and all(r.value > 0 for r in results)


def test_memory() -> None:
    (result,) = sane(bench_memory.run(n=40, polls=3))
    assert 20 < result.value < 1000 and "peers with history" in result.note


def test_startup() -> None:
    results = sane(bench_startup.run(peers=5, repeat=1, big=0))
    assert results[0].value > 0
    assert [r.value for r in results[1:]] == [0.0, 0.0]  # neither `show` nor `peer … --dry-run` imported Textual


def test_changes() -> None:
    results = sane(bench_changes.run(sizes=(30,), repeat=1, demo=0, commands=("add", "edit")))
    assert len(results) == 4 and all(r.value > 0 and r.met is None for r in results)
    assert "peer add" in results[0].metric and "--dry-run" in results[1].metric


def test_dashboard_changes() -> None:
    results = sane(bench_dashboard_changes.run(sizes=(40,), repeat=2, size=(100, 30), read_s=0.0))
    assert [r.metric.split(":")[0] for r in results] == ["add"] * 4 + ["remove"] * 3
    assert "first `a`" in results[0].metric and "one sample" in results[0].note
    assert all(r.value > 0 and r.met is None and "40 peers" in r.metric and "median of " in r.note
               for r in results[1:])  # no target below 10,000 peers


@pytest.mark.netns
def test_poll_on_wireguard_go() -> None:
    results = sane(bench_poll.run_uapi(n=60, repeat=2), allow_skip=netns.skip_reason() is not None)
    if results[0].unit != "skipped":
        assert "60/60 peers reused" in results[2].note


def test_poll_of_kernel_layout_dumps_on_the_host() -> None:
    from benchmarks.poll_host import run_host

    sane(run_host(n=200, steps=2, runs=1))


@pytest.mark.netns
def test_batch_on_wireguard_go() -> None:
    results = sane(bench_batch.run(existing=30, added=12, repeat=1), allow_skip=netns.skip_reason() is not None)
    if results[0].unit != "skipped":
        assert len(results) == 8 and all(r.value > 0 for r in results)
        assert "12 new peers into 30" in results[0].metric and results[5].metric.startswith("the blog post's way")
        assert results[6].value == results[0].value / results[5].value


@pytest.mark.netns
def test_terminal_bytes() -> None:
    results = sane(bench_terminal.run(peers=4, active=1, warm=1.5, measure=2.5),
                   allow_skip=netns.skip_reason() is not None)
    if results[0].unit != "skipped":
        assert results[1].value > 0 and results[2].value > 0


@pytest.mark.netns
def test_fleet_over_ssh() -> None:
    from benchmarks import bench_fleet
    from tests.sshlab import skip_reason

    results = sane(bench_fleet.run(hosts=2, peers=20, seconds=2),
                   allow_skip=(netns.skip_reason() or skip_reason()) is not None)
    if results[0].unit != "skipped":
        idle_wire, idle_cpu, busy_wire, busy_cpu, fleet_ui, host_ui = results
        assert 0 < idle_wire.value < busy_wire.value and idle_cpu.value > 0 and busy_cpu.value > 0
        assert "fleet view (2 hosts)" in fleet_ui.metric and "peers shown" in host_ui.metric
        assert fleet_ui.value > 0 and host_ui.value > 0


def test_run_all_knows_every_benchmark() -> None:
    assert set(run_all.BENCHMARKS) == {"startup", "poll", "ui_tick", "keys", "memory", "terminal", "poll_kernel",
                                       "fleet", "changes", "batch", "dashboard_changes"}
    scripts = {p.stem.removeprefix("bench_") for p in (Path(run_all.__file__).parent).glob("bench_*.py")}
    assert scripts == set(run_all.BENCHMARKS) - {"poll_kernel"}  # every script runs (poll_kernel is bench_poll's)


def test_run_all_prints_the_reference_workload_before_and_after(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    speeds = iter([80.0, 120.0])
    monkeypatch.setattr(run_all, "reference_ms", lambda: next(speeds))
    monkeypatch.setitem(run_all.BENCHMARKS, "startup", lambda quick: [])
    assert run_all.main(["--only", "startup"]) == 0
    assert "Reference workload (common.reference_ms): 80 ms before the run, 120 ms after it" in capsys.readouterr().out
    assert 0 < reference_ms(repeat=1) < 60_000  # the real workload runs and is timed


@pytest.mark.kernel
@pytest.mark.skipif(os.environ.get("WGTUI_BENCH_VM") != "1", reason="boots a VM (a minute or more): "
                    "WGTUI_BENCH_VM=1 pytest -m kernel tests/test_benchmarks_smoke.py")
def test_poll_on_the_kernel_module_in_a_vm() -> None:
    results = sane(bench_poll.run_kernel(n=100, repeat=1), allow_skip=True)
    if results[0].unit != "skipped":
        assert "100/100 peers reused" in results[2].note
