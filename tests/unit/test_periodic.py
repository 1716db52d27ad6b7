"""Periodic (the monitor's polls, the fleet's ticks): rounds come every interval or when woken, a failed round is
logged and the next one comes, and nothing is handed on after stop()."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from wgtui.periodic import Periodic


def until(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_rounds_come_when_woken_and_a_failed_round_does_not_stop_them(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    got: list[int] = []

    def work() -> int:
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("a bad read")
        return len(calls)

    ticker = Periodic("test-ticker", "test round", lambda: 3600.0, work, got.append)  # never by the interval here
    ticker.start()
    try:
        until(lambda: got == [1])
        ticker.wake()
        until(lambda: len(calls) == 2)
        ticker.wake()
        until(lambda: got == [1, 3])
    finally:
        ticker.stop()
    assert "test round failed" in caplog.text and "a bad read" in caplog.text
    assert not ticker.running


def test_the_interval_counts_from_the_start_of_the_round() -> None:
    starts: list[float] = []

    def work() -> None:
        starts.append(time.monotonic())
        time.sleep(0.05)

    ticker = Periodic("test-ticker", "test round", lambda: 0.2, work, lambda _: None)
    ticker.start()
    try:
        until(lambda: len(starts) >= 3)
    finally:
        ticker.stop()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 0.19 for gap in gaps)  # never sooner than the interval; a round's work is inside it


def test_a_result_in_hand_at_stop_is_not_delivered() -> None:
    release = threading.Event()
    entered = threading.Event()
    got: list[str] = []

    def work() -> str:
        entered.set()
        release.wait(10)
        return "late"

    ticker = Periodic("test-ticker", "test round", lambda: 3600.0, work, got.append)
    ticker.start()
    assert entered.wait(10)
    ticker.stop(wait=False)
    release.set()
    time.sleep(0.2)
    assert got == [] and ticker.stopping
