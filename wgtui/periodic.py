"""Provides Periodic: a daemon thread that does one piece of work every interval, can be woken early and stopped."""

# The monitor's polls and the fleet's ticks: the interval is counted from the start of the work (a slow poll is not
# followed by a full interval of nothing), a failed round is logged and the next one comes, and nothing is handed on
# once stop() was called.

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Periodic(Generic[T]):
    """`work()` every `interval()` seconds in a thread named `name`, each result handed to `deliver` (from that
    thread). A `work()` that raises is logged as "`what` failed" and the next round comes as usual."""

    def __init__(self, name: str, what: str, interval: Callable[[], float], work: Callable[[], T],
                 deliver: Callable[[T], None]) -> None:
        self.name = name
        self.what = what
        self.interval = interval
        self.work = work
        self.deliver = deliver
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                result = self.work()
            except Exception:  # keep going: one bad round must not freeze what shows the results
                log.exception("%s failed", self.what)
            else:
                if self._stop.is_set():
                    break
                self.deliver(result)
            self._wake.wait(max(0.0, self.interval() - (time.monotonic() - started)))
            self._wake.clear()

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def stopping(self) -> bool:
        """stop() was called: a result in hand is not wanted any more."""
        return self._stop.is_set()

    def wake(self) -> None:
        """The next round now instead of at the next interval."""
        self._wake.set()

    def stop(self, *, wait: bool = True) -> None:
        """No round after this one; `wait`: wait (up to 5 s) for a round in progress, unless called from it."""
        self._stop.set()
        self._wake.set()
        if wait and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
