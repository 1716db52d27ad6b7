"""Provides a simulated WireGuard host so that wgtui can be seen and tried without root or WireGuard."""

from __future__ import annotations

import base64
import gc
import hashlib
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from wgtui import keys
from wgtui.backends.base import BackendError, InterfaceGone
from wgtui.conf.meta import stamp
from wgtui.model import KEEP, InterfaceState, PeerState, PeerUpdate

_FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
          "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yasmin"]
_DEVICE = ["laptop", "phone", "desktop", "tablet", "nas", "pi", "workstation"]
_SERVICE = ["ci-runner", "backup", "build", "db-replica", "gitlab", "monitor", "printer-lab", "kiosk"]


@dataclass(slots=True)
class _Sim:
    """How one simulated peer behaves over time."""

    kind: str
    """"active" (traffic, handshakes every 2 min), "idle" (online, little traffic), "stale", "never"."""
    phase: float
    """Seconds: offsets the handshake schedule so that peers do not all renew at once."""
    mean_rate: float
    """Bytes per second while active."""
    roaming: bool = False
    resets: bool = False
    connects_at: float | None = None
    """For a peer added at runtime: when its (imaginary) client first handshakes, as a real one would once
    it has its config. Lets every change flow, staged key rotation included, run to the end on the demo."""


#: Seconds after being added until a new demo peer's client handshakes (scanning a QR code takes about that).
CONNECT_DELAY = 5.0
_RATES = (2e3, 2e4, 1.5e5, 9e5, 4e6)
_PREFIXES = ("203.0.113", "198.51.100", "192.0.2")


def _demo_psk(public_key: str) -> str:
    """A stable preshared key per demo peer, derived without touching the simulation's random sequence."""
    return keys.b64(hashlib.sha256(f"demo psk {public_key}".encode()).digest())


def _fake_key(rng: random.Random) -> str:
    # Demo peers' public keys need not belong to any private key: 32 random bytes look the same.
    return base64.b64encode(rng.randbytes(32)).decode()


def _peer_name(i: int, rng: random.Random) -> str:
    if i % 5 == 4:
        return f"{_SERVICE[(i // 5) % len(_SERVICE)]}-{i // 5 + 1}"
    return f"{_FIRST[i % len(_FIRST)]}-{_DEVICE[(i * 7 + rng.randrange(3)) % len(_DEVICE)]}"


