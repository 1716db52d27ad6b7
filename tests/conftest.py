"""Provides the namespace lab that the live tests (integration, lifecycle) share: wireguard-go in namespaces the
tests create, swept once per run and removed after each test; the ssh hosts built in it for the fleet tests; and
the document-freezing default put back after every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import netns, netns_sweep
from tests.sshlab import SshLab, skip_reason
from wgtui.conf import lines


@pytest.fixture(autouse=True)
def _documents_may_freeze() -> Iterator[None]:
    """A test that starts the dashboard or the agent in-process turns document freezing off for the process
    (conf.lines.leave_to_collector), a very large parse asks the process to freeze, and no_gc remembers a frozen set
    it saw: the next test starts from the module's defaults again."""
    yield
    lines._may_freeze = True
    lines.freeze_asked(clear=True)
    lines.thawed()


@pytest.fixture(scope="session")
def _swept() -> None:
    """Once per run, before the first lab: remove what crashed runs left (dead sockets, orphan namespaces)."""
    if netns.skip_reason() is None:
        netns_sweep.sweep()


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
def hosts(lab: netns.Lab) -> Iterator[SshLab]:
    """Hosts reached over real ssh (each a namespace with its own sshd, wg0 and /etc/wireguard), in `lab`."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    yield SshLab(lab)
