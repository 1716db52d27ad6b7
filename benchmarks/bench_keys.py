"""Provides the key-latency benchmark at 10,000 peers: sort, filter (`/` and typing), page down, open and close the
detail screen, each timed from the key press to the last frame that shows its effect (wall time on the UI's event
loop, Textual's frame timer included)."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Result, main_for
from benchmarks.uiharness import Bench, running

BENCH = "key latency"
TARGET_MS = 50.0


async def press(bench: Bench, key: str) -> tuple[float, float, float]:
    """(ms to the last frame the key caused, ms to its first frame, UI-thread CPU ms) for one key.

    Only frames that change something on screen count (Textual also repaints unchanged scrollbars after every
    layout pass), and not those that change only the footer's key hints: Textual recomposes them when the focus
    moves, later and on its own schedule, and they show nothing the key asked for.
    """
    probe = bench.probe
    frames = len(probe.frame_times)
    cpu = time.thread_time()
    started = time.perf_counter()
    await bench.pilot.press(key)
    await bench.pilot.pause()
    cpu = time.thread_time() - cpu
    footer = {bench.app.size.height - 1}
    effect = [t for t, rows in zip(probe.frame_times[frames:], probe.frame_rows[frames:], strict=True)
              if rows - footer]
    if not effect:
        raise RuntimeError(f"pressing {key!r} drew nothing")
    return (effect[-1] - started) * 1000, (effect[0] - started) * 1000, cpu * 1000


async def measure(n: int, size: tuple[int, int],
                  needle: str) -> list[tuple[str, list[float], list[float], list[float]]]:
    """[(action, latencies ms, first-frame ms, CPU ms)]."""
    out: list[tuple[str, list[float], list[float], list[float]]] = []
    async with running(n, 0.05, size) as bench:
        for _ in range(3):
            await bench.apply(bench.poll())
        dash = bench.app.dashboard
        model = dash.table.model
        # The filter box's blinking cursor draws a frame twice a second: not something a key caused.
        dash.query_one("#filter").cursor_blink = False

        async def keys(action: str, seq: list[str], _check: str) -> None:
            lat, first, cpu = [], [], []
            for key in seq:
                latency, early, used = await press(bench, key)
                lat.append(latency)
                first.append(early)
                cpu.append(used)
            out.append((action, lat, first, cpu))

        await keys("sort (s: next column, full re-sort)", ["s", "s", "s"], "")
        if dash.sort != "rx_rate":
            raise RuntimeError(f"three presses of s should sort by rx_rate, not {dash.sort}")
        await keys("reverse sort (S)", ["S"], "")
        await keys("page down", ["pagedown"] * 5, "")
        if dash.table.cursor < 5 * (size[1] - 12):
            raise RuntimeError(f"five pages down left the cursor at {dash.table.cursor}")
        await keys("open filter (/)", ["slash"], "")
        await keys(f"filter: type {needle!r}, one key at a time (re-filter {n:,} rows each)", list(needle), "")
        if not 0 < len(model) < n:
            raise RuntimeError(f"the filter {needle!r} left {len(model)} rows")
        await keys("clear filter (escape)", ["escape"], "")
        if len(model) != n:
            raise RuntimeError("escape did not clear the filter")
        await keys("open detail (enter)", ["enter"], "")
        from wgtui.ui.screens.peer_detail import PeerDetailScreen

        if not isinstance(bench.app.screen, PeerDetailScreen):
            raise RuntimeError("enter did not open the detail screen")
        await keys("close detail (escape)", ["escape"], "")
    return out


def run(n: int = 10_000, size: tuple[int, int] = (120, 40), needle: str = "peer-01") -> list[Result]:
    results = []
    for action, lat, first, cpu in asyncio.run(measure(n, size, needle)):
        worst = max(lat)
        many = f"worst of {len(lat)}, median {statistics.median(lat):.1f} ms; " if len(lat) > 1 else ""
        results.append(Result(BENCH, f"{action}, {n:,} peers", worst, "ms", f"< {TARGET_MS:g} ms",
                              worst < TARGET_MS,
                              f"{many}first frame {max(first):.1f} ms; UI CPU {statistics.median(cpu):.1f} ms"))
    return results


if __name__ == "__main__":
    main_for(run)
