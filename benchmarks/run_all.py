"""Provides `make bench`: runs every benchmark (full size unless --quick) and prints one results table."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (
    bench_batch,
    bench_changes,
    bench_dashboard_changes,
    bench_fleet,
    bench_keys,
    bench_memory,
    bench_poll,
    bench_startup,
    bench_terminal,
    bench_ui_tick,
)
from benchmarks.common import Result, machine, reference_ms, table

Runner = Callable[[bool], list[Result]]

BENCHMARKS: dict[str, Runner] = {
    "startup": lambda quick: bench_startup.run(peers=50, repeat=2 if quick else 5, big=0 if quick else 10_000),
    "poll": lambda quick: bench_poll.run_uapi(n=500 if quick else 10_000, repeat=3 if quick else 7),
    "ui_tick": lambda quick: bench_ui_tick.run(sizes=(200, 1_000) if quick else (1_000, 10_000, 50_000),
                                               ticks=5 if quick else 40, first_frame_n=1_000 if quick else 10_000,
                                               worst_sort=not quick),
    "keys": lambda quick: bench_keys.run(n=1_000 if quick else 10_000),
    "memory": lambda quick: bench_memory.run(n=1_000 if quick else 10_000, polls=60 if quick else 600),
    "terminal": lambda quick: bench_terminal.run(warm=2 if quick else 4, measure=4 if quick else 16),
    "fleet": lambda quick: bench_fleet.run(hosts=3 if quick else 20, peers=100 if quick else 500,
                                           seconds=4 if quick else 20),
    "changes": lambda quick: bench_changes.run(sizes=(1_000,) if quick else (1_000, 10_000, 100_000),
                                               repeat=1 if quick else 3, demo=1_000 if quick else 10_000),
    "dashboard_changes": lambda quick: bench_dashboard_changes.run(sizes=(1_000,) if quick else (1_000, 10_000),
                                                                   repeat=1 if quick else 3),
    "batch": lambda quick: bench_batch.run(existing=200 if quick else 2_000, added=100 if quick else 1_000,
                                           repeat=1 if quick else 3),
    "poll_kernel": lambda quick: bench_poll.run_kernel(n=1_000 if quick else 10_000),
}
"""In the order they run; poll_kernel (a VM boot, minutes) only with --kernel."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks that everything runs (minutes)")
    parser.add_argument("--kernel", action="store_true", help="also boot a VM for the kernel poll benchmark")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), metavar="NAME",
                        help=f"run only these ({', '.join(BENCHMARKS)})")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    names = args.only or [n for n in BENCHMARKS if n != "poll_kernel" or args.kernel]
    started = time.monotonic()
    reference = [reference_ms()]
    results: list[Result] = []
    for name in names:
        began = time.monotonic()
        print(f"running {name}…", file=sys.stderr, flush=True)
        try:
            found = BENCHMARKS[name](args.quick)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            found = [Result(name, "(failed)", 0.0, "skipped", met=False, note=f"{type(exc).__name__}: {exc}")]
        results += found
        print(f"  {name}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    reference.append(reference_ms())
    print(f"Machine: {machine()}")
    print(f"Reference workload (common.reference_ms): {reference[0]:.0f} ms before the run, {reference[1]:.0f} ms "
          "after it: the machine's speed while it ran")
    print(f"Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; {time.monotonic() - started:.0f} s; "
          f"{'quick sizes' if args.quick else 'full size'}\n")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1))
    return 1 if any(r.unit == "skipped" and r.met is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
