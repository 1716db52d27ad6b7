"""Screens of a finished change are freed in the dashboard even when the file is large enough for a parse to
freeze its objects out of the collector (from 15,000 peers: made here at a small size by lowering the mark): a
freeze in the dashboard would freeze them too, and they were never freed (issue 11, round four). The dashboard
freezes instead once it is quiet, after collecting: the dashboard alone on screen, no notification."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.screen import Screen

from tests.fakes import Clock
from tests.ui.helpers import first_poll, screen, started, until
from wgtui import gcpolicy
from wgtui.backends.demo import DemoBackend
from wgtui.conf import lines
from wgtui.ui.app import AppOptions, WgtuiApp
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.screens.dashboard import DashboardScreen


@pytest.fixture
def collector_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(lines, "_FREEZE_AFTER", -1)  # every parse (and plan) of the demo's file counts as a large one
    monkeypatch.setattr(lines, "_ASK_AFTER", -1)  # and as a very large one
    monkeypatch.setattr(lines, "_may_freeze", True)
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()  # this test process must not keep what the flows froze
    gc.set_threshold(*threshold)


async def add_one(tmp_path: Path, *, quiet: bool = False, settle: bool = False) -> list[weakref.ref[Screen[object]]]:
    """An add through the form, the preview and the client config, back on the dashboard; weak references to the
    three screens it showed that are still alive. `quiet`: then the notifications go and the dashboard is asked to
    freeze, as after a poll. `settle`: no collection by the test, the dashboard's own after the flow ended."""
    app, _clock, _conf = started(tmp_path)
    made: list[weakref.ref[Screen[object]]] = []
    async with app.run_test(size=(80, 24), notifications=quiet) as pilot:
        await first_poll(app, pilot)
        await pilot.press("a")
        made.append(weakref.ref(await screen(pilot, PeerForm)))
        await pilot.press(*"carol", "enter")
        made.append(weakref.ref(await screen(pilot, DiffPreview)))
        await pilot.press("y")
        made.append(weakref.ref(await screen(pilot, ClientConfigScreen)))
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        app.poll_now()  # the monitor reads the changed file again: one more parse
        await pilot.pause()
        if quiet:
            await until(pilot, lambda: app.screen.query("Toast"))
            assert lines.freeze_asked() and not app.freeze_when_quiet()  # the "Applied" toast is still up
            app.clear_notifications()
            await until(pilot, lambda: not app.screen.query("Toast"))
            frozen = gc.get_freeze_count()
            assert app.freeze_when_quiet() and gc.get_freeze_count() > frozen and not lines.freeze_asked()
        if settle:
            await pilot.pause(gcpolicy.SETTLE_S + 0.3)
        else:
            gc.collect()
        return [ref for ref in made if ref() is not None]


async def test_the_dashboard_frees_the_screens_of_a_change(tmp_path: Path, collector_restored: None) -> None:
    gcpolicy.for_interactive()  # as `wgtui` starts the dashboard
    assert not lines._may_freeze
    frozen = gc.get_freeze_count()
    assert await add_one(tmp_path) == []
    assert gc.get_freeze_count() == frozen


async def test_once_quiet_it_freezes_what_lives_on_and_still_frees_them(tmp_path: Path,
                                                                       collector_restored: None) -> None:
    gcpolicy.for_interactive()
    lines.freeze_asked(clear=True)
    assert await add_one(tmp_path, quiet=True) == []


async def test_without_it_they_stay_frozen(tmp_path: Path, collector_restored: None) -> None:
    # What a freeze in the dashboard did: the screens alive at a parse are frozen, and outlive their flow.
    assert [type(ref()).__name__ for ref in await add_one(tmp_path)]


async def test_a_finished_change_is_collected_by_the_dashboard_once_it_settles(tmp_path: Path,
                                                                               collector_restored: None,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The collector's own passes never come here (a threshold no test reaches): what frees the dialogs is the
    # dashboard's collection after the flow. The file is not a very large one here (a freeze would collect).
    monkeypatch.setattr(lines, "_ASK_AFTER", 10**9)
    gcpolicy.for_interactive()
    gc.set_threshold(10**9)
    assert await add_one(tmp_path, settle=True) == []


async def test_without_the_settling_collection_the_dialogs_wait(tmp_path: Path, collector_restored: None,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lines, "_ASK_AFTER", 10**9)
    gcpolicy.for_interactive()
    gc.set_threshold(10**9)
    monkeypatch.setattr(gcpolicy, "collect_after_flow", lambda: 0)
    assert [type(ref()).__name__ for ref in await add_one(tmp_path, settle=True)]


async def test_the_running_dashboard_freezes_after_a_poll_once_quiet(tmp_path: Path,
                                                                    collector_restored: None) -> None:
    gcpolicy.for_interactive()
    clock = Clock()
    app = WgtuiApp(DemoBackend(5, clock=clock, config_dir=tmp_path),
                   AppOptions(autostart=True, interval=0.1, clock=clock, config_dir=tmp_path))
    try:
        async with app.run_test(notifications=True) as pilot:
            await until(pilot, lambda: len(app.dashboard.table.model) > 0)
            frozen = gc.get_freeze_count()
            app.notify("a toast", timeout=60)
            await until(pilot, lambda: app.screen.query("Toast"))
            lines._freeze_asked = True  # a very large file was parsed (the monitor's thread asks after its polls)
            await pilot.pause(0.5)
            assert lines.freeze_asked() and gc.get_freeze_count() == frozen  # not while the toast is up
            app.clear_notifications()
            await until(pilot, lambda: not lines.freeze_asked())
            assert gc.get_freeze_count() > frozen
    finally:
        gc.enable()  # the collector waits for the first poll on screen; a failed start must not leave it off
