"""Provides the fleet's live picture: one summary line per host, each host's updates, and a peer search."""

# Each host has its own Monitor over a RemoteBackend, exactly as a local dashboard has over netlink: the same
# statuses, rates, drift and rotation comments. The fleet polls every host's session at once (one thread per host),
# then lets each monitor turn what arrived into rows; a host that did not answer keeps its last rows, marked stale.
# A host still busy with its previous poll is not asked again (its session carries one request at a time anyway),
# so a frozen host costs the others nothing: its line goes stale, then unreachable, and nobody waits for it.

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from wgtui.config_source import ConfigView
from wgtui.model import REJECT_AFTER_TIME
from wgtui.monitor import InterfaceDelta, InterfaceSummary, Monitor, PeerRow, Update
from wgtui.periodic import Periodic
from wgtui.remote.backend import RemoteBackend
from wgtui.remote.fleet import Fleet
from wgtui.remote.host import INSTALL, Health, Mode, RemoteHost
from wgtui.remote.ssh import HostError

log = logging.getLogger(__name__)

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
    refusal: str | None = None
    """Why changes are refused there (no wgtui on the host: how to install it); None: they can be made."""


@dataclass(frozen=True, slots=True)
class Found:
    """A peer found by a fleet search."""

    host: str
    ifname: str
    row: PeerRow


@dataclass(frozen=True, slots=True)
class HostUpdate:
    """One host's monitor update, the config views it was made with, and its number: a dashboard opened from a
    snapshot (`FleetWatch.snapshot`) skips the updates the snapshot already holds."""

    host: str
    update: Update
    configs: Mapping[str, ConfigView]
    seq: int


@dataclass(frozen=True, slots=True)
class FleetTick:
    """What one tick brings: a summary per host, and the update of every host that answered (or kept silent)."""

    summaries: tuple[HostSummary, ...]
    updates: Mapping[str, HostUpdate]


class HostWatch:
    """One host's monitor and the rows it has reported, kept up to date from its deltas."""

    def __init__(self, host: RemoteHost, interval: float, online_after: float, clock: Callable[[], float]) -> None:
        self.host = host
        self.backend = RemoteBackend(host, poll=False)
        self.monitor = Monitor(self.backend, interval=interval, online_after=online_after,
                               config_for=self.backend.config, clock=clock)
        self.rows: dict[str, dict[str, PeerRow]] = {}
        self.summaries: dict[str, InterfaceSummary] = {}
        self.configs: dict[str, ConfigView] = {}
        """The config views the latest update was made with."""
        self.drift: dict[str, set[str]] = {}
        self.pending: dict[str, set[str]] = {}
        self.rotation_error: str | None = None
        """Why a due rotation could not be finished on the last tick (None: nothing went wrong)."""
        self.seq = 0
        self.time = 0.0
        self.lock = threading.Lock()
        """Held while the rows change and while they are read from another thread (search, snapshot)."""
        self._refusal: str | None = None

    def take(self) -> HostUpdate:
        """Turn the host's latest state into rows (no network: the fleet polled it already)."""
        update = self.monitor.poll_once()
        configs = {delta.name: self.backend.config(delta.name) for delta in update.interfaces}
        with self.lock:
            self._apply(update)
            self.configs = configs
            self.seq += 1
            self.time = update.time
            return HostUpdate(self.host.name, update, configs, self.seq)

    def _apply(self, update: Update) -> None:
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

    def snapshot(self) -> HostUpdate:
        """Everything the host has now, as one update that resets every interface: what a dashboard opened now
        starts from (later updates with a higher `seq` follow on from it)."""
        with self.lock:
            deltas = tuple(InterfaceDelta(summary=self.summaries[name], upserts=dict(rows), reset=True)
                           for name, rows in self.rows.items() if name in self.summaries)
            return HostUpdate(self.host.name, Update(time=self.time, interfaces=deltas), dict(self.configs), self.seq)

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

    def refusal(self) -> str | None:
        """Blocking the first time (the agent command is worked out with `ssh -G`): why changes are refused here."""
        if self.host.mode is not Mode.READ_ONLY:
            return None
        if self._refusal is None:
            self._refusal = INSTALL.format(host=self.host.name, command=self.host.command)
        return self._refusal

    def summary(self) -> HostSummary:
        host = self.host
        sums = list(self.summaries.values())
        return HostSummary(
            name=host.name, health=host.health, read_only=host.mode is Mode.READ_ONLY, error=host.error,
            latency=host.latency, age=host.age(), interfaces=len(sums),
            online=sum(s.online for s in sums), total=sum(s.total for s in sums),
            rx_rate=sum(s.rx_rate for s in sums), tx_rate=sum(s.tx_rate for s in sums),
            drift=sum(len(d) for d in self.drift.values()), pending=sum(len(p) for p in self.pending.values()),
            rotation_error=self.rotation_error, refusal=self._refusal if host.mode is Mode.READ_ONLY else None)


