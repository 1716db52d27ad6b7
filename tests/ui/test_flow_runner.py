"""A flow's thread call leaves nothing behind in its worker: what it returned (a planner of a large file) is freed
as soon as the flow lets go of it, not at the cyclic collector's next full pass."""

from __future__ import annotations

import gc
import weakref

import pytest
from textual.app import App

from wgtui.ui.flow_runner import FlowRunner


class Big:
    """Stands for a planner: only a weak reference to it is kept by the test."""


async def test_a_thread_calls_result_is_freed_without_the_cyclic_collector() -> None:
    app: App[None] = App()
    async with app.run_test() as pilot:
        runner = FlowRunner(app)
        box = [Big()]
        gone = weakref.ref(box[0])
        got = await runner.thread(box.pop, "make")
        assert got is gone() and not box
        gc.disable()
        try:
            del got
            await pilot.pause()
            assert gone() is None
        finally:
            gc.enable()


async def test_a_thread_calls_error_is_raised_as_it_is() -> None:
    app: App[None] = App()
    async with app.run_test():
        runner = FlowRunner(app)

        def fail() -> None:
            raise ValueError("refused")

        with pytest.raises(ValueError, match="refused"):
            await runner.thread(fail, "fail")
