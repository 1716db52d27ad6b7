"""Provides a fleet without ssh for the fleet view's UI tests: hosts whose state, health and agent answers the test
sets, under the real FleetWatch (its polling, monitors, rows, summaries and search)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.fakes import Clock, key
from wgtui.config_source import EMPTY, ConfigView, load
from wgtui.model import InterfaceState, PeerState
from wgtui.remote.host import INSTALL, Health, Mode
from wgtui.remote.ssh import HostError, HostSpec, SshOptions
from wgtui.remote.watch import FleetWatch
from wgtui.ui.app import AppOptions
from wgtui.ui.fleet_app import FleetApp

UNREACHABLE = "ssh: connect to host {name} port 22: Connection timed out"


class FakeHost:
    """What FleetWatch, RemoteBackend and RemoteChanges use of a RemoteHost. `answer` is how the host answers:
    "ok", "silent" (no answer: the host goes stale, then the test marks it unreachable) or "down"."""

    def __init__(self, name: str, clock: Clock, etc: Path, *, read_only: bool = False) -> None:
        self.spec = HostSpec(name, name)
        self.etc = etc
        """The host's /etc/wireguard: its wg-quick files are read as the agent reads them."""
        etc.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.health = Health.CONNECTING
        self.mode = Mode.READ_ONLY if read_only else Mode.AGENT
        self.error: str | None = None
        self.latency: float | None = None
        self.last_ok: float | None = None
        self.states: dict[str, InterfaceState] = {}
        self.configs: dict[str, ConfigView] = {}
        self.answer = "ok"
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.replies: dict[str, dict[str, Any]] = {}
        """The agent's answer per operation (context, plan, apply, …)."""
        self.command = "wgtui agent --stdio"
        self.hello: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return self.spec.name

    def poll(self) -> bool:
        if self.answer == "down":
            self.health, self.error = Health.UNREACHABLE, UNREACHABLE.format(name=self.name)
            return False
        if self.answer == "silent":
            return False
        self.health, self.error, self.latency, self.last_ok = Health.LIVE, None, 0.012, self.clock()
        return True

    def config(self, ifname: str) -> ConfigView:
        return self.configs.get(ifname, EMPTY)

    def age(self) -> float | None:
        return None if self.last_ok is None else self.clock() - self.last_ok

    def mark_stale(self, after: float) -> None:
        age = self.age()
        if self.health is Health.LIVE and age is not None and age > after:
            self.health = Health.STALE

    def request(self, op: str, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        if self.mode is Mode.READ_ONLY:
            raise HostError(INSTALL.format(host=self.name, command=self.command))
        self.requests.append((op, fields))
        reply = self.replies.get(op)
        if reply is None:
            raise HostError(f"the fake agent has no answer for {op!r}")
        if not reply.get("ok", True):
            raise HostError(str(reply.get("error")))
        return reply

    def close(self) -> None:
        pass

    # -- the test's side -------------------------------------------------------------------------------------

    def set_peers(self, ifname: str, peers: dict[str, PeerState], names: dict[str, str]) -> None:
        """The interface's peers, and its file with the same peers named (no drift)."""
        self.states[ifname] = InterfaceState(name=ifname, backend="userspace", public_key=key(999),
                                             listen_port=51820, peers=peers)
        text = "[Interface]\nListenPort = 51820\n" + "".join(
            f"\n# friendly_name = {names[k]}\n[Peer]\nPublicKey = {k}\nAllowedIPs = {', '.join(p.allowed_ips)}\n"
            for k, p in peers.items())
        conf = self.etc / f"{ifname}.conf"
        conf.write_text(text)
        self.configs[ifname] = load(conf, self.etc / "peers")

    def bump(self, ifname: str, public_key: str, **fields: Any) -> None:
        state = self.states[ifname]
        peers = dict(state.peers)
        peers[public_key] = replace(peers[public_key], **fields)
        self.states[ifname] = replace(state, peers=peers)


class FakeFleet:
    def __init__(self, hosts: list[FakeHost]) -> None:
        self.hosts = hosts
        self.opts = SshOptions(connect_timeout=2.0)

    def close(self) -> None:
        pass


def peer(n: int, ips: str, handshake: float = 0.0, rx: int = 0, tx: int = 0) -> PeerState:
    return PeerState(public_key=key(n), allowed_ips=tuple(ips.split(",")), latest_handshake=int(handshake),
                     rx_bytes=rx, tx_bytes=tx)


def fleet(clock: Clock, tmp: Path) -> tuple[FleetWatch, dict[str, FakeHost]]:
    """Three hosts: vpn-a (alice, bob-laptop, carol), vpn-b (dave, a printer's /24), vpn-c (no wgtui: read-only)."""
    now = clock()
    a, b = FakeHost("vpn-a", clock, tmp / "vpn-a"), FakeHost("vpn-b", clock, tmp / "vpn-b")
    c = FakeHost("vpn-c", clock, tmp / "vpn-c", read_only=True)
    a.set_peers("wg0", {key(1): peer(1, "10.1.0.2/32", now - 30, 1_000, 2_000),
                        key(2): peer(2, "10.1.0.3/32", now - 600), key(3): peer(3, "10.1.0.4/32")},
                {key(1): "alice", key(2): "bob-laptop", key(3): "carol"})
    b.set_peers("wg0", {key(11): peer(11, "10.2.0.2/32", now - 10), key(12): peer(12, "10.2.5.0/24", now - 20)},
                {key(11): "dave", key(12): "printers"})
    c.set_peers("wg0", {key(21): peer(21, "10.3.0.2/32", now - 5)}, {key(21): "erin"})
    hosts = {h.name: h for h in (a, b, c)}
    watch = FleetWatch(FakeFleet([a, b, c]), interval=1.0, clock=clock)  # type: ignore[arg-type]
    return watch, hosts


def fleet_app(clock: Clock, tmp: Path, **options: Any) -> tuple[FleetApp, dict[str, FakeHost]]:
    watch, hosts = fleet(clock, tmp)
    return FleetApp(watch, AppOptions(autostart=False, clock=clock, **options)), hosts
