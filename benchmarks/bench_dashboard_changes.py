"""Provides the dashboard's change benchmark: the real app, headless, on a wg-quick file of 1,000 / 10,000 named peers
and a UAPI interface that takes the change; add (a → form, enter → diff preview, y → applied) and remove (d → confirm,
y → diff preview, y → applied), each step timed from the key to the first frame that shows its result."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Result, SyntheticUapi, UapiSource, main_for
from benchmarks.uiharness import IFNAME, clean_heap, interactive_gc, probed
from tests.fakes import Clock

BENCH = "dashboard changes"
TARGET_S = 0.35
"""Per step the user waits on (open, preview, apply), median: the CLI's whole-process target at 10,000 peers."""
TIMEOUT_S = 60.0
READ_S = 1.0
"""Between two changes the user reads the result: the dashboard collects a finished change's dialogs then
(gcpolicy.collect_after_flow), as it does for a user."""


class ChangingSource(UapiSource):
    """A UapiSource whose interface takes `set=1` requests: peers added and removed show in the next `get=1`."""

    def __init__(self, n: int, seed: int = 1) -> None:
        self.removed: set[int] = set()
        super().__init__(n, seed=seed)

    def _render(self, i: int) -> bytes:
        return b"" if i in self.removed else super()._render(i)

    def set(self, request: bytes) -> None:
        """Apply a UAPI `set=1` request's peers (add, remove, allowed IPs; the rest is not shown by the table)."""
        index = {key: i for i, key in enumerate(self.keys)}
        for chunk in request.split(b"public_key=")[1:]:
            lines = chunk.decode().splitlines()
            key = bytes.fromhex(lines[0])
            i = index.get(key)
            if "remove=true" in lines:
                if i is not None:
                    self.removed.add(i)
                    self.chunks[i] = b""
                continue
            ips = "".join(f"{line}\n" for line in lines if line.startswith("allowed_ip="))
            if i is None:
                i = len(self.keys)
                self.keys.append(key)
                self.fields.append([0, 0, 0])
                self.static.append((b"", b""))
                self.chunks.append(b"")
                self.names[base64.b64encode(key).decode()] = ""
            self.removed.discard(i)
            head = f"public_key={key.hex()}\npreshared_key={'0' * 64}\nprotocol_version=1\n".encode()
            self.static[i] = (head, f"persistent_keepalive_interval=0\n{ips}".encode())
            self.chunks[i] = self._render(i)


class ChangingUapi(SyntheticUapi):
    """The real UAPI backend (its request encoding included) on a ChangingSource."""

    source: ChangingSource

    def _transact(self, ifname: str, request: bytes, doing: str) -> bytes:
        if request.startswith(b"set=1\n"):
            self.source.set(request)
            return b"errno=0\n\n"
        return self.source.answer()


@dataclass
class Frames:
    """perf_counter() of every frame the app drew whose screen showed what `showing` asks for at that moment."""

    showing: Callable[[], bool] = lambda: False
    seen: list[float] = field(default_factory=list)


@contextlib.contextmanager
def recorded() -> Iterator[Frames]:
    """Time the frames (rendered to terminal bytes, as uiharness.probed does) that show what the current step waits
    for: checked when the frame is drawn, so that a frame is never credited with a result that came after it."""
    from textual.app import App

    frames = Frames()
    with probed():
        display = App._display

        def on_display(self: App[Any], screen: Any, renderable: Any) -> None:
            display(self, screen, renderable)
            if renderable is not None and frames.showing():
                frames.seen.append(time.perf_counter())

        App._display = on_display  # type: ignore[method-assign]
        try:
            yield frames
        finally:
            App._display = display  # type: ignore[method-assign]


@dataclass
class GcClock:
    """When the garbage collector ran (in any thread: it holds the GIL), as perf_counter() intervals."""

    passes: list[tuple[float, float]] = field(default_factory=list)
    began: float = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self.began = time.perf_counter()
        else:
            self.passes.append((self.began, time.perf_counter()))

    def within(self, start: float, stop: float) -> float:
        """Seconds of collection between `start` and `stop`."""
        return sum(max(0.0, min(stop, b) - max(start, a)) for a, b in self.passes)


