"""SVG snapshots (80x24) of the change screens: add form, diff preview, client config, rotation sessions.

Keys are generated deterministically and the demo's config lives at a relative path (the `app` fixture in conftest),
so that every run draws the same picture. A failing snapshot is a question: open snapshot_report.html and look
before updating.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from tests.fakes import Clock
from tests.ui.helpers import steps, until
from wgtui.changes.rotation import Step
from wgtui.ui.app import WgtuiApp
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.confirm import ConfirmScreen
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.dialogs.rotation_session import RotationSessionScreen

SnapCompare = Callable[..., bool]
SIZE = (80, 24)


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
