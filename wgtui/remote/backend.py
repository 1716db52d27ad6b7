"""Provides a remote host as a read-only Backend, so the local monitor and dashboard show it like a local one."""

# The monitor asks `interfaces()` once per poll and then `read()` for each: the host is polled over its ssh session
# in `interfaces()` (one round trip, deltas only) and `read()` answers from what that poll brought. Changes never go
# through here: they are planned and applied by the host's agent (remote/changes.py), with the same transaction.

from __future__ import annotations

from collections.abc import Sequence

from wgtui.backends.base import BackendError, InterfaceGone
from wgtui.config_source import ConfigView
from wgtui.model import InterfaceState, PeerUpdate
from wgtui.remote.host import Health, RemoteHost


class RemoteBackend:
    """`Backend` over one RemoteHost's session; `poll=False` when something else (the fleet) polls the host."""

    def __init__(self, host: RemoteHost, *, poll: bool = True) -> None:
        self.host = host
        self.poll = poll
        self.kind = "remote"

    def interfaces(self) -> list[str]:
        if self.poll:
            self.host.poll()
        if self.host.health is Health.UNREACHABLE and not self.host.states:
            raise BackendError(f"{self.host.name}: {self.host.error or 'not reachable'}")
        return sorted(self.host.states)

    def read(self, ifname: str) -> InterfaceState:
        state = self.host.states.get(ifname)
        if state is None:
            raise InterfaceGone(f"{ifname} is not on {self.host.name} (any more)")
        return state

    def config(self, ifname: str) -> ConfigView:
        """The host's file view of `ifname` (names, drift, wgtui comments), as the agent last sent it."""
        return self.host.config(ifname)

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        raise BackendError(f"changes on {self.host.name} are made by its agent, not sent from here")

    def preshared_key(self, ifname: str, public_key: str) -> str | None:
        return None  # secrets stay on the host

    def private_key(self, ifname: str) -> str | None:
        return None

    def close(self) -> None:
        self.host.close()