@contextlib.contextmanager
def gc_timed() -> Iterator[GcClock]:
    clock = GcClock()
    gc.callbacks.append(clock)
    try:
        yield clock
    finally:
        gc.callbacks.remove(clock)


@dataclass
class Run:
    app: Any
    pilot: Any
    clock: Clock
    frames: Frames
    conf: Path
    source: ChangingSource
    collector: GcClock
    gc_seconds: list[float] = field(default_factory=list)
    """Per step, in order: the collector's share of it."""

    def live(self) -> int:
        """Peers on the interface now."""
        return len(self.source.keys) - len(self.source.removed)

    async def until(self, ready: Callable[[], object]) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while not ready():
            if self.app.changes.failure is not None:
                raise RuntimeError(f"the change failed: {self.app.changes.failure!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out on screen {type(self.app.screen).__name__}")
            # Not pilot.pause(delay): it forces a frame each time, and frames come on the app's own timer here.
            await asyncio.sleep(0.005)
        await self.pilot.pause()

    async def step(self, key: str, screen: str, ready: Callable[[], bool] | None = None) -> float:
        """Seconds from pressing `key` to the first frame showing `screen` (once `ready()` holds, if given)."""
        app = self.app
        self.frames.seen.clear()
        self.frames.showing = lambda: type(app.screen).__name__ == screen and (ready is None or ready())
        del self.collector.passes[:]
        started = time.perf_counter()
        await self.pilot.press(key)
        await self.until(lambda: self.frames.seen)
        self.frames.showing = lambda: False
        shown = self.frames.seen[0]
        self.gc_seconds.append(self.collector.within(started, shown))
        return shown - started

    def poll(self) -> None:
        self.clock.tick(1.0)
        self.app.poll_now()

    def failure(self) -> None:
        result = self.app.changes.last_result
        if self.app.changes.failure is not None or result is None or not result.ok:
            raise RuntimeError(f"the change failed: {self.app.changes.failure or result}")


@contextlib.asynccontextmanager
async def running(n: int, size: tuple[int, int]) -> AsyncIterator[Run]:
    from textual.widgets import Input

    from wgtui.ui.app import AppOptions, WgtuiApp

    clock = Clock()
    source = ChangingSource(n)
    with tempfile.TemporaryDirectory(prefix="wgtui-bench-") as tmp, recorded() as frames, gc_timed() as collector, \
            interactive_gc():
        directory = Path(tmp)
        directory.chmod(0o700)
        conf = directory / f"{IFNAME}.conf"
        conf.write_text(source.config())
        conf.chmod(0o600)
        app = WgtuiApp(ChangingUapi(source, IFNAME),
                       AppOptions(autostart=False, clock=clock, config_dir=directory, interfaces=[IFNAME]))
        try:
            async with app.run_test(size=size, notifications=True) as pilot:
                run = Run(app, pilot, clock, frames, conf, source, collector)
                run.poll()
                await pilot.pause()
                if len(app.dashboard.table.model) != n:
                    raise RuntimeError(f"the table holds {len(app.dashboard.table.model)} rows, not {n}")
                app.dashboard.query_one("#filter", Input).cursor_blink = False
                yield run
        finally:
            clean_heap()


async def add(run: Run, name: str) -> tuple[float, float, float]:
    """(a → form, enter → preview, y → applied) seconds for one new peer."""
    live = run.live()
    opened = await run.step("a", "PeerForm")
    await run.pilot.press(*name)
    preview = await run.step("enter", "DiffPreview")
    before = run.app.changes.last_result
    applied = await run.step("y", "ClientConfigScreen", lambda: run.app.changes.last_result is not before)
    run.failure()
    if f"# friendly_name = {name}\n" not in run.conf.read_text():
        raise RuntimeError(f"{name} is not in the file after the apply")
    if run.live() != live + 1:
        raise RuntimeError(f"{name} is not on the interface after the apply")
    await run.pilot.press("escape")
    await run.until(lambda: type(run.app.screen).__name__ == "DashboardScreen")
    return opened, preview, applied


