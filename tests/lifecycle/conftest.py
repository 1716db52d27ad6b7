"""Provides the fixtures of the lifecycle tests: a namespace lab for the live ones, zones with DST for the others."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from tests import netns

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="session")
def _swept() -> None:
    if netns.skip_reason() is None:
        netns.sweep()


@pytest.fixture
def lab(_swept: None) -> Iterator[netns.Lab]:
    """A fresh namespace lab; its namespaces, daemons and sockets are removed even when the test fails."""
    reason = netns.skip_reason()
    if reason:
        pytest.skip(reason)
    lab = netns.Lab()
    try:
        yield lab
    finally:
        lab.close()
