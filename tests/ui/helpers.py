"""Provides deterministic app construction for UI tests (demo or fake backend, fixed clock, manual polls) and the
Pilot helpers the UI tests share: wait for a condition or a screen, read a widget, reach the demo backend."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static

from tests.fakes import Clock
from wgtui.backends.base import Backend
from wgtui.backends.demo import DemoBackend
from wgtui.ui.app import AppOptions, WgtuiApp
from wgtui.ui.dialogs.peer_form import PeerForm

S = TypeVar("S", bound=Screen[Any])


def demo_app(tmp_path: Path, peers: int = 40, **options: object) -> tuple[WgtuiApp, Clock]:
    clock = Clock()
    backend = DemoBackend(peers, seed=7, clock=clock, config_dir=tmp_path)
    return app_for(backend, clock, config_dir=tmp_path, **options), clock


def app_for(backend: Backend, clock: Clock, **options: object) -> WgtuiApp:
    opts = AppOptions(autostart=False, clock=clock, **options)  # type: ignore[arg-type]
    return WgtuiApp(backend, opts)


def screen_text(app: App[Any]) -> str:
    """The rendered screen as plain text, line by line (what a user would read)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, record=True, force_terminal=False, color_system=None,
                      file=io.StringIO())
    lines = app.screen._compositor.render_update(full=True)
    console.print(lines)
    return console.export_text()


async def until(pilot: Pilot[None], ready: Callable[[], object], timeout: float = 5.0) -> None:
    """Let the app run (workers, threads, messages) until `ready()` holds."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.01)


async def screen(pilot: Pilot[None], cls: type[S]) -> S:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, cls))
    await pilot.pause()
    assert isinstance(app.screen, cls)
    return app.screen


def body(widget: Static) -> str:
    return str(widget.render())


def demo(app: WgtuiApp) -> DemoBackend:
    inner = app.backend.inner
    assert isinstance(inner, DemoBackend)
    return inner


def started(tmp_path: Path, **options: object) -> tuple[WgtuiApp, Clock, Path]:
    app, clock = demo_app(tmp_path, **options)
    return app, clock, tmp_path / "wg0.conf"


async def fill(pilot: Pilot[None], form: PeerForm[Any], **values: str) -> None:
    """Set inputs directly (typing key by key costs ~80 ms a key under Pilot; one test types for real)."""
    for field, value in values.items():
        form.query_one(f"#{field}", Input).value = value
    await pilot.pause()


async def first_poll(app: WgtuiApp, pilot: Pilot[None]) -> None:
    app.poll_now()
    await pilot.pause()


def done(app: WgtuiApp) -> None:
    """No flow ended in an unexpected error, and none is still open."""
    assert app.changes.failure is None
    assert not app.changes.busy


def steps(app: WgtuiApp, clock: Clock, *script: str | type[Any]) -> Callable[[Pilot[None]], Awaitable[None]]:
    """For snapshots: poll twice, then press keys (strings) and wait for screens (classes), in order."""

    async def run(pilot: Pilot[None]) -> None:
        app.poll_now()
        clock.tick()
        app.poll_now()
        await pilot.pause()
        for step in script:
            if isinstance(step, str):
                await pilot.press(step)
            else:
                await until(pilot, lambda step=step: isinstance(app.screen, step))
        await pilot.pause()

    return run
