"""Proves no_gc leaves the collector alone after a small parse: asking gc.get_freeze_count() walks every frozen
object, and thousands of small parses (disabled blocks) once did that each (55 s for 10,000 disabled peers)."""

from __future__ import annotations

import gc

import pytest

from wgtui.conf import lines


def test_a_small_parse_never_asks_for_the_frozen_count(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    monkeypatch.setattr(gc, "get_freeze_count", lambda: asked.append(1) or 0)
    for _ in range(100):
        with lines.no_gc():
            lines.parse_lines([("PublicKey = x", "\n"), ("AllowedIPs = 10.0.0.2/32", "\n")])
    assert asked == [] and gc.isenabled()


def test_a_large_parse_still_moves_its_objects_out_of_the_young_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    monkeypatch.setattr(gc, "get_freeze_count", lambda: asked.append(1) or 0)
    with lines.no_gc():
        kept = [[i] for i in range(lines._SPLICE_AFTER + 1_000)]
    assert asked == [1] and gc.isenabled() and gc.get_count()[0] < len(kept)


def test_where_freezing_is_left_to_the_process_only_a_very_large_parse_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lines, "_may_freeze", False)  # as the dashboard and the agent set it
    monkeypatch.setattr(lines, "_FREEZE_AFTER", 1_000)
    monkeypatch.setattr(lines, "_ASK_AFTER", 5_000)
    lines.freeze_asked(clear=True)
    frozen = gc.get_freeze_count()
    gc.collect()
    with lines.no_gc():
        kept = [[i] for i in range(2_000)]  # large: it would have been frozen
    assert not lines.freeze_asked() and gc.get_freeze_count() == frozen
    with lines.no_gc():
        kept += [[i] for i in range(6_000)]  # very large: the process is asked
    assert lines.freeze_asked(clear=True) and not lines.freeze_asked() and gc.get_freeze_count() == frozen
    assert gc.isenabled() and len(kept) == 8_000


def test_a_frozen_set_is_asked_about_once_until_the_caller_thaws_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # The dashboard's monitor froze its start-up objects: each ask walks them all (17 ms at 10,000 peers).
    asked: list[int] = []
    monkeypatch.setattr(gc, "get_freeze_count", lambda: asked.append(1) or 150_000)
    lines.thawed()
    kept = []
    for _ in range(3):
        with lines.no_gc():
            kept += [[i] for i in range(lines._SPLICE_AFTER + 1_000)]
    assert asked == [1] and gc.isenabled()
    lines.thawed()  # a harness thawed everything: asked again
    with lines.no_gc():
        kept += [[i] for i in range(lines._SPLICE_AFTER + 1_000)]
    assert asked == [1, 1]