def toasts(app: Any) -> list[Any]:
    """The notifications whose toast is on screen now."""
    from textual.widgets._toast import Toast

    return [toast._notification for toast in app.screen.query(Toast)]


async def remove(run: Run) -> tuple[float, float, float]:
    """(d → confirm, y → preview, y → applied: the "Applied" toast) seconds for the highlighted peer."""
    app = run.app
    key = app.dashboard.table.cursor_key
    live = run.live()
    old = toasts(app)  # the add's toasts may still be up
    opened = await run.step("d", "ConfirmScreen")
    preview = await run.step("y", "DiffPreview")
    before = app.changes.last_result
    applied = await run.step("y", "DashboardScreen", lambda: app.changes.last_result is not before and any(
        n.title == "Applied" and all(n is not o for o in old) for n in toasts(app)))
    run.failure()
    if f"PublicKey = {key}\n" in run.conf.read_text():
        raise RuntimeError(f"{key} is still in the file after the apply")
    if run.live() != live - 1:
        raise RuntimeError(f"{key} is still on the interface after the apply")
    return opened, preview, applied


Samples = dict[str, list[tuple[float, float]]]
"""Per step: (seconds, of which the garbage collector) of each repeat."""


async def measure(n: int, repeat: int, size: tuple[int, int], read_s: float = READ_S) -> Samples:
    out: Samples = {}
    async with running(n, size) as run:
        for i in range(repeat + 1):
            await steps(run, out, "add", add(run, f"bench-{i}"))
            if i == 0:  # the session's first form parsed the file: a figure of its own
                out[FIRST_OPEN] = [out["add: open"].pop()]
            run.poll()
            await run.pilot.pause()
            await asyncio.sleep(read_s)
        for _ in range(repeat):
            await steps(run, out, "remove", remove(run))
            run.poll()  # the removed row leaves the table: the next `d` is on another peer
            await run.pilot.pause()
            await asyncio.sleep(read_s)
    return out


async def steps(run: Run, out: Samples, change: str, flow: Awaitable[tuple[float, float, float]]) -> None:
    del run.gc_seconds[:]
    for step, seconds, collected in zip(("open", "preview", "apply"), await flow, run.gc_seconds, strict=True):
        out.setdefault(f"{change}: {step}", []).append((seconds, collected))


FIRST_OPEN = "add: first open"
STEPS = {
    FIRST_OPEN: "add: the session's first `a` → the form on screen (the file parsed: the monitor keeps no document "
                "until a change is planned, 9 MB at 10,000 peers)",
    "add: open": "add: `a` → the form on screen (the file read, addresses proposed)",
    "add: preview": "add: enter in the form (name typed) → the diff preview on screen",
    "add: apply": "add: `y` in the preview → applied (file and interface), the client config on screen",
    "remove: open": "remove: `d` → the confirm dialog on screen (the file read)",
    "remove: preview": "remove: `y` in the confirm dialog → the diff preview on screen",
    "remove: apply": "remove: `y` in the preview → applied (file and interface), the toast on screen",
}
"""Every step is a wait: each gets the target (at 10,000 peers; other sizes are context)."""


def run(sizes: tuple[int, ...] = (1_000, 10_000), repeat: int = 3, size: tuple[int, int] = (120, 40),
        read_s: float = READ_S) -> list[Result]:
    results = []
    for n in sizes:
        samples = asyncio.run(measure(n, repeat, size, read_s))
        for step, label in STEPS.items():
            times = [t for t, _ in samples[step]]
            collected = max(samples[step], key=lambda sample: sample[1])
            median = statistics.median(times)
            target = n >= 10_000
            results.append(Result(
                BENCH, f"{label}, {n:,} peers", median, "s", f"< {TARGET_S:g} s" if target else "",
                median < TARGET_S if target else None,
                (f"median of {len(times)} (best {min(times):.3f} s, worst {max(times):.3f} s)" if len(times) > 1
                 else "one sample") + "; wall time from the key "
                "to the first frame showing it, in-process (no process start); garbage collector: up to "
                f"{collected[1]:.3f} s of a {collected[0]:.3f} s sample"))
    return results


if __name__ == "__main__":
    main_for(run)
