"""Drift marks and the sync flow on the demo backend: choose sides, preview, apply; nothing deleted by default."""

from __future__ import annotations

from pathlib import Path

from tests.ui.helpers import demo, done, first_poll, screen, screen_text, started, until
from wgtui.conf import Document
from wgtui.drift import Drift
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.sync import SyncScreen


async def test_sync_adopts_the_live_only_peer_and_brings_up_the_file_only_one(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await first_poll(app, pilot)
        rows = app.dashboard.models["wg0"].rows
        live_only = [k for k, r in rows.items() if r.drift == (Drift.RUNTIME_ONLY,)]
        file_only = [k for k, r in rows.items() if r.drift == (Drift.FILE_ONLY,)]
        assert len(live_only) == 1 and len(file_only) == 1
        assert "✕" in screen_text(app) or "+" in screen_text(app)
        await pilot.press("y")
        chooser = await screen(pilot, SyncScreen)
        assert set(chooser.sides) == {*live_only, *file_only}
        assert chooser.sides == {live_only[0]: "runtime", file_only[0]: "file"}  # the defaults delete nothing
        await pilot.press("enter")
        preview = await screen(pilot, DiffPreview)
        assert f"+PublicKey = {live_only[0]}" in preview.plan.diff
        assert not [ln for ln in preview.plan.diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
        await pilot.press("y")
        await until(pilot, lambda: app.changes.last_result is not None and not app.changes.busy)
        done(app)
        assert app.changes.last_result is not None and app.changes.last_result.ok
        assert Document.read(conf).find_peer(live_only[0]) is not None
        assert file_only[0] in demo(app).read("wg0").peers
        clock.tick()
        app.poll_now()
        await pilot.pause()
        assert not [r for r in app.dashboard.models["wg0"].rows.values() if r.drift]


async def test_choosing_the_files_side_for_a_live_only_peer_warns_of_its_removal(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    before = conf.read_bytes()
    async with app.run_test(size=(100, 30)) as pilot:
        await first_poll(app, pilot)
        await pilot.press("y")
        chooser = await screen(pilot, SyncScreen)
        await pilot.press("f")  # every peer: the file wins
        assert set(chooser.sides.values()) == {"file"}
        assert "it is REMOVED from the interface" in screen_text(app)
        await pilot.press("enter")
        preview = await screen(pilot, DiffPreview)
        assert any("REMOVED" in w for w in preview.plan.warnings) and preview.plan.diff == ""
        await pilot.press("n")
        await until(pilot, lambda: not app.changes.busy)
        done(app)
        assert len(demo(app).read("wg0").peers) == 40  # cancelled: nobody removed
    assert conf.read_bytes() == before
