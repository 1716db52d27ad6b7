"""Provides the kernel half of the poll benchmark, run inside the VM: samples of every path interleaved with samples of
the reference (`wg show IF dump` + split), each divided by the references around it."""

from __future__ import annotations

import gc
import itertools
import random
import statistics
import time
from collections.abc import Sequence

from benchmarks.bench_poll import SPACING, Subject, changes_config, wg_dump_split
from benchmarks.common import Result, median_ms, timed
from tests.fakes import Clock
from wgtui.backends.base import Backend
from wgtui.model import InterfaceState, PeerUpdate
from wgtui.monitor import Monitor

KERNEL_TARGETS = {"tick": 0.5, "unchanged": 0.3}
"""Issue 11's targets for the kernel poll, as ratios to the reference path measured next to them."""


class TimedBackend:
    """A backend that keeps the duration of each read: the monitor's share of a poll tick is the rest."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.reads: list[float] = []

    def interfaces(self) -> list[str]:
        return self.inner.interfaces()

    def read(self, ifname: str) -> InterfaceState:
        started = time.perf_counter()
        try:
            return self.inner.read(ifname)
        finally:
            self.reads.append(time.perf_counter() - started)

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        self.inner.apply(ifname, updates)

    def preshared_key(self, ifname: str, public_key: str) -> str | None:
        return self.inner.preshared_key(ifname, public_key)

    def private_key(self, ifname: str) -> str | None:
        return self.inner.private_key(ifname)

    def close(self) -> None:
        self.inner.close()


class GcTimer:
    """CPU time the cyclic garbage collector spends while it is on (gc.callbacks): part of a tick, but not of the
    decoding, and under emulation one of its passes can cost tens of milliseconds."""

    def __init__(self) -> None:
        self.seconds, self.passes, self._started = 0.0, 0, 0.0

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.passes += 1


def spread(ratios: list[float]) -> str:
    return f"{min(ratios):.2f}–{max(ratios):.2f}"


def measure_interleaved(subject: Subject, n: int, keys: list[str], repeat: int, share: float,
                        rng: random.Random) -> list[Result]:
    """The kernel's figures, each sample divided by the reference samples taken just before and after it.

    In an emulated VM on a shared host the reference itself swings by a factor of four between runs and drifts
    within one, so every round takes one sample of each path between two reference samples (reference, unchanged
    poll, a change and the poll tick, raw answer, fresh first poll; then the next round's reference), and each
    ratio is the median over rounds of sample ÷ geometric mean of the two references around it, with its min–max."""
    bench, ifname = f"poll ({subject.kind})", subject.ifname
    count = wg_dump_split(ifname)
    if count != n:
        raise RuntimeError(f"{ifname} has {count} peers, not {n}")
    poller = TimedBackend(subject.make())
    clock = Clock()
    monitor = Monitor(poller, interfaces=[ifname], clock=clock)
    monitor.poll_once()
    clock.tick()
    monitor.poll_once()  # every peer measured once (rate 0): the one-off second poll of a fresh monitor
    reader = subject.make()
    last = poller.read(ifname)
    ref: list[float] = []
    unchanged: list[float] = []
    first: list[float] = []
    raw: list[float] = []
    ticks: list[float] = []
    tick_reads: list[float] = []
    tick_gc: list[float] = []
    gc_passes = 0
    deltas: list[int] = []
    reused: list[int] = []
    for _ in range(repeat):
        time.sleep(SPACING)
        ref += timed(lambda: wg_dump_split(ifname), 1)
        time.sleep(SPACING)
        started = time.perf_counter()
        now = poller.read(ifname)
        unchanged.append(time.perf_counter() - started)
        reused.append(sum(now.peers.get(k) is v for k, v in last.peers.items()))
        subject.addconf(changes_config(keys, share, rng))
        time.sleep(SPACING)  # let the kernel settle after the change, as a second between polls would
        clock.tick()
        poller.reads.clear()
        with GcTimer() as collector:
            update = monitor.poll_once()
        tick_gc.append(collector.seconds)
        gc_passes += collector.passes
        ticks.append(update.poll_seconds)
        tick_reads.append(sum(poller.reads))
        deltas.append(len(update.interfaces[0].upserts))
        time.sleep(SPACING)
        raw += timed(lambda: subject.raw(reader), 1)
        time.sleep(SPACING)
        first += timed(lambda: subject.make().read(ifname), 1)
        last = poller.read(ifname)  # the state the next round's unchanged poll compares with
    time.sleep(SPACING)
    ref += timed(lambda: wg_dump_split(ifname), 1)
    answer = subject.raw(reader)
    subject.addconf(changes_config(keys, share, rng))
    time.sleep(SPACING)
    changed_answer = subject.raw(reader)
    cold = timed(lambda: subject.decoder()(answer), repeat)
    warm_decoder = subject.decoder()
    warm_decoder(answer)
    warm = timed(lambda: warm_decoder(answer), repeat)
    moving = []
    for _ in range(repeat):
        moving += timed(lambda: warm_decoder(changed_answer), 1) + timed(lambda: warm_decoder(answer), 1)

    around = [(a * b) ** 0.5 for a, b in itertools.pairwise(ref)]

    def ratios(samples: list[float]) -> list[float]:
        return [s / r for s, r in zip(samples, around, strict=True)]

    tick_r, unchanged_r, first_r, raw_r = ratios(ticks), ratios(unchanged), ratios(first), ratios(raw)
    rounds = f"median of {repeat} rounds, each ÷ the references around it, spread {{}}; reference " \
             f"{median_ms(ref):.0f} ms (spread {min(ref) * 1000:.0f}–{max(ref) * 1000:.0f} ms)"
    tick = statistics.median(tick_r)
    calm = statistics.median(unchanged_r)
    return [
        Result(bench, f"poll tick, {share:.0%} of {n:,} peers changed (read, decode, monitor) ÷ `wg show dump`+split",
               tick, "×", f"≤ {KERNEL_TARGETS['tick']}×", tick <= KERNEL_TARGETS["tick"],
               rounds.format(spread(tick_r)) + f"; tick {median_ms(ticks):.0f} ms, of which read "
               f"{median_ms(tick_reads):.0f} ms; {statistics.median(deltas):.0f} rows in the delta; garbage collector "
               f"{median_ms(tick_gc):.0f} ms (max {max(tick_gc) * 1000:.0f} ms, {gc_passes} passes in all ticks)"),
        Result(bench, "first poll (fresh backend, nothing cached) ÷ `wg show dump`+split", statistics.median(first_r),
               "×", note=rounds.format(spread(first_r)) + f"; {median_ms(first):.0f} ms"),
        Result(bench, "unchanged poll (every peer the same PeerState object) ÷ `wg show dump`+split", calm, "×",
               f"≤ {KERNEL_TARGETS['unchanged']}×", calm <= KERNEL_TARGETS["unchanged"],
               f"{min(reused):,}/{n:,} peers reused; " + rounds.format(spread(unchanged_r))
               + f"; {median_ms(unchanged):.0f} ms"),
        Result(bench, "raw answer alone (no decoding) ÷ `wg show dump`+split", statistics.median(raw_r), "×",
               note=rounds.format(spread(raw_r)) + f"; {median_ms(raw):.0f} ms: the floor under any reader"),
        Result(bench, f"decoding alone, {n:,} peers: cold / unchanged / {share:.0%} changed", median_ms(cold), "ms",
               note=f"unchanged: {median_ms(warm):.1f} ms; {share:.0%} changed: {median_ms(moving):.1f} ms"),
    ]
