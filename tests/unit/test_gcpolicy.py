"""The collector settings of the interactive processes: raised for the dashboard (run the way `wgtui` runs it),
never lowered, and left alone by the one-shot commands."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from wgtui import cli, gcpolicy
from wgtui.conf import lines


@pytest.fixture(autouse=True)
def threshold_restored() -> Iterator[None]:
    # (for_interactive also clears lines._may_freeze for the rest of the process: tests/conftest.py puts it back)
    before, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*before)
    if enabled:
        gc.enable()  # the dashboard pauses the collector until its first poll is on screen, which never comes here


def test_the_first_threshold_is_raised_and_the_others_kept() -> None:
    gc.set_threshold(700, 7, 9)
    gcpolicy.for_interactive()
    assert gc.get_threshold() == (gcpolicy.INTERACTIVE_THRESHOLD, 7, 9)
    assert not lines._may_freeze  # and no document is frozen out of the collector (test_dismissed_screens_freed)


def test_a_higher_threshold_is_never_lowered() -> None:
    gc.set_threshold(gcpolicy.INTERACTIVE_THRESHOLD * 3, 10, 10)
    gcpolicy.for_interactive()
    assert gc.get_threshold()[0] == gcpolicy.INTERACTIVE_THRESHOLD * 3


def test_the_dashboard_runs_with_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from wgtui.ui.app import WgtuiApp

    gc.set_threshold(700, 10, 10)
    seen: list[tuple[int, int, int]] = []

    def run(self: WgtuiApp, *_args: object, **_kwargs: object) -> None:
        seen.append(gc.get_threshold())
        self.monitor.stop()  # started with the app: nothing will stop it here

    monkeypatch.setattr(WgtuiApp, "run", run)
    assert cli.main(["--demo", "3", "--config-dir", str(tmp_path)]) == 0
    assert seen == [(gcpolicy.INTERACTIVE_THRESHOLD, 10, 10)]


def test_a_one_shot_command_leaves_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gc.set_threshold(700, 10, 10)
    assert cli.main(["show", "--demo", "3", "--json"]) == 0
    capsys.readouterr()
    assert gc.get_threshold() == (700, 10, 10)


def test_the_agent_leaves_documents_to_the_collector(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    base = ["--config-dir", str(etc), "--state-dir", str(tmp_path / "state")]
    assert lines._may_freeze
    cli.main([*base, "agent", "--once", "--textfile", str(tmp_path / "missing")])  # refused: it ran all the same
    capsys.readouterr()
    assert not lines._may_freeze


def test_after_a_flow_it_collects_once_not_twice_where_a_freeze_is_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    passes: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: passes.append(generation) or 0)
    lines.freeze_asked(clear=True)
    gcpolicy.collect_after_flow()
    assert passes == [2]
    lines._freeze_asked = True  # a very large document was made: the quiet freeze will collect, then freeze
    gcpolicy.collect_after_flow()
    assert passes == [2] and lines.freeze_asked()
    assert gcpolicy.freeze_when_asked() and passes == [2, 2]
    gc.unfreeze()
