"""Provides the backend protocol and the errors every backend raises, worded for the person at the keyboard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from wgtui.model import InterfaceState, PeerUpdate


class BackendError(Exception):
    """A failure worth showing to the user as it is: the message is a full sentence."""


class NotPermitted(BackendError):
    """The process lacks the privilege (CAP_NET_ADMIN or root) to read or change WireGuard state."""


class InterfaceGone(BackendError):
    """The interface does not exist (any more); callers show it as down and retry on the next poll."""


class NoWireGuard(BackendError):
    """Neither the kernel module nor a userspace implementation can be found on this host."""


@runtime_checkable
class Backend(Protocol):
    """What the monitor and the change pipeline need from a source of WireGuard state."""

    kind: str
    """"kernel", "userspace" or "demo": shown in the UI and in JSON."""

    def interfaces(self) -> list[str]:
        """Names of the WireGuard interfaces this backend can see, sorted."""
        ...

    def read(self, ifname: str) -> InterfaceState:
        """Full state of one interface. Raises InterfaceGone, NotPermitted or BackendError."""
        ...

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        """Send runtime peer changes, in order. Touches no peer that is not named. Raises BackendError."""
        ...

    def preshared_key(self, ifname: str, public_key: str) -> str | None:
        """The peer's current preshared key (base64), or None: only for undoing a change, never displayed."""
        ...

    def private_key(self, ifname: str) -> str | None:
        """The interface's private key (base64), or None: only for `wgtui init` writing the file, never displayed."""
        ...

    def close(self) -> None:
        """Release sockets; the backend is not used afterwards."""
        ...
