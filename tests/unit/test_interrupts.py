"""Signals inside a critical section wait for it; outside one they stop wgtui at once."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from wgtui import interrupts
from wgtui.interrupts import Interrupted


@pytest.fixture(autouse=True)
def installed() -> Iterator[None]:
    interrupts.take()
    interrupts.install()
    try:
        yield
    finally:
        interrupts.uninstall()
        interrupts.take()


@pytest.mark.parametrize("sig", interrupts.SIGNALS)
def test_a_signal_inside_a_critical_section_waits(sig: signal.Signals) -> None:
    done = []
    with interrupts.held():
        os.kill(os.getpid(), sig)
        done.append("finished")  # reached: the signal did not cut the section short
    assert done == ["finished"] and interrupts.pending() == sig
    assert interrupts.take() == sig and interrupts.pending() is None


@pytest.mark.parametrize("sig", interrupts.SIGNALS)
def test_a_signal_outside_stops_at_once_with_its_exit_code(sig: signal.Signals) -> None:
    with pytest.raises(Interrupted) as stopped:
        os.kill(os.getpid(), sig)
        signal.sigtimedwait([], 0)  # give the handler a bytecode boundary
    assert stopped.value.signum == sig and stopped.value.exit_code == 128 + sig


def test_a_section_in_another_thread_holds_signals_for_the_main_thread() -> None:
    """The dashboard applies changes in a worker thread; handlers run in the main thread."""
    inside, release = threading.Event(), threading.Event()

    def worker() -> None:
        with interrupts.held():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    os.kill(os.getpid(), signal.SIGHUP)
    assert not interrupts.wait_idle(0.05)  # the section is still running
    release.set()
    assert interrupts.wait_idle(5)
    t.join()
    assert interrupts.take() == signal.SIGHUP


def test_the_first_signal_wins_and_an_action_replaces_the_exception() -> None:
    seen: list[int] = []
    interrupts.install(seen.append)
    with interrupts.held():
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
    assert interrupts.take() == signal.SIGTERM and seen == []
    os.kill(os.getpid(), signal.SIGHUP)
    signal.sigtimedwait([], 0)
    assert seen == [signal.SIGHUP]


def test_after_change_hands_a_waiting_signal_over_when_the_last_section_ends() -> None:
    outside: list[int] = []
    after: list[tuple[int, str]] = []
    interrupts.install(outside.append, after_change=lambda s: after.append((s, threading.current_thread().name)))

    def worker() -> None:
        with interrupts.held(), interrupts.held():  # nested: only the outer end delivers
            os.kill(os.getpid(), signal.SIGTERM)
            deadline = time.monotonic() + 5
            while interrupts.pending() is None and time.monotonic() < deadline:
                time.sleep(0.001)  # the main thread's handler records it (the section is still running)
            assert after == []

    t = threading.Thread(target=worker, name="change")
    t.start()
    t.join()
    assert after == [(signal.SIGTERM, "change")] and outside == [] and interrupts.pending() is None
