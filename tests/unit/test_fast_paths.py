"""Proves the planner's, the plan's, ipalloc's and the demo's fast paths equal the plain code they replaced: prefix
ownership with integers, the next free address, overlap warnings, one diff per plan, the demo's peers for a seed."""

from __future__ import annotations

import base64
import ipaddress
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import FakeBackend
from tests.unit.pipeline_fixtures import server
from wgtui import ipalloc, keys
from wgtui.backends import demo
from wgtui.changes import ChangeRefused, Planner
from wgtui.changes.plan import mask_secrets
from wgtui.conf import Document
from wgtui.conf.diff import unified_diff_slow
from wgtui.conf.meta import stamp
from wgtui.model import PeerState

EXAMPLES = int(os.environ.get("WGTUI_HYPOTHESIS_EXAMPLES", "200"))
PROPS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_prefixes = st.one_of(
    st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)).map(lambda t: f"{ipaddress.IPv4Address(t[0])}/{t[1]}"),
    st.tuples(st.integers(0, 2**128 - 1), st.integers(0, 128)).map(lambda t: f"{ipaddress.IPv6Address(t[0])}/{t[1]}"),
    st.tuples(st.integers(0, 255), st.integers(16, 32)).map(lambda t: f"10.0.{t[0]}.{t[0]}/{t[1]}"),
    st.tuples(st.integers(0, 255), st.integers(112, 128)).map(lambda t: f"fd00::{t[0]:x}/{t[1]}"),
).map(ipalloc.prefix_of)


@PROPS
@given(_prefixes, _prefixes)
def test_integer_overlap_and_containment_equal_ipaddress(a: ipalloc.Prefix, b: ipalloc.Prefix) -> None:
    na, nb = ipalloc.to_network(a), ipalloc.to_network(b)
    assert ipalloc.prefixes_overlap(a, b) == ipalloc.overlaps(na, nb)
    assert ipalloc.prefix_contains(a, b) == ipalloc.contains(na, nb)
    assert ipalloc.span(a) == (int(na.network_address), int(na.broadcast_address))


@PROPS
@given(st.sampled_from(["10.0.0.1/24", "10.0.0.0/30", "192.168.7.9/31", "fd00::1/64", "fd00::/126", "fd00::5/127"]),
       st.lists(_prefixes, max_size=12))
def test_next_free_from_integer_spans_equals_next_free(subnet: str, used: list[ipalloc.Prefix]) -> None:
    iface = ipaddress.ip_interface(subnet)
    networks = [ipalloc.to_network(p) for p in used]
    assert ipalloc.next_free_in(iface, [ipalloc.span(p) for p in used if p[0] == iface.version]) == \
        ipalloc.next_free(iface, networks)


# -- the planner -------------------------------------------------------------------------------------------------


def _key(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(32)).decode()


def _file(rng: random.Random, n: int) -> tuple[str, list[str]]:
    lines = ["[Interface]", "Address = 10.8.0.1/24, fd00:8::1/64", f"PrivateKey = {keys.generate_private_key()}", ""]
    peer_keys = []
    for i in range(n):
        key = _key(rng)
        peer_keys.append(key)
        ips = rng.choice([f"10.8.0.{i + 2}/32", f"10.8.0.{i + 2}/32, fd00:8::{i + 2:x}/128", f"10.8.0.{i + 2}",
                          "10.8.0.0/28", f"192.168.{i}.7/24", f"FD00:8::{i + 2:X}/128", f"10.8.0.{i + 2}/032",
                          f"fd00:8:0:0:0:0:0:{i + 2:x}", "10.8.0.16/28", f"+10.8.0.{i + 2}/32"])
        lines += [f"# friendly_name = p{i}", "[Peer]", f"PublicKey = {key}", f"AllowedIPs = {ips}", ""]
    return "\n".join(lines), peer_keys


def _reference_owners(planner: Planner, exclude: tuple[str, ...] = ()) -> dict[ipalloc.Network, tuple[str, str]]:
    """prefix_owners as it was: an ipaddress network per allowed IP of every peer, file and runtime."""
    out: dict[ipalloc.Network, tuple[str, str]] = {}
    for p in planner.peers():
        if p.public_key in exclude:
            continue
        ips = list(p.allowed_ips)
        if planner.runtime is not None and p.public_key in planner.runtime.peers:
            ips += planner.runtime.peers[p.public_key].allowed_ips
        for ip in ips:
            try:
                out[ipalloc.network(ip)] = (p.public_key, p.name)
            except ValueError:
                continue
    return out


