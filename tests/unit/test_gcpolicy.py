"""The collector settings of the interactive processes: raised for the dashboard (run the way `wgtui` runs it),
never lowered, and left alone by the one-shot commands."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from wgtui import cli, gcpolicy


@pytest.fixture(autouse=True)
def threshold_restored() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_first_threshold_is_raised_and_the_others_kept() -> None:
    gc.set_threshold(700, 7, 9)
    gcpolicy.for_interactive()
    assert gc.get_threshold() == (gcpolicy.INTERACTIVE_THRESHOLD, 7, 9)


def test_a_higher_threshold_is_never_lowered() -> None:
    gc.set_threshold(gcpolicy.INTERACTIVE_THRESHOLD * 3, 10, 10)
    gcpolicy.for_interactive()
    assert gc.get_threshold()[0] == gcpolicy.INTERACTIVE_THRESHOLD * 3


def test_the_dashboard_runs_with_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from wgtui.ui.app import WgtuiApp

    gc.set_threshold(700, 10, 10)
    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(WgtuiApp, "run", lambda self, *a, **k: seen.append(gc.get_threshold()))
    assert cli.main(["--demo", "3", "--config-dir", str(tmp_path)]) == 0
    assert seen == [(gcpolicy.INTERACTIVE_THRESHOLD, 10, 10)]


def test_a_one_shot_command_leaves_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gc.set_threshold(700, 10, 10)
    assert cli.main(["show", "--demo", "3", "--json"]) == 0
    capsys.readouterr()
    assert gc.get_threshold() == (700, 10, 10)
