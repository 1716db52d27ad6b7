"""Provides the in-process harness of the UI benchmarks: the real app on a synthetic UAPI interface, headless, with
the UI thread's work per poll measured (apply_update, layout, compositor and the terminal bytes it would write)."""

from __future__ import annotations

import contextlib
import gc
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import Clock, SyntheticUapi, UapiSource
from wgtui.conf import lines
from wgtui.monitor import Update

IFNAME = "wgbench0"


@dataclass
class Probe:
    """Filled in by the patched Textual methods while a benchmark runs."""

    render_seconds: float = 0.0
    """Wall time inside Screen._on_timer_update: layout, compositor, render_line of dirty lines, the output text
    and the screen diff the real driver applies to it."""
    frames: int = 0
    bytes: int = 0
    """What Textual rendered, before the screen diff."""
    sent: int = 0
    """What the terminal would get (after the screen diff)."""
    diff_seconds: float = 0.0
    app_diffs: bool = True
    """Whether the app under test writes through the screen diff itself (False when measuring older code)."""
    last_frame: float = 0.0
    """perf_counter() when the latest frame was turned into terminal output."""
    frame_times: list[float] = field(default_factory=list)
    frame_rows: list[frozenset[int]] = field(default_factory=list)
    """Screen rows whose cells each frame changed (what a user could see change)."""


@contextlib.contextmanager
def probed() -> Iterator[Probe]:
    """Time the screen updates and render each frame to the escape sequences a terminal would get.

    Headless Textual skips that last step; doing it here keeps its cost (and the bytes) in the figures.
    """
    from textual.app import App
    from textual.screen import Screen

    from wgtui.ui.app import WgtuiApp
    from wgtui.ui.screen_diff import ScreenDiff

    probe = Probe(app_diffs="get_driver_class" in vars(WgtuiApp))
    screen_diff = ScreenDiff()
    timer_update = Screen._on_timer_update
    display = App._display

    def on_timer_update(self: Screen[Any]) -> None:
        started = time.perf_counter()
        try:
            timer_update(self)
        finally:
            probe.render_seconds += time.perf_counter() - started

    def on_display(self: App[Any], screen: Screen[Any], renderable: Any) -> None:
        display(self, screen, renderable)
        if renderable is not None and hasattr(renderable, "render_segments"):
            text = renderable.render_segments(self.console)
            probe.bytes += len(text.encode())
            started = time.perf_counter()
            screen_diff.resize(*self.size)
            probe.sent += len(screen_diff.feed(text).encode())
            probe.diff_seconds += time.perf_counter() - started
            probe.frames += 1
            probe.last_frame = time.perf_counter()
            probe.frame_times.append(probe.last_frame)
            probe.frame_rows.append(frozenset(screen_diff.changed_rows))

    Screen._on_timer_update = on_timer_update  # type: ignore[method-assign]
    App._display = on_display  # type: ignore[method-assign]
    try:
        yield probe
    finally:
        Screen._on_timer_update = timer_update  # type: ignore[method-assign]
        App._display = display  # type: ignore[method-assign]


def clean_heap() -> None:
    """After an app: the monitor froze its objects out of the garbage collector (gc.freeze); thawed and collected,
    the next app of this process (run_all runs several) starts from a clean heap."""
    gc.unfreeze()
    lines.thawed()
    gc.collect()


@contextlib.contextmanager
def interactive_gc() -> Iterator[None]:
    """The collector set as `wgtui` sets it for the dashboard and the fleet view (gcpolicy), and put back after:
    run_all runs several benchmarks in one process."""
    from wgtui import gcpolicy

    before, may_freeze = gc.get_threshold(), lines._may_freeze
    gcpolicy.for_interactive()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        lines._may_freeze = may_freeze


@dataclass
class Bench:
    """A running app on `n` synthetic peers; `share` of them change at each poll."""

    app: Any
    pilot: Any
    clock: Clock
    source: UapiSource
    probe: Probe
    share: float
    started: float
    first_frame: float = 0.0
    """Seconds from creating the app to the first frame that shows the peers (includes the first poll)."""

    def poll(self) -> Update:
        """Advance one second and poll (the monitor thread's work: not counted as UI time)."""
        self.clock.tick(1.0)
        self.source.tick(self.clock.now, self.share)
        update: Update = self.app.monitor.poll_once()
        return update

    async def apply(self, update: Update) -> tuple[float, float, float]:
        """(UI-thread CPU seconds, apply_update wall seconds, render wall seconds) for one update, up to the frame."""
        probe = self.probe
        render_before, diff_before = probe.render_seconds, probe.diff_seconds
        cpu = time.thread_time()
        started = time.perf_counter()
        self.app.dashboard.apply_update(update)
        applied = time.perf_counter() - started
        await self.pilot.pause()
        cpu = time.thread_time() - cpu
        render = probe.render_seconds - render_before
        if not probe.app_diffs:
            # The probe diffs every frame (to count bytes and changed rows); an app without the screen diff does not.
            diff = probe.diff_seconds - diff_before
            cpu, render = cpu - diff, render - diff
        return cpu, applied, render


@contextlib.asynccontextmanager
async def running(n: int, share: float = 0.05, size: tuple[int, int] = (120, 40), seed: int = 1,
                  source: UapiSource | None = None) -> AsyncIterator[Bench]:
    """The app on `n` peers with names from a config file, after its first poll is on screen."""
    from wgtui.ui.app import AppOptions, WgtuiApp

    clock = Clock()
    source = source or UapiSource(n, seed=seed, now=clock.now)
    with tempfile.TemporaryDirectory(prefix="wgtui-bench-") as tmp, probed() as probe, interactive_gc():
        conf = Path(tmp) / f"{IFNAME}.conf"
        conf.write_text(source.config())
        conf.chmod(0o600)
        started = time.perf_counter()
        app = WgtuiApp(SyntheticUapi(source, IFNAME),
                       AppOptions(autostart=False, clock=clock, config_dir=Path(tmp), interfaces=[IFNAME]))
        try:
            async with app.run_test(size=size) as pilot:
                bench = Bench(app, pilot, clock, source, probe, share, started)
                app.poll_now()
                await pilot.pause()
                bench.first_frame = probe.last_frame - started
                if len(app.dashboard.table.model) != n:
                    raise RuntimeError(f"the table holds {len(app.dashboard.table.model)} rows, not {n}")
                yield bench
        finally:
            clean_heap()
