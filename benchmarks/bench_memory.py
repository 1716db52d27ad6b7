"""Provides the memory benchmark: RSS of the whole app (monitor, history, table model, Textual) after ten minutes of
simulated polling at 10,000 peers, 5% of them changing per poll; run in a fresh interpreter so nothing else counts."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, Result, UapiSource, main_for, rss_mb
from benchmarks.uiharness import running

BENCH = "memory"
TARGET_MB = 120.0


async def _simulate(n: int, polls: int, share: float) -> dict[str, float]:
    started = time.perf_counter()
    before = rss_mb()[0]
    source = UapiSource(n)
    gc.collect()
    simulator = rss_mb()[0] - before
    async with running(n, share, (120, 40), source=source) as bench:
        after_first = rss_mb()[0]
        for _ in range(polls):
            await bench.apply(bench.poll())
        tracker = bench.app.monitor._trackers[next(iter(bench.app.monitor._trackers))]
        histories = len(tracker.histories)
        rss, peak = rss_mb()
    return {"rss": rss, "peak": peak, "after_first": after_first, "histories": histories, "simulator": simulator,
            "seconds": time.perf_counter() - started}


def child(n: int, polls: int, share: float) -> None:
    print(json.dumps(asyncio.run(_simulate(n, polls, share))))


def run(n: int = 10_000, polls: int = 600, share: float = 0.05) -> list[Result]:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(n), str(polls), str(share)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    if proc.returncode:
        raise RuntimeError(f"the memory child failed: {proc.stderr[-2000:]}")
    f = json.loads(proc.stdout.strip().splitlines()[-1])
    minutes = polls / 60
    return [
        Result(BENCH, f"RSS after {polls} polls ({minutes:g} simulated min), {n:,} peers", f["rss"], "MB",
               f"< {TARGET_MB:g} MB", f["rss"] < TARGET_MB,
               f"peak {f['peak']:.1f} MB; {f['after_first']:.1f} MB after the first poll; {f['histories']:,} peers "
               f"with history; {share:.0%} changing per poll; of the RSS, ~{f['simulator']:.0f} MB is the simulated "
               f"wireguard-go (its answer text); {f['seconds']:.0f} s wall"),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        main_for(run)
