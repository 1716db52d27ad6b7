"""Start-up pauses the cyclic garbage collector until the first poll is on screen, and only for a real run."""

from __future__ import annotations

import gc
from pathlib import Path

from tests.fakes import Clock
from tests.ui.helpers import until
from wgtui.backends.demo import DemoBackend
from wgtui.ui.app import AppOptions, WgtuiApp


async def test_the_collector_is_paused_until_the_first_poll_is_on_screen(tmp_path: Path) -> None:
    assert gc.isenabled()
    clock = Clock()
    backend = DemoBackend(5, clock=clock, config_dir=tmp_path)
    assert gc.isenabled()  # the demo pauses it only while it builds its peers
    app = WgtuiApp(backend, AppOptions(autostart=True, clock=clock, config_dir=tmp_path,
                                       remember=tmp_path / "view.json"))
    try:
        assert not gc.isenabled()
        async with app.run_test() as pilot:
            await until(pilot, lambda: len(app.dashboard.table.model) > 0)
            await until(pilot, gc.isenabled)
            assert app.dashboard.summaries["wg0"].total == 5
    finally:
        gc.enable()


async def test_a_driven_app_leaves_the_collector_alone(tmp_path: Path) -> None:
    clock = Clock()
    app = WgtuiApp(DemoBackend(5, clock=clock, config_dir=tmp_path),
                   AppOptions(autostart=False, clock=clock, config_dir=tmp_path))
    assert gc.isenabled()
    async with app.run_test():
        assert gc.isenabled()