class FleetWatch:
    """Every host of the fleet, polled together: `tick()` (or `step()`) once per interval from one non-UI thread,
    or `start()` to have a thread do it."""

    def __init__(self, fleet: Fleet, *, interval: float = 2.0, online_after: float = REJECT_AFTER_TIME,
                 clock: Callable[[], float] = time.time, finish_rotations: bool = True) -> None:
        self.fleet = fleet
        self.finish_rotations = finish_rotations
        self.interval = interval
        self.watches = [HostWatch(h, interval, online_after, clock) for h in fleet.hosts]
        self._busy: dict[str, tuple[threading.Thread, float]] = {}
        """Hosts whose poll is still running: (its thread, when it started)."""
        self._ticker: Periodic[FleetTick] | None = None

    @property
    def limit(self) -> float:
        """How long one poll may take before its host counts as unreachable: the connect timeout plus one poll."""
        return self.fleet.opts.connect_timeout + 5.0

    def poll(self, deadline: float | None = None) -> None:
        """Poll every host that is not still busy with its previous poll, each in its own thread, and wait until
        they have answered or `deadline` seconds have passed (default: `limit`). A host busy for longer than
        `limit` is marked unreachable; its thread ends by itself (the session's own timeouts)."""
        started = time.monotonic()
        for host in self.fleet.hosts:
            if host.name not in self._busy:
                thread = threading.Thread(target=host.poll, name=f"poll-{host.name}", daemon=True)
                thread.start()
                self._busy[host.name] = (thread, started)
        end = started + (self.limit if deadline is None else deadline)
        hosts = {h.name: h for h in self.fleet.hosts}
        for name, (thread, since) in list(self._busy.items()):
            thread.join(max(0.0, end - time.monotonic()))
            if not thread.is_alive():
                del self._busy[name]
            elif time.monotonic() - since >= self.limit:
                hosts[name].health = Health.UNREACHABLE
                hosts[name].error = f"no answer within {self.limit:g} s"

    def busy(self, name: str) -> bool:
        return name in self._busy

    def step(self, deadline: float | None = None) -> FleetTick:
        """One tick: poll, then bring every host that answered (or stayed silent) up to date, finish the rotations
        that are due, and sum each host up. A host whose poll is still running keeps its rows as they were."""
        self.poll(deadline)
        updates: dict[str, HostUpdate] = {}
        for watch in self.watches:
            host = watch.host
            host.mark_stale(self.interval * STALE_AFTER_POLLS)
            if host.name in self._busy:
                continue
            updates[host.name] = watch.take()
            watch.refusal()
            if self.finish_rotations:
                watch.rotation_error = watch.finish_due()
        return FleetTick(tuple(self.summaries()), updates)

    def tick(self) -> list[HostSummary]:
        return list(self.step().summaries)

    def summaries(self) -> list[HostSummary]:
        return [w.summary() for w in self.watches]

    def watch(self, name: str) -> HostWatch:
        for w in self.watches:
            if w.host.name == name:
                return w
        raise KeyError(name)

    def snapshot(self, name: str) -> HostUpdate:
        return self.watch(name).snapshot()

    def find(self, query: str, limit: int = 200) -> list[Found]:
        """Peers whose name, public key or allowed address matches `query`, on every host (at most `limit`). Safe
        from any thread: each host's rows are read under its lock."""
        text = query.strip().lower()
        if not text:
            return []
        address = _address(text)
        found: list[Found] = []
        for w in self.watches:
            with w.lock:
                for item in _search(w, text, address):
                    found.append(item)
                    if len(found) >= limit:
                        return found
        return found

    # -- a thread of its own ---------------------------------------------------------------------------------

    def start(self, on_tick: Callable[[FleetTick], None]) -> None:
        """Tick in a daemon thread once per interval (never waiting longer than that for a host) and hand each
        FleetTick to `on_tick`, from that thread."""
        if self._ticker is None:
            self._ticker = Periodic("wgtui-fleet", "fleet tick", lambda: self.interval,
                                    lambda: self.step(deadline=self.interval), on_tick)
            self._ticker.start()

    def refresh(self) -> None:
        """Tick now rather than at the next interval (after a change on a host)."""
        if self._ticker is not None:
            self._ticker.wake()

    def stop(self, *, wait: bool = True) -> None:
        """Stop ticking; `wait=False` leaves a tick in progress to end by itself (the UI thread must not wait for
        a host's answer, nor for a tick that waits for the UI thread)."""
        if self._ticker is not None:
            self._ticker.stop(wait=wait)
            self._ticker = None


def _search(w: HostWatch, text: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
            ) -> Iterator[Found]:
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
