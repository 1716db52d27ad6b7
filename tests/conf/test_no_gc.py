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
