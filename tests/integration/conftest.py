"""Provides a summary of the timings the integration tests measured (their namespace lab is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

_timings: list[str] = []


@pytest.fixture
def timing() -> Callable[[str], None]:
    """Record a measured time; all of them are printed at the end of the run."""
    return _timings.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _timings:
        terminalreporter.section("measured timings")
        for line in _timings:
            terminalreporter.write_line(line)
