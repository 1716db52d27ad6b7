"""Provides FlowRunner: one change flow at a time on an app, run in a worker, its refusals told as they are."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from textual.app import App
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.worker import Worker, WorkerFailed

from wgtui import gcpolicy
from wgtui.ui.key_order import KeyOrder

log = logging.getLogger(__name__)
R = TypeVar("R")


class FlowRunner:
    """The part the local dashboard's flows and a remote host's share: a second change is refused while one is
    open, a refusal is shown as said, and an unexpected error ends the flow, is kept (tests assert there is none)
    and shown."""

    refusals: tuple[type[BaseException], ...] = ()
    """What a change can be refused with: said as it is, nothing was changed."""
    worker_prefix = "change"
    """Names the flow's worker and its log line."""

    def __init__(self, app: App[Any], key_order: KeyOrder | None = None) -> None:
        self.app = app
        self.key_order = key_order
        """The app's keys: what is typed while a flow opens its dialog is kept for that dialog."""
        self.busy = False
        self._settling: Timer | None = None
        self.failure: BaseException | None = None
        """An unexpected error that ended a flow (shown to the user; tests assert there is none)."""

    @property
    def refused_title(self) -> str:
        return "Not possible"

    def _start(self, flow: Coroutine[Any, Any, None], name: str, *, asked: bool = True) -> None:
        """Run `flow` unless one is open. `asked`: the user started it with a key, so what they type next is for its
        dialog (a flow wgtui starts by itself, at start-up, must not take the user's keys)."""
        if self.busy:
            flow.close()
            self.app.notify("Another change is still open: finish or cancel it first.", severity="warning")
            return
        self.busy = True
        if self.key_order is not None and asked:
            self.key_order.hold()
        self.app.run_worker(self._guarded(flow), name=f"{self.worker_prefix}-{name}", group="change",
                            exit_on_error=False)

    async def _guarded(self, flow: Coroutine[Any, Any, None]) -> None:
        try:
            await flow
        except self.refusals as exc:
            self.app.notify(str(exc), title=self.refused_title, severity="error", markup=False, timeout=12)
        except Exception as exc:
            log.exception("%s flow failed", self.worker_prefix)
            self.failure = exc
            self.app.notify(f"Unexpected error; nothing more was done: {exc!r}", severity="error", markup=False,
                            timeout=20)
        finally:
            self.busy = False
            if self.key_order is not None:
                self.key_order.flow_ended()
            if self.app.is_running:
                if self._settling is not None:
                    self._settling.stop()  # flows that end in quick succession: one collection after the last
                self._settling = self.app.set_timer(gcpolicy.SETTLE_S, self._settled)

    def _settled(self) -> None:
        """The flow's dialogs are garbage now: collected while the user reads the result (gcpolicy), unless another
        flow or dialog has been opened since."""
        self._settling = None
        if not self.app.is_running or self.busy:
            return
        stack = self.app.screen_stack  # empty while the app shuts down
        if stack and not isinstance(stack[-1], ModalScreen):
            gcpolicy.collect_after_flow()

    async def thread(self, fn: Callable[[], R], name: str) -> R:
        """A blocking call in a thread worker; its result, or its exception."""
        # The worker never holds the call or its result: a finished Worker is freed only by the cyclic collector,
        # and what it held (a planner of 10,000 peers and its document's index) would wait for a full collection.
        job, out = [fn], []

        def run() -> None:
            out.append(job.pop()())

        worker: Worker[None] = self.app.run_worker(run, name=name, group="change-io", thread=True,
                                                   exit_on_error=False)
        try:
            await worker.wait()
        except WorkerFailed as failed:
            raise failed.error from None
        return out.pop()

    def cancelled(self) -> None:
        self.app.notify("Cancelled: nothing was changed.", timeout=3)
