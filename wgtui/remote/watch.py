"""Provides the fleet's live picture: one summary line per host, and a peer search across every host."""

# Each host has its own Monitor over a RemoteBackend, exactly as a local dashboard has over netlink: the same
# statuses, rates, drift and rotation comments. The fleet polls every host's session at once (Fleet.poll_all), then
# lets each monitor turn what arrived into rows; a host that did not answer keeps its last rows, marked stale.

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from wgtui.model import REJECT_AFTER_TIME
from wgtui.monitor import InterfaceSummary, Monitor, PeerRow, Update
from wgtui.remote.backend import RemoteBackend
from wgtui.remote.fleet import Fleet
from wgtui.remote.host import Health, Mode, RemoteHost
from wgtui.remote.ssh import HostError

STALE_AFTER_POLLS = 3
"""A host whose last answer is older than this many poll intervals is shown stale."""


@dataclass(frozen=True, slots=True)
class HostSummary:
    """One line of the fleet view."""

    name: str
    health: Health
    read_only: bool
    error: str | None
    latency: float | None
    age: float | None
    """Seconds since the host last answered (None: never)."""
    interfaces: int
    online: int
    total: int
    rx_rate: float
    tx_rate: float
    drift: int
    """Peers on which the interface and the file disagree."""
    pending: int
    """Staged key rotations waiting for the client's first handshake."""
    rotation_error: str | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """A peer found by a fleet search."""

    host: str
    ifname: str
    row: PeerRow


class HostWatch:
    """One host's monitor and the rows it has reported, kept up to date from its deltas."""

    def __init__(self, host: RemoteHost, interval: float, online_after: float, clock: Callable[[], float]) -> None:
        self.host = host
        self.backend = RemoteBackend(host, poll=False)
        self.monitor = Monitor(self.backend, interval=interval, online_after=online_after,
                               config_for=self.backend.config, clock=clock)
        self.rows: dict[str, dict[str, PeerRow]] = {}
        self.summaries: dict[str, InterfaceSummary] = {}
        self.drift: dict[str, set[str]] = {}
        self.pending: dict[str, set[str]] = {}
        self.rotation_error: str | None = None
        """Why a due rotation could not be finished on the last tick (None: nothing went wrong)."""

    def take(self) -> Update:
        """Turn the host's latest state into rows (no network: the fleet polled it already)."""
        update = self.monitor.poll_once()
        seen = set()
        for delta in update.interfaces:
            name = delta.name
            seen.add(name)
            rows = self.rows.setdefault(name, {})
            drift = self.drift.setdefault(name, set())
            pending = self.pending.setdefault(name, set())
            if delta.reset:
                rows.clear()
                drift.clear()
                pending.clear()
            for key in delta.removed:
                rows.pop(key, None)
                drift.discard(key)
                pending.discard(key)
            for key, row in delta.upserts.items():
                rows[key] = row
                (drift.add if row.drift else drift.discard)(key)
                (pending.add if row.meta is not None and row.meta.rotating_to else pending.discard)(key)
            self.summaries[name] = delta.summary
        for gone in set(self.rows) - seen:
            del self.rows[gone], self.drift[gone], self.pending[gone]
            self.summaries.pop(gone, None)
        return update

    def due_rotations(self) -> list[str]:
        """Interfaces with a staged rotation whose new key has handshaken: its move and old-key removal are due."""
        due = []
        for ifname, pending in self.pending.items():
            rows = self.rows.get(ifname, {})
            for key in pending:
                meta = rows[key].meta
                new = rows.get(meta.rotating_to) if meta is not None and meta.rotating_to else None
                if new is not None and new.peer.latest_handshake > 0:
                    due.append(ifname)
                    break
        return due

    def finish_due(self) -> str | None:
        """Ask the agent to finish the rotations that are due (as `wgtui peer pending --finish` there); the
        fleet view thus completes rotations that a `--no-wait` command or a closed dashboard left staged.
        Returns what went wrong, if anything."""
        if self.host.mode is not Mode.AGENT or self.host.health is not Health.LIVE:
            return None
        problems = []
        for ifname in self.due_rotations():
            try:
                answer = self.host.request("pending", interface=ifname, finish=True)
            except HostError as exc:
                problems.append(f"{ifname}: {exc}")
                continue
            if answer.get("exit"):
                problems.append(f"{ifname}: {answer.get('stderr') or 'a rotation could not be finished'}")
        return "; ".join(problems) or None

    def summary(self) -> HostSummary:
        host = self.host
        sums = self.summaries.values()
        return HostSummary(
            name=host.name, health=host.health, read_only=host.mode is Mode.READ_ONLY, error=host.error,
            latency=host.latency, age=host.age(), interfaces=len(self.summaries),
            online=sum(s.online for s in sums), total=sum(s.total for s in sums),
            rx_rate=sum(s.rx_rate for s in sums), tx_rate=sum(s.tx_rate for s in sums),
            drift=sum(len(d) for d in self.drift.values()), pending=sum(len(p) for p in self.pending.values()),
            rotation_error=self.rotation_error)


class FleetWatch:
    """Every host of the fleet, polled together; `tick()` once per interval from one (non-UI) thread."""

    def __init__(self, fleet: Fleet, *, interval: float = 2.0, online_after: float = REJECT_AFTER_TIME,
                 clock: Callable[[], float] = time.time, finish_rotations: bool = True) -> None:
        self.fleet = fleet
        self.finish_rotations = finish_rotations
        self.interval = interval
        self.watches = [HostWatch(h, interval, online_after, clock) for h in fleet.hosts]

    def tick(self) -> list[HostSummary]:
        self.fleet.poll_all()
        for watch in self.watches:
            watch.host.mark_stale(self.interval * STALE_AFTER_POLLS)
            watch.take()
            if self.finish_rotations:
                watch.rotation_error = watch.finish_due()
        return self.summaries()

    def summaries(self) -> list[HostSummary]:
        return [w.summary() for w in self.watches]

    def watch(self, name: str) -> HostWatch:
        for w in self.watches:
            if w.host.name == name:
                return w
        raise KeyError(name)

    def find(self, query: str, limit: int = 200) -> list[Found]:
        """Peers whose name, public key or allowed address matches `query`, on every host (at most `limit`)."""
        return list(_first(_search(self.watches, query), limit))


def _search(watches: Sequence[HostWatch], query: str) -> Iterator[Found]:
    text = query.strip().lower()
    if not text:
        return
    address = _address(text)
    for w in watches:
        for ifname, rows in w.rows.items():
            for key, row in rows.items():
                if (text in row.name.lower() or key.lower().startswith(text)
                        or any(text in ip for ip in row.peer.allowed_ips)
                        or (address is not None and _contains(row.peer.allowed_ips, address))):
                    yield Found(w.host.name, ifname, row)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _contains(prefixes: Sequence[str], address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    for prefix in prefixes:
        try:
            if address in ipaddress.ip_network(prefix, strict=False):
                return True
        except ValueError:
            continue
    return False


def _first(items: Iterator[Found], limit: int) -> Iterator[Found]:
    for n, item in enumerate(items):
        if n >= limit:
            return
        yield item
