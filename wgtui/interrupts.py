"""Provides the handling of SIGINT, SIGTERM and SIGHUP: held while a change is in its critical section."""

# An admin over SSH meets all three: Ctrl-C, a `kill`, a dropped connection (SIGHUP). Python's defaults (an
# exception at any bytecode for SIGINT, instant death for the others) can stop a change between its runtime half
# and its file half. Inside `held()` a signal is only recorded; the change finishes (or rolls back) and the caller
# then reports it and exits with 128 + the signal's number.

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_idle = threading.Condition()
_depth = 0
_pending: int | None = None
_action: Callable[[int], None] | None = None
_after_change: Callable[[int], None] | None = None


class Interrupted(BaseException):
    """A signal stopped wgtui outside a critical section (so before or after a change, never inside one)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _raise(signum: int) -> None:
    raise Interrupted(signum)


def _on_signal(signum: int, _frame: object) -> None:
    global _pending
    # Signal handlers run in the main thread between bytecodes; `_depth` may be raised by any thread (the
    # dashboard applies changes in a worker thread), and reading an int needs no lock.
    if _depth > 0:
        if _pending is None:
            _pending = signum
        return
    (_action or _raise)(signum)


def install(action: Callable[[int], None] | None = None, *,
            after_change: Callable[[int], None] | None = None) -> None:
    """Route the three signals through wgtui (main thread only). Outside a critical section `action(signum)` runs
    (default: raise Interrupted, which unwinds like KeyboardInterrupt); inside one the signal waits. With
    `after_change` a waiting signal is handed to it as soon as the last critical section ends, in whatever thread
    ran it (the dashboard, whose changes run in worker threads); without it the caller asks `pending()`."""
    global _action, _after_change
    _action, _after_change = action, after_change
    for sig in SIGNALS:
        signal.signal(sig, _on_signal)


def uninstall() -> None:
    global _action, _after_change
    _action, _after_change = None, None
    for sig in SIGNALS:
        signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """A critical section: signals that arrive inside it are recorded (see `pending`), not acted on."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        with _idle:
            _depth -= 1
            _idle.notify_all()
            deliver = _after_change if _depth == 0 and _pending is not None else None
        if deliver is not None:
            signum = take()
            if signum is not None:
                deliver(signum)


def pending() -> int | None:
    """The first signal that arrived during a critical section and has not been taken yet."""
    return _pending


def take() -> int | None:
    """`pending()`, cleared."""
    global _pending
    signum, _pending = _pending, None
    return signum


def wait_idle(timeout: float) -> bool:
    """Block until no critical section runs (a change in a worker thread finishing before the process exits)."""
    with _idle:
        return _idle.wait_for(lambda: _depth == 0, timeout)