class _DemoInterface:
    """State of one simulated interface, advanced in place each time it is read."""

    def __init__(self, name: str, n_peers: int, port: int, subnet: int, seed: int, now: float) -> None:
        rng = random.Random(seed)
        self.name = name
        self.rng = rng
        self.private_key = keys.b64(bytes([(b & 248) if i == 0 else b for i, b in enumerate(rng.randbytes(32))]))
        self.public_key = keys.public_key(self.private_key)
        self.listen_port = port
        self.subnet = subnet
        self.up = True
        self.last = now
        self.born = now
        self.peers: dict[str, PeerState] = {}
        self.sims: dict[str, _Sim] = {}
        self.names: dict[str, str] = {}
        self._taken: set[str] = set()
        """The names given so far (a set: asking `names.values()` per peer made 10,000 peers a quadratic 1 s)."""
        self._next_suffix: dict[str, int] = {}
        for i in range(n_peers):
            self._make_peer(i, rng, now)

    def _make_peer(self, i: int, rng: random.Random, now: float) -> None:
        # The same draws in the same order as ever (the demo shows the same peers for a seed), made through
        # Random._randbelow and Random.random, which randrange, choice and uniform call: 10,000 peers in a fifth
        # of the time. tests/unit/test_fast_paths.py compares it with the plain calls.
        below, rand = rng._randbelow, rng.random  # type: ignore[attr-defined]
        roll = rand()
        kind = "active" if roll < 0.45 else "idle" if roll < 0.62 else "stale" if roll < 0.86 else "never"
        if i == 0:
            kind = "active"
        phase = 120 * rand()  # uniform(0, 120)
        sim = _Sim(kind=kind, phase=phase, mean_rate=_RATES[below(5)], roaming=(i == 2), resets=(i == 3))
        if i in (2, 3):
            sim.kind = "active"
        key = _fake_key(rng)
        host = i + 2
        subnet = self.subnet
        ips: tuple[str, ...] = (f"10.{subnet}.{host // 250}.{host % 250 + 2}/32",)
        if i % 4 == 1:
            ips += (f"fd00:{subnet}::{host:x}/128",)
        if i % 17 == 9:
            ips += (f"192.168.{100 + i % 50}.0/24",)
        endpoint: str | None = None
        if sim.kind != "never":
            if i % 6 == 1:
                address = 1 + below(0xFFFE)  # randrange(1, 0xffff)
                endpoint = f"[2001:db8:{i:x}::{address:x}]:{1024 + below(64511)}"
            else:
                prefix = _PREFIXES[below(3)]
                octet = 1 + below(253)
                other = 1024 + below(64511)  # the list [51820, randrange(1024, 65535)] is made before choice()
                endpoint = f"{prefix}.{octet}:{(51820, other)[below(2)]}"
        handshake = 0
        rx = tx = 0
        if sim.kind in ("active", "idle"):
            handshake = int(now - (1 + 117 * rand()))  # uniform(1, 118)
            rx = 10**5 + below(10**10 - 10**5)
            tx = 10**5 + below(10**9 - 10**5)
        elif sim.kind == "stale":
            recent, older = 200 + 3400 * rand(), 3600 + (86400 * 9 - 3600) * rand()
            handshake = int(now - (recent, older)[below(2)])
            rx = 10**4 + below(10**9 - 10**4)
            tx = 10**4 + below(10**8 - 10**4)
        peer = PeerState(key, endpoint, ips, handshake, rx, tx, 25 if i % 3 == 0 else 0, i % 2 == 0)
        self.peers[key] = peer
        self.sims[key] = sim
        if i % 5 == 4:
            name = base = f"{_SERVICE[(i // 5) % len(_SERVICE)]}-{i // 5 + 1}"
        else:
            name = base = f"{_FIRST[i % len(_FIRST)]}-{_DEVICE[(i * 7 + below(3)) % len(_DEVICE)]}"
        # Names identify peers in the CLI: keep them unique like an admin would, with the first free "-2", "-3"…
        # Only this base makes "base-N" names, so the ones below the last given are taken: start from there.
        n = self._next_suffix.get(base, 2)
        if name in self._taken:
            name, n = f"{base}-{n}", n + 1
            while name in self._taken:
                name, n = f"{base}-{n}", n + 1
            self._next_suffix[base] = n
        self.names[key] = name
        self._taken.add(name)

    def advance(self, now: float) -> None:
        """Move the simulation to `now`: only the peers that see traffic get a new PeerState."""
        dt = now - self.last
        if dt <= 0:
            return
        self.last = now
        rng = self.rng
        for key, sim in self.sims.items():
            if sim.connects_at is not None and now >= sim.connects_at and key in self.peers:
                sim.kind, sim.connects_at = "idle", None
                self.peers[key] = replace(self.peers[key], latest_handshake=int(now))
                continue
            if sim.kind not in ("active", "idle"):
                continue
            # Most idle peers carry nothing in a given second: their state objects stay as they were.
            if sim.kind == "idle" and rng.random() > 0.1 * dt:
                continue
            if sim.kind == "active" and rng.random() > 0.85:
                continue
            peer = self.peers[key]
            burst = sim.mean_rate * rng.uniform(0.2, 1.8) * dt * (0.02 if sim.kind == "idle" else 1.0)
            rx = peer.rx_bytes + int(burst)
            tx = peer.tx_bytes + int(burst * rng.uniform(0.05, 0.6))
            handshake = peer.latest_handshake
            if now - handshake >= 120:
                handshake = int(now)
            endpoint = peer.endpoint
            if sim.roaming and int(now) // 30 != int(now - dt) // 30:
                endpoint = f"192.0.2.{rng.randrange(2, 254)}:{rng.randrange(1024, 65535)}"
            if sim.resets and int(now) // 90 != int(now - dt) // 90:
                rx, tx = int(burst), int(burst / 3)
            self.peers[key] = replace(peer, rx_bytes=rx, tx_bytes=tx, latest_handshake=handshake,
                                      endpoint=endpoint)

    def state(self) -> InterfaceState:
        return InterfaceState(name=self.name, backend="demo", up=self.up, public_key=self.public_key,
                              listen_port=self.listen_port, fwmark=0, peers=dict(self.peers))

    def config_text(self) -> str:
        """A wg-quick file for the simulated interface, so that names come from comments like a real host."""
        lines = ["# Demo server written by wgtui --demo: nothing here touches a real interface.",
                 "[Interface]",
                 f"Address = 10.{self.subnet}.0.1/16, fd00:{self.subnet}::1/64",
                 f"ListenPort = {self.listen_port}",
                 f"PrivateKey = {self.private_key}",
                 ""]
        stamps: dict[int, str] = {}  # 150 different ages: each stamp formatted once
        for i, (key, peer) in enumerate(self.peers.items()):
            if i == 5:
                continue  # as if added by hand with `wg set` and never written down: drift to show
            lines += [f"# friendly_name = {self.names[key]}", "[Peer]"]
            if i % 7 != 3:  # most keys have a recorded age, some past a 90-day policy; a few predate wgtui
                age = ((i * 37) % 150 + 1) * 86400
                created = stamps.get(age)
                if created is None:
                    created = stamps[age] = stamp(self.born - age)
                lines.append(f"# wgtui: key-created={created}")
            lines.append(f"PublicKey = {key}")
            if peer.has_preshared_key:
                lines.append(f"PresharedKey = {_demo_psk(key)}")
            lines.append(f"AllowedIPs = {', '.join(peer.allowed_ips)}")
            if peer.persistent_keepalive:
                lines.append(f"PersistentKeepalive = {peer.persistent_keepalive}")
            lines.append("")
        if len(self.peers) > 5:
            # And one peer the file has but the interface does not (its removal was never written back).
            gone = keys.b64(hashlib.sha256(f"{self.name} retired".encode()).digest())
            lines += ["# friendly_name = retired-laptop", "[Peer]", f"PublicKey = {gone}",
                      f"AllowedIPs = 10.{self.subnet}.250.250/32", ""]
        return "\n".join(lines)


