"""Provides the namespace-lab fixtures of the integration tests, and a summary of the timings they measured."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests import netns

_timings: list[str] = []


@pytest.fixture(scope="session")
def _swept() -> None:
    """Once per run, before the first lab: remove what crashed runs left (dead sockets, orphan namespaces)."""
    if netns.skip_reason() is None:
        netns.sweep()


@pytest.fixture
def lab(_swept: None) -> Iterator[netns.Lab]:
    """A fresh lab per test; its namespaces, daemons and sockets are removed even when the test fails."""
    reason = netns.skip_reason()
    if reason:
        pytest.skip(reason)
    lab = netns.Lab()
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture
def timing() -> Callable[[str], None]:
    """Record a measured time; all of them are printed at the end of the run."""
    return _timings.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _timings:
        terminalreporter.section("measured timings")
        for line in _timings:
            terminalreporter.write_line(line)
