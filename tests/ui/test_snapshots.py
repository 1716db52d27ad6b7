"""SVG snapshots of the main screens at 80x24, 120x40 and 200x50 on the deterministic demo backend.

A failing snapshot is a question: open snapshot_report.html and look at the difference before updating.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.helpers import demo_app

SnapCompare = Callable[..., bool]


def prepared(tmp_path: Path, polls: int = 90) -> tuple[Any, Callable[[Pilot[None]], Any]]:
    app, clock = demo_app(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        for _ in range(polls):
            app.poll_now()
            clock.tick()
        await pilot.pause()

    return app, run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)])
def test_dashboard(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    app, run_before = prepared(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_detail_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app, run_before = prepared(tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), press=["down", "enter"], run_before=run_before)


def test_help_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app, run_before = prepared(tmp_path, polls=2)
    assert snap_compare(app, terminal_size=(80, 24), press=["question_mark"], run_before=run_before)


def test_filtered_and_sorted_by_name(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app, run_before = prepared(tmp_path, polls=5)
    assert snap_compare(app, terminal_size=(80, 24), press=["s", "slash", "p", "h", "o", "enter"],
                        run_before=run_before)