class DemoBackend:
    """Two simulated interfaces: a road-warrior server with `n_peers` peers and a small site-to-site link."""

    kind = "demo"

    def __init__(self, n_peers: int = 40, seed: int = 7, clock: Callable[[], float] = time.time,
                 config_dir: Path | None = None) -> None:
        self.clock = clock
        now = clock()
        collecting = gc.isenabled()
        gc.disable()  # tens of thousands of objects that all live on: the cyclic collector's passes find nothing
        try:
            self._ifaces = {
                "wg0": _DemoInterface("wg0", n_peers, 51820, 8, seed, now),
                "wg-site": _DemoInterface("wg-site", 3, 51821, 9, seed + 1, now),
            }
        finally:
            if collecting:
                gc.enable()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if config_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="wgtui-demo-")
            config_dir = Path(self._tmp.name)
        self.config_dir = config_dir
        for iface in self._ifaces.values():
            path = config_dir / f"{iface.name}.conf"
            if not path.exists():
                path.write_text(iface.config_text())
                path.chmod(0o600)

    def interfaces(self) -> list[str]:
        return sorted(self._ifaces)

    def _iface(self, ifname: str) -> _DemoInterface:
        try:
            return self._ifaces[ifname]
        except KeyError:
            raise InterfaceGone(f"There is no demo interface called {ifname}.") from None

    def read(self, ifname: str) -> InterfaceState:
        iface = self._iface(ifname)
        iface.advance(self.clock())
        return iface.state()

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        iface = self._iface(ifname)
        for up in updates:
            keys.parse_key(up.public_key)
            if up.endpoint is not KEEP and "\n" in up.endpoint:
                raise BackendError("An endpoint cannot contain a line break.")
        for up in updates:
            if up.remove:
                iface.peers.pop(up.public_key, None)
                iface.sims.pop(up.public_key, None)
                continue
            peer = iface.peers.get(up.public_key) or PeerState(public_key=up.public_key)
            if up.allowed_ips is not KEEP:
                # WireGuard semantics: a prefix belongs to one peer; giving it to this one takes it from others.
                taken = set(up.allowed_ips)
                for other_key, other in list(iface.peers.items()):
                    if other_key != up.public_key and taken.intersection(other.allowed_ips):
                        iface.peers[other_key] = replace(
                            other, allowed_ips=tuple(ip for ip in other.allowed_ips if ip not in taken))
                peer = replace(peer, allowed_ips=up.allowed_ips)
            if up.preshared_key is not KEEP:
                peer = replace(peer, has_preshared_key=up.preshared_key not in (None, keys.ZERO_KEY))
            if up.endpoint is not KEEP:
                peer = replace(peer, endpoint=up.endpoint)
            if up.persistent_keepalive is not KEEP:
                peer = replace(peer, persistent_keepalive=up.persistent_keepalive)
            iface.peers[up.public_key] = peer
            if up.public_key not in iface.sims:
                iface.sims[up.public_key] = _Sim(kind="never", phase=0, mean_rate=2e3,
                                                 connects_at=self.clock() + CONNECT_DELAY)

    def preshared_key(self, ifname: str, public_key: str) -> str | None:
        # The simulation keeps only PSK presence, like the model: the value is the stable demo one.
        peer = self._iface(ifname).peers.get(public_key)
        return _demo_psk(public_key) if peer and peer.has_preshared_key else None

    def private_key(self, ifname: str) -> str | None:
        return self._iface(ifname).private_key

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
