"""SVG snapshots (80x24) of the change screens: add form, diff preview, client config, rotation sessions.

Keys are generated deterministically and the demo's config lives at a relative path, so that every run draws
the same picture. A failing snapshot is a question: open snapshot_report.html and look before updating.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.fakes import Clock
from wgtui import keys
from wgtui.backends.demo import DemoBackend
from wgtui.changes.rotation import Step
from wgtui.ui.app import AppOptions, WgtuiApp
from wgtui.ui.dialogs.rotation_session import RotationSessionScreen
from wgtui.ui.screens.client_config import ClientConfigScreen
from wgtui.ui.screens.confirm import ConfirmScreen
from wgtui.ui.screens.diff_preview import DiffPreview
from wgtui.ui.screens.peer_form import PeerForm

SnapCompare = Callable[..., bool]
SIZE = (80, 24)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[WgtuiApp, Clock]:
    counter = itertools.count(1)

    def keypair() -> tuple[str, str]:
        private = keys.b64(bytes([next(counter)]) * 32)
        return private, keys.public_key(private)

    monkeypatch.setattr(keys, "keypair", keypair)
    monkeypatch.chdir(tmp_path)  # the diff and the save path show "wg/wg0.conf", not a random tmp path
    Path("wg").mkdir()
    clock = Clock()
    backend = DemoBackend(40, seed=7, clock=clock, config_dir=Path("wg"))
    return WgtuiApp(backend, AppOptions(autostart=False, clock=clock, config_dir=Path("wg"))), clock


async def until(pilot: Pilot[None], ready: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.01)


def steps(app: WgtuiApp, clock: Clock, *script: str | type[Any]) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Poll once, then press keys (strings) and wait for screens (classes), in order."""

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


def test_add_form(snap_compare: SnapCompare, app: tuple[WgtuiApp, Clock]) -> None:
    wgtui, clock = app
    assert snap_compare(wgtui, terminal_size=SIZE,
                        run_before=steps(wgtui, clock, "a", PeerForm, *"dora-laptop", "tab", "tab", *"10.8.0.300"))


def test_diff_preview(snap_compare: SnapCompare, app: tuple[WgtuiApp, Clock]) -> None:
    wgtui, clock = app
    assert snap_compare(wgtui, terminal_size=SIZE,
                        run_before=steps(wgtui, clock, "a", PeerForm, *"dora", "enter", DiffPreview, "end"))


def test_client_config(snap_compare: SnapCompare, app: tuple[WgtuiApp, Clock]) -> None:
    wgtui, clock = app
    prepare = steps(wgtui, clock, "a", PeerForm, *"dora", "enter", DiffPreview, "y", ClientConfigScreen)

    async def run_before(pilot: Pilot[None]) -> None:
        await prepare(pilot)
        wgtui.clear_notifications()  # the "Applied" toast would cover the code

    assert snap_compare(wgtui, terminal_size=SIZE, run_before=run_before)


def test_rotation_session(snap_compare: SnapCompare, app: tuple[WgtuiApp, Clock]) -> None:
    wgtui, clock = app
    prepare = steps(wgtui, clock, "r", "enter", DiffPreview, "y", ClientConfigScreen, "escape",
                    RotationSessionScreen)

    async def run_before(pilot: Pilot[None]) -> None:
        await prepare(pilot)
        session = wgtui.screen
        assert isinstance(session, RotationSessionScreen)
        await until(pilot, lambda: session.rotations[0].step is Step.WAITING)
        clock.tick(3)
        await pilot.pause(0.3)
        wgtui.clear_notifications()

    assert snap_compare(wgtui, terminal_size=SIZE, run_before=run_before)


def test_rotation_session_of_three_peers_one_cancelled(snap_compare: SnapCompare,
                                                       app: tuple[WgtuiApp, Clock]) -> None:
    """Marks, one session for the three, the second cancelled and the others done: every step from the core."""
    wgtui, clock = app
    prepare = steps(wgtui, clock, "space", "space", "space", "r", "enter", DiffPreview, "y", ClientConfigScreen,
                    "escape", RotationSessionScreen, "down", "x", ConfirmScreen, "y")

    async def run_before(pilot: Pilot[None]) -> None:
        await prepare(pilot)
        session = wgtui.screen
        assert isinstance(session, RotationSessionScreen)
        await until(pilot, lambda: session.rotations[1].step is Step.CANCELLED)
        clock.tick(6)
        await until(pilot, lambda: all(r.finished for r in session.rotations))
        await pilot.pause(0.3)
        wgtui.clear_notifications()

    assert snap_compare(wgtui, terminal_size=SIZE, run_before=run_before)