def _reference_check(planner: Planner, ips: tuple[str, ...], owner: str, exclude: tuple[str, ...]) -> object:
    taken = _reference_owners(planner, exclude)
    for ip in ips:
        net = ipalloc.network(ip)
        if net in taken:
            return ("refused", net)
    warnings = []
    for ip in ips:
        net = ipalloc.network(ip)
        for other, (key, name) in taken.items():
            if ipalloc.overlaps(net, other):
                who = name or keys.short_key(key)
                rel = "contains" if ipalloc.contains(net, other) else "lies inside"
                warnings.append(f"{net} {rel} {other} of {who}: the kernel routes each address to the most specific "
                                "prefix, so traffic may go to the other peer.")
    return warnings


def _reference_auto(planner: Planner) -> tuple[str, ...] | None:
    used = list(_reference_owners(planner))
    subnets = [ipaddress.ip_interface(a) for a in (planner.doc.interface.addresses if planner.doc.interface else ())]
    used += [ipalloc.network(str(s.ip)) for s in subnets]
    picked = []
    for version in (4, 6):
        for subnet in (s for s in subnets if s.version == version):
            free = ipalloc.next_free(subnet, used)
            if free is not None:
                picked.append(str(free))
                break
    return tuple(picked) or None


@pytest.mark.parametrize("seed", range(6))
def test_prefix_ownership_overlaps_and_auto_addresses_equal_the_ipaddress_code(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    text, peer_keys = _file(rng, 60)
    backend, path = server(tmp_path, text)
    backend.ifaces["wg0"] = {k: PeerState(k, allowed_ips=(f"10.8.0.{200 + i % 40}/32",)) for i, k in
                             enumerate(rng.sample(peer_keys, 10))}
    ghost = _key(rng)
    backend.ifaces["wg0"][ghost] = PeerState(ghost, allowed_ips=("10.8.0.9/32", "fd00:8::9/128", "bogus",
                                                                 "10.8.0.5/255.255.255.255"))
    for planner in (Planner("wg0", path, backend), Planner("wg0", path, None, file_only=True)):
        assert planner.prefix_owners() == _reference_owners(planner)
        assert list(planner.prefix_owners()) == list(_reference_owners(planner))
        excluded = tuple(rng.sample(peer_keys, 3))
        assert planner.prefix_owners(excluded) == _reference_owners(planner, excluded)
        try:
            assert planner.auto_allowed_ips() == _reference_auto(planner)
        except ChangeRefused:
            assert _reference_auto(planner) is None
        for ips in [("10.8.0.7/32",), ("10.8.0.0/24",), ("10.8.0.64/26", "fd00:8::/64"), ("192.168.3.0/24",),
                    ("10.8.0.250/32",), ("fd00:8::2/128",), ("10.8.0.2/32", "10.8.0.9/32")]:
            for exclude in ((), excluded):
                try:
                    warnings, _ = planner._check_allowed_ips(ips, "x", exclude)
                except ChangeRefused as exc:
                    expected = _reference_check(planner, ips, "x", exclude)
                    assert isinstance(expected, tuple) and str(expected[1]) in str(exc)
                else:
                    assert warnings == _reference_check(planner, ips, "x", exclude)


def test_a_plan_works_out_its_diff_once_and_as_before(tmp_path: Path) -> None:
    rng = random.Random(1)
    text, peer_keys = _file(rng, 80)
    text = text.replace(f"PublicKey = {peer_keys[3]}", f"PublicKey = {peer_keys[3]}\nPresharedKey = {_key(rng)}")
    _, path = server(tmp_path, text)
    planner = Planner("wg0", path, None, file_only=True)
    for plan in (planner.add("new", allowed_ips="10.8.0.250/32", preshared_key=True), planner.remove("p40"),
                 planner.rotate_psk("p3"), planner.edit("p5", name="five", keepalive=25)):
        before = plan.diff
        assert plan.diff is before  # worked out once
        name = str(plan.config_path)
        assert before == unified_diff_slow(mask_secrets(plan.before), mask_secrets(plan.after or ""), name, name)
        assert plan.diff_stat() == (
            sum(1 for ln in before.splitlines() if ln.startswith("+") and not ln.startswith("+++")),
            sum(1 for ln in before.splitlines() if ln.startswith("-") and not ln.startswith("---")))


def test_the_planner_reads_the_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = Document.from_bytes.__func__  # type: ignore[attr-defined]

    def counted(cls: type[Document], data: bytes) -> Document:
        calls.append(len(data))
        return real(cls, data)  # type: ignore[no-any-return]

    monkeypatch.setattr(Document, "from_bytes", classmethod(counted))
    _, path = server(tmp_path)
    Planner("wg0", path, FakeBackend(), file_only=True)
    assert len(calls) == 1


# -- the demo ------------------------------------------------------------------------------------------------------


class _ReferenceDemo:
    """The demo's peers made as before: randrange, choice and uniform, and a fresh set of names per peer."""

    def __init__(self, n: int, subnet: int, seed: int, now: float) -> None:
        rng = random.Random(seed)
        self.private_key = keys.b64(bytes([(b & 248) if i == 0 else b for i, b in enumerate(rng.randbytes(32))]))
        self.peers: dict[str, PeerState] = {}
        self.sims: dict[str, tuple[str, float, float, bool, bool]] = {}
        self.names: dict[str, str] = {}
        self.subnet = subnet
        for i in range(n):
            self._make_peer(i, rng, now)
        self.rng = rng

    def _make_peer(self, i: int, rng: random.Random, now: float) -> None:
        roll = rng.random()
        kind = "active" if roll < 0.45 else "idle" if roll < 0.62 else "stale" if roll < 0.86 else "never"
        if i == 0:
            kind = "active"
        phase, rate = rng.uniform(0, 120), rng.choice([2e3, 2e4, 1.5e5, 9e5, 4e6])
        if i in (2, 3):
            kind = "active"
        key = base64.b64encode(rng.randbytes(32)).decode()
        v6 = i % 6 == 1
        host = i + 2
        ips: tuple[str, ...] = (f"10.{self.subnet}.{host // 250}.{host % 250 + 2}/32",)
        if i % 4 == 1:
            ips += (f"fd00:{self.subnet}::{host:x}/128",)
        if i % 17 == 9:
            ips += (f"192.168.{100 + i % 50}.0/24",)
        endpoint = None
        if kind != "never":
            endpoint = (f"[2001:db8:{i:x}::{rng.randrange(1, 0xffff):x}]:{rng.randrange(1024, 65535)}" if v6
                        else f"{rng.choice(['203.0.113', '198.51.100', '192.0.2'])}.{rng.randrange(1, 254)}:"
                             f"{rng.choice([51820, rng.randrange(1024, 65535)])}")
        handshake = rx = tx = 0
        if kind in ("active", "idle"):
            handshake = int(now - rng.uniform(1, 118))
            rx, tx = rng.randrange(10**5, 10**10), rng.randrange(10**5, 10**9)
        elif kind == "stale":
            handshake = int(now - rng.choice([rng.uniform(200, 3600), rng.uniform(3600, 86400 * 9)]))
            rx, tx = rng.randrange(10**4, 10**9), rng.randrange(10**4, 10**8)
        self.peers[key] = PeerState(public_key=key, endpoint=endpoint, allowed_ips=ips, latest_handshake=handshake,
                                    rx_bytes=rx, tx_bytes=tx, persistent_keepalive=25 if i % 3 == 0 else 0,
                                    has_preshared_key=i % 2 == 0)
        self.sims[key] = (kind, phase, rate, i == 2, i == 3)
        if i % 5 == 4:
            base = f"{demo._SERVICE[(i // 5) % len(demo._SERVICE)]}-{i // 5 + 1}"
        else:
            base = f"{demo._FIRST[i % len(demo._FIRST)]}-{demo._DEVICE[(i * 7 + rng.randrange(3)) % len(demo._DEVICE)]}"
        name = base
        taken = set(self.names.values())
        n = 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        self.names[key] = name


@pytest.mark.parametrize(("seed", "n"), [(7, 0), (7, 1), (7, 40), (8, 3), (7, 2500), (123, 700)])
def test_the_demo_makes_the_same_peers_for_a_seed(seed: int, n: int) -> None:
    now = 1_800_000_000.25
    fast = demo._DemoInterface("wg0", n, 51820, 8, seed, now)
    ref = _ReferenceDemo(n, 8, seed, now)
    assert fast.private_key == ref.private_key
    assert fast.peers == ref.peers and list(fast.peers) == list(ref.peers)
    assert fast.names == ref.names
    assert {k: (s.kind, s.phase, s.mean_rate, s.roaming, s.resets) for k, s in fast.sims.items()} == ref.sims
    assert fast.rng.random() == ref.rng.random()  # the same draws, to the last one
    text = fast.config_text()
    for i, key in enumerate(fast.peers):
        if i != 5 and i % 7 != 3:
            assert f"# friendly_name = {fast.names[key]}\n[Peer]\n# wgtui: key-created=" \
                   f"{stamp(fast.born - ((i * 37) % 150 + 1) * 86400)}\nPublicKey = {key}\n" in text
