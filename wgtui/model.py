"""Provides the frozen data types that describe WireGuard state at one moment, and runtime peer changes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

from wgtui.compat import StrEnum

#: Kernel REJECT_AFTER_TIME: a session older than this cannot carry data any more.
REJECT_AFTER_TIME = 180


class PeerStatus(StrEnum):
    """Whether a peer has a live session, as judged from its latest handshake."""

    ONLINE = "online"
    STALE = "stale"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class PeerState:
    """One peer as the running interface reports it. Preshared keys are never held, only their presence."""

    public_key: str
    """Base64, 44 characters: the peer's identity on the interface."""
    endpoint: str | None = None
    """As `wg` prints it: `192.0.2.1:51820` or `[2001:db8::1]:51820`; None when the peer has none."""
    allowed_ips: tuple[str, ...] = ()
    """Prefixes in the kernel's order, as `wg` prints them (host bits already zeroed by the kernel)."""
    latest_handshake: int = 0
    """Unix seconds of the latest handshake; 0 means never."""
    rx_bytes: int = 0
    tx_bytes: int = 0
    persistent_keepalive: int = 0
    """Seconds; 0 means off."""
    has_preshared_key: bool = False


@dataclass(frozen=True, slots=True)
class InterfaceState:
    """One WireGuard interface. `peers` maps public key to peer, in the order the backend reported them."""

    name: str
    backend: str
    """Where the state comes from: "kernel", "userspace" or "demo"."""
    up: bool = True
    public_key: str | None = None
    listen_port: int = 0
    fwmark: int = 0
    peers: Mapping[str, PeerState] = field(default_factory=dict)
    error: str | None = None
    """A sentence saying why the interface could not be read (then `up` is False and `peers` empty)."""


class Unchanged(Enum):
    """Marker for a peer field that a runtime update leaves as it is."""

    KEEP = "keep"


KEEP = Unchanged.KEEP


@dataclass(frozen=True, slots=True)
class PeerUpdate:
    """One runtime change to one peer, as `wg set` would send it. Fields left at KEEP are not sent.

    A preshared key of None removes it (WireGuard treats 32 zero bytes as "none"); an endpoint of None is not
    representable at runtime (WireGuard cannot clear an endpoint), so endpoint is a string or KEEP.
    """

    public_key: str
    remove: bool = False
    preshared_key: str | Unchanged | None = KEEP
    endpoint: str | Unchanged = KEEP
    persistent_keepalive: int | Unchanged = KEEP
    allowed_ips: tuple[str, ...] | Unchanged = KEEP
    """A tuple replaces the peer's allowed IPs (replace_allowed_ips); KEEP leaves them."""


def slot_setters(cls: type, expected: list[str]) -> list[Callable[[Any, Any], None]] | None:
    """The slot setters of a frozen, slotted dataclass whose fields are `expected`, in that order, for code that
    builds many of them by setting the slots directly (its __init__ goes through object.__setattr__ once per field:
    about twice the cost); None when the class no longer has exactly these fields, or has a __post_init__, so that
    such code falls back to the class itself."""
    if ([f.name for f in fields(cls)] != expected or list(getattr(cls, "__slots__", ())) != expected
            or hasattr(cls, "__post_init__")):
        return None
    return [getattr(cls, name).__set__ for name in expected]
