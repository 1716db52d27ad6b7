"""Provides what the monitor reports: a peer's row, an interface's summary and delta, and one poll's update."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from wgtui.config_source import PeerMeta
from wgtui.drift import Drift
from wgtui.model import InterfaceState, PeerState, PeerStatus, slot_setters


def peer_status(peer: PeerState, now: float, online_after: float) -> PeerStatus:
    if peer.latest_handshake <= 0:
        return PeerStatus.NEVER
    if now - peer.latest_handshake < online_after:
        return PeerStatus.ONLINE
    return PeerStatus.STALE


@dataclass(frozen=True, slots=True)
class PeerRow:
    """What the UI shows for one peer. A new object exists only when something shown has changed."""

    peer: PeerState
    name: str
    status: PeerStatus
    rx_rate: float | None
    """Bytes per second since the previous poll; None before two polls or right after a counter reset."""
    tx_rate: float | None
    drift: tuple[Drift, ...] = ()
    """How the interface and the config file disagree about this peer (empty: they agree, or no file)."""
    meta: PeerMeta | None = None
    """What the file's wgtui comments say: key age, a pending rotation."""

    @property
    def key(self) -> str:
        return self.peer.public_key

    @property
    def file_only(self) -> bool:
        """In the config file but not on the interface: shown so that drift is visible, never counted."""
        return Drift.FILE_ONLY in self.drift


def _positional() -> Callable[[PeerState, str, PeerStatus, float | None, float | None, tuple[Drift, ...],
                               PeerMeta | None], PeerRow]:
    """PeerRow(...) from every field in order, its slots set directly: the frozen dataclass's __init__ goes through
    object.__setattr__ once per field, and a poll makes a row for every changed peer (hundreds at 10,000 peers).
    Valid while PeerRow keeps these fields in this order and no __post_init__, which slot_setters checks, once."""
    setters = slot_setters(PeerRow, ["peer", "name", "status", "rx_rate", "tx_rate", "drift", "meta"])
    if setters is None:
        return PeerRow
    peer_, name_, status_, rx_, tx_, drift_, meta_ = setters
    new = object.__new__

    def make(peer: PeerState, name: str, status: PeerStatus, rx: float | None, tx: float | None,
             drift: tuple[Drift, ...], meta: PeerMeta | None) -> PeerRow:
        row: PeerRow = new(PeerRow)
        peer_(row, peer)
        name_(row, name)
        status_(row, status)
        rx_(row, rx)
        tx_(row, tx)
        drift_(row, drift)
        meta_(row, meta)
        return row

    return make


new_row = _positional()


@dataclass(frozen=True, slots=True)
class InterfaceSummary:
    """The header line of one interface: its state and the totals over its peers."""

    state: InterfaceState
    online: int = 0
    total: int = 0
    rx_rate: float = 0.0
    tx_rate: float = 0.0

    @property
    def name(self) -> str:
        return self.state.name


@dataclass(frozen=True, slots=True)
class InterfaceDelta:
    """What changed on one interface since the previous poll."""

    summary: InterfaceSummary
    upserts: Mapping[str, PeerRow] = field(default_factory=dict)
    """Rows that appeared or changed, by public key, in the backend's order."""
    removed: tuple[str, ...] = ()
    reset: bool = False
    """True when `upserts` holds every peer and the receiver should drop what it had."""

    @property
    def name(self) -> str:
        return self.summary.name


@dataclass(frozen=True, slots=True)
class Update:
    """The result of one poll: deltas for every interface currently watched."""

    time: float
    interfaces: tuple[InterfaceDelta, ...]
    poll_seconds: float = 0.0

