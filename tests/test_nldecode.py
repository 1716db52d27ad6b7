"""Provides the root-free tests of the netlink decoder (real dumps, re-split copies) and of NetlinkBackend's I/O."""

from __future__ import annotations

import base64
import errno
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wgtui import keys
from wgtui.backends import netlink as nl
from wgtui.backends.base import BackendError, InterfaceGone, NotPermitted, NoWireGuard
from wgtui.backends.nldecode import (
    DumpDecoder,
    DumpInterrupted,
    MalformedDump,
    decode_dump,
    find_preshared_key,
    is_interrupted,
    split_messages,
)
from wgtui.model import KEEP, InterfaceState, PeerUpdate

DATA = Path(__file__).parent / "data"
HDR = struct.Struct("=IHHII")
NESTED = 0x8000
PEERS, PEER_KEY, PEER_PSK, PEER_RX, PEER_IPS = 8, 1, 2, 7, 9
WG_FAMILY = 32  # the id the capturing guest gave the wireguard family


def nl_messages(name: str) -> list[bytes]:
    """The messages of a .nl file, cut by nlmsg_len (independently of the code under test)."""
    data = (DATA / name).read_bytes()
    out, off = [], 0
    while off < len(data):
        (length,) = struct.unpack_from("=I", data, off)
        assert length >= 20 and length % 4 == 0
        out.append(data[off : off + length])
        off += length
    return out


def expected(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / name).read_text())
    return doc


def assert_matches(state: InterfaceState, ref: dict[str, Any]) -> None:
    assert state.name == ref["ifname"]
    assert state.backend == "kernel"
    assert state.public_key == ref["public_key"]
    assert state.listen_port == ref["listen_port"]
    assert state.fwmark == ref["fwmark"]
    assert list(state.peers) == [p["public_key"] for p in ref["peers"]]
    for peer, want in zip(state.peers.values(), ref["peers"], strict=True):
        assert peer.public_key == want["public_key"]
        assert peer.has_preshared_key == (want["preshared_key"] is not None), peer.public_key
        assert peer.endpoint == want["endpoint"], peer.public_key
        assert list(peer.allowed_ips) == want["allowed_ips"], peer.public_key
        assert peer.latest_handshake == want["latest_handshake"], peer.public_key
        assert peer.rx_bytes == want["rx_bytes"], peer.public_key
        assert peer.tx_bytes == want["tx_bytes"], peer.public_key
        assert peer.persistent_keepalive == want["persistent_keepalive"], peer.public_key
        if want["preshared_key"]:
            assert want["preshared_key"] not in repr(peer)


# -- the real dumps --------------------------------------------------------------------------------------------


def test_split_messages_cuts_like_nlmsg_len() -> None:
    for name, count in [("kernel-dump-handshake.nl", 1), ("kernel-dump-split-allowedips.nl", 3),
                        ("kernel-dump-2000-peers.nl", 12)]:
        msgs = nl_messages(name)
        assert len(msgs) == count
        assert split_messages((DATA / name).read_bytes()) == msgs
    with pytest.raises(MalformedDump):
        split_messages((DATA / "kernel-dump-handshake.nl").read_bytes()[:-4])


def test_handshake_dump_matches_wg_show_dump() -> None:
    state = decode_dump(nl_messages("kernel-dump-handshake.nl"), "wg0")
    assert_matches(state, expected("handshake.expected.json"))
    first, second, third = state.peers.values()
    assert (first.endpoint, first.latest_handshake, first.rx_bytes, first.tx_bytes) == (
        "10.99.0.2:51820", 1795609490, 604, 692)
    assert second.endpoint == "[fd00::5]:51820" and second.has_preshared_key
    assert second.allowed_ips == ("10.98.5.0/24", "fd98:5::/64")
    assert third.endpoint is None and third.allowed_ips == () and not third.has_preshared_key


def test_split_allowedips_dump_merges_the_split_peer() -> None:
    msgs = nl_messages("kernel-dump-split-allowedips.nl")
    assert [len(m) for m in msgs] == [32444, 32436, 20372]
    state = decode_dump(msgs, "wgsplit")
    ref = expected("split-allowedips.expected.json")
    assert_matches(state, ref)
    assert len(state.peers) == 5
    split = list(state.peers.values())[2]
    assert split.endpoint == "192.0.2.3:51820"  # only the first of its three entries has one
    assert split.allowed_ips == tuple(f"10.200.{i // 256}.{i % 256}/32" for i in range(3000))
    assert state.fwmark == 0x42


def test_2000_peer_dump_matches_its_documented_content() -> None:
    msgs = nl_messages("kernel-dump-2000-peers.nl")
    assert len(msgs) == 12 and len(msgs[-1]) == 20328
    state = decode_dump(msgs, "ignored")
    assert (state.name, state.listen_port, state.fwmark, state.public_key) == ("wgc", 51822, 0, None)
    assert len(state.peers) == 2000
    for i, peer in enumerate(state.peers.values()):
        assert peer.endpoint == f"127.0.0.1:{20000 + i}"
        assert peer.allowed_ips == (f"10.100.{i // 256}.{i % 256}/32",)
        assert not peer.has_preshared_key
        assert (peer.latest_handshake, peer.rx_bytes, peer.tx_bytes, peer.persistent_keepalive) == (0, 0, 0, 0)
        assert keys.is_key(peer.public_key)


def test_find_preshared_key_reads_only_the_named_peer() -> None:
    msgs = nl_messages("kernel-dump-handshake.nl")
    ref = expected("handshake.expected.json")["peers"]
    assert find_preshared_key(msgs, keys.parse_key(ref[1]["public_key"])) == keys.parse_key(ref[1]["preshared_key"])
    assert find_preshared_key(msgs, keys.parse_key(ref[0]["public_key"])) is None  # zero bytes
    assert find_preshared_key(msgs, bytes(32)) is None


# -- incremental decoding ------------------------------------------------------------------------------------


def peer_entries(msg: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each peer entry in one message."""
    off = 20
    while off < len(msg):
        length, kind = struct.unpack_from("=HH", msg, off)
        if kind & 0x3FFF == PEERS:
            p = off + 4
            while p < off + length:
                elen = struct.unpack_from("=H", msg, p)[0]
                yield p, p + elen
                p += (elen + 3) & ~3
        off += (length + 3) & ~3


def with_rx(msg: bytes, entry_index: int, rx: int) -> bytes:
    """The message with the RX counter of one peer entry replaced."""
    start, end = list(peer_entries(msg))[entry_index]
    off, data = start + 4, bytearray(msg)
    while off < end:
        length, kind = struct.unpack_from("=HH", data, off)
        if kind == PEER_RX:
            struct.pack_into("=Q", data, off + 4, rx)
            return bytes(data)
        off += (length + 3) & ~3
    raise AssertionError("no RX attribute")


def test_cache_returns_the_same_objects_for_unchanged_peers() -> None:
    msgs = nl_messages("kernel-dump-2000-peers.nl")
    decoder = DumpDecoder()
    first = decoder.decode(msgs, "wgc")
    second = decoder.decode([bytes(m) for m in msgs], "wgc")  # equal bytes, new objects
    assert first == second
    assert all(second.peers[k] is first.peers[k] for k in first.peers)

    changed = list(msgs)
    changed[3] = with_rx(msgs[3], 5, 12345)
    third = decoder.decode(changed, "wgc")
    moved = [k for k in third.peers if third.peers[k] is not second.peers[k]]
    assert len(moved) == 1
    assert third.peers[moved[0]].rx_bytes == 12345
    assert third.peers[moved[0]].endpoint == second.peers[moved[0]].endpoint


def test_cache_keeps_no_preshared_key_but_notices_one_being_set_or_removed() -> None:
    msgs = nl_messages("kernel-dump-handshake.nl")
    ref = json.loads((DATA / "handshake.expected.json").read_text())
    psk = next(base64.b64decode(p["preshared_key"]) for p in ref["peers"] if p["preshared_key"])
    decoder = DumpDecoder()
    first = decoder.decode(msgs, "wg0")
    assert decoder._cache and all(psk not in repr(cached).encode() for cached in decoder._cache.values())
    # The same dump with that peer's PSK zeroed (removed at runtime): the peer is decoded again.
    zeroed = [m.replace(psk, bytes(32)) for m in msgs]
    second = decoder.decode(zeroed, "wg0")
    (key,) = [k for k, p in first.peers.items() if p.has_preshared_key]
    assert second.peers[key] is not first.peers[key] and not second.peers[key].has_preshared_key


def test_cache_forgets_peers_that_left_and_decodes_split_peers_afresh() -> None:
    msgs = nl_messages("kernel-dump-split-allowedips.nl")
    decoder = DumpDecoder()
    a = decoder.decode(msgs, "wgsplit")
    b = decoder.decode(msgs, "wgsplit")
    keys_ = list(a.peers)
    assert b.peers[keys_[0]] is a.peers[keys_[0]]
    assert b.peers[keys_[2]] == a.peers[keys_[2]]
    assert b.peers[keys_[2]] is not a.peers[keys_[2]]  # split peer: not cached

    hs = decoder.decode(nl_messages("kernel-dump-handshake.nl"), "wg0")  # a different dump replaces the cache
    assert len(hs.peers) == 3
    c = decoder.decode(msgs, "wgsplit")
    assert c == a and c.peers[keys_[0]] is not a.peers[keys_[0]]


# -- re-splitting and reordering: a kernel-like encoder --------------------------------------------------------


def attrs(buf: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, bytes]]:
    end = len(buf) if end is None else end
    out = []
    while start < end:
        length, kind = struct.unpack_from("=HH", buf, start)
        out.append((kind, buf[start + 4 : start + length]))
        start += (length + 3) & ~3
    return out


def nla(kind: int, payload: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(payload), kind) + payload
    return raw + bytes(-len(raw) % 4)


@dataclass
class Peer:
    own: list[tuple[int, bytes]]
    ips: list[bytes] = field(default_factory=list)  # each one encoded allowed-IP entry


def parse_dump(msgs: list[bytes]) -> tuple[list[tuple[int, bytes]], list[Peer]]:
    device: list[tuple[int, bytes]] = []
    peers: list[Peer] = []
    for i, msg in enumerate(msgs):
        for kind, payload in attrs(msg, 20):
            if kind & 0x3FFF != PEERS:
                assert i == 0
                device.append((kind, payload))
                continue
            for _, entry in attrs(payload):
                own = [(k, v) for k, v in attrs(entry) if k & 0x3FFF != PEER_IPS]
                ips = [nla(k, v) for kk, vv in attrs(entry) if kk & 0x3FFF == PEER_IPS for k, v in attrs(vv)]
                key = dict(own)[PEER_KEY]
                if peers and dict(peers[-1].own)[PEER_KEY] == key:
                    peers[-1].ips += ips
                else:
                    peers.append(Peer(own, ips))
    return device, peers


def build_dump(device: list[tuple[int, bytes]], peers: list[Peer], limit: int, *, reverse: bool = False,
               empty_nest_for: int | None = None, flags: int = 0x2) -> list[bytes]:
    """Messages of at most `limit` bytes, split the way the kernel splits them (README rules)."""
    order = (lambda xs: list(reversed(xs))) if reverse else list
    dev = b"".join(nla(k, v) for k, v in order(device))
    msgs: list[bytes] = []
    entries: list[bytes] = []

    def size() -> int:
        return 20 + (len(dev) if not msgs else 0) + 4 + sum(len(e) for e in entries)

    def flush() -> None:
        body = (dev if not msgs else b"") + (nla(PEERS | NESTED, b"".join(entries)) if entries else b"")
        msgs.append(HDR.pack(20 + len(body), WG_FAMILY, flags, 1, 1) + bytes((0, 1, 0, 0)) + body)
        entries.clear()

    for index, peer in enumerate(peers):
        key = dict(peer.own)[PEER_KEY]
        own = b"".join(nla(k, v) for k, v in order(peer.own))
        ips = [nla(NESTED, b"".join(nla(k, v) for k, v in order(attrs(ip, 4)))) for ip in peer.ips]
        first, rest = True, ips
        while True:
            head = own if first else nla(PEER_KEY, key)
            fixed = 4 + len(head) + (4 if rest else 0)
            if size() + fixed > limit:
                assert entries or msgs, "limit too small for a single peer"
                flush()
                continue
            take = 0
            room = limit - size() - fixed
            if not (first and index == empty_nest_for):
                while take < len(rest) and len(rest[take]) <= room:
                    room -= len(rest[take])
                    take += 1
            body = head + (nla(PEER_IPS | NESTED, b"".join(rest[:take])) if rest else b"")
            entries.append(nla(NESTED, body))
            rest, first = rest[take:], False
            if not rest:
                break
            flush()
    flush()
    return msgs


@pytest.mark.parametrize("name", ["kernel-dump-handshake.nl", "kernel-dump-split-allowedips.nl"])
def test_encoder_reproduces_the_kernel_layout(name: str) -> None:
    msgs = nl_messages(name)
    device, peers = parse_dump(msgs)
    rebuilt = build_dump(device, peers, max(len(m) for m in msgs))
    assert [m[16:] for m in rebuilt] == [m[16:] for m in msgs]  # all but seq/pid


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=st.integers(min_value=400, max_value=40000), reverse=st.booleans())
def test_other_message_boundaries_and_attribute_order_decode_the_same(limit: int, reverse: bool) -> None:
    original = nl_messages("kernel-dump-split-allowedips.nl")
    want = decode_dump(original, "wgsplit")
    device, peers = parse_dump(original)
    msgs = build_dump(device, peers, limit, reverse=reverse)
    assert len(msgs) >= 85252 // limit
    assert decode_dump(msgs, "wgsplit") == want


@pytest.mark.parametrize("peer", [0, 2, 3])
def test_an_empty_allowedips_nest_before_a_split_is_harmless(peer: int) -> None:
    original = nl_messages("kernel-dump-split-allowedips.nl")
    device, peers = parse_dump(original)
    msgs = build_dump(device, peers, 32444, empty_nest_for=peer)
    assert any(struct.pack("=HH", 4, PEER_IPS | NESTED) in m for m in msgs)
    assert decode_dump(msgs, "wgsplit") == decode_dump(original, "wgsplit")
    decoder = DumpDecoder()
    assert decoder.decode(msgs, "wgsplit") == decoder.decode(msgs, "wgsplit")


def test_2000_peers_resplit_small_decode_the_same() -> None:
    original = nl_messages("kernel-dump-2000-peers.nl")
    device, peers = parse_dump(original)
    msgs = build_dump(device, peers, 4096, reverse=True)
    assert len(msgs) > 90
    assert decode_dump(msgs, "wgc") == decode_dump(original, "wgc")


def test_dump_intr_is_detected() -> None:
    msgs = nl_messages("kernel-dump-split-allowedips.nl")
    assert not is_interrupted(msgs)
    flagged = [msgs[0], msgs[1][:6] + struct.pack("=H", 0x2 | 0x10) + msgs[1][8:], msgs[2]]
    assert is_interrupted(flagged)
    with pytest.raises(DumpInterrupted):
        DumpDecoder().decode(flagged, "wgsplit")


def test_malformed_attributes_raise_a_backend_error() -> None:
    msg = bytearray(nl_messages("kernel-dump-handshake.nl")[0])
    struct.pack_into("=H", msg, 20, 200)  # the first device attribute claims more than the message holds
    with pytest.raises(MalformedDump):
        decode_dump([bytes(msg)], "wg0")
    assert issubclass(MalformedDump, BackendError)


# -- the backend's reading path against a scripted kernel ---------------------------------------------------


class FakeKernel:
    """Stands in for socket.socket(AF_NETLINK, ...): answers each request like the kernel would."""

    def __init__(self, dumps: list[list[bytes]], *, family_errno: int = 0, dump_errno: int = 0,
                 link_up: bool = True) -> None:
        self.dumps = dumps
        self.family_errno, self.dump_errno, self.link_up = family_errno, dump_errno, link_up
        self.pending: list[bytes] = []
        self.requests: list[int] = []

    def __call__(self, *args: Any) -> FakeKernel:
        return self

    def settimeout(self, t: float) -> None: ...

    def bind(self, addr: Any) -> None: ...

    def close(self) -> None: ...

    def _msg(self, mtype: int, flags: int, seq: int, payload: bytes) -> bytes:
        return HDR.pack(16 + len(payload), mtype, flags, seq, 7) + payload

    def _error(self, seq: int, code: int) -> bytes:
        return self._msg(2, 0, seq, struct.pack("=i", -code) + bytes(16))

    def send(self, data: bytes) -> int:
        _, mtype, _, seq, _ = HDR.unpack_from(data)
        self.requests.append(mtype)
        self.pending.append(self._msg(2, 0, seq - 1, struct.pack("=i", 0) + bytes(16)))  # stale: other seq
        if mtype == 0x10:
            if self.family_errno:
                self.pending.append(self._error(seq, self.family_errno))
            else:
                payload = bytes((1, 2, 0, 0)) + nla(1, struct.pack("=H", WG_FAMILY)) + nla(2, b"wireguard\0")
                self.pending.append(self._msg(0x10, 0, seq, payload))
        elif mtype == 18:
            link = struct.pack("=BxHiII", 0, 65534, 3, 0x1000 | int(self.link_up), 0xFFFFFFFF)  # IFF_UP is bit 0
            link += nla(3, b"wg0\0") + nla(18 | NESTED, nla(1, b"wireguard\0"))
            self.pending.append(self._msg(16, 0, seq, link))
        elif mtype == WG_FAMILY:
            if self.dump_errno:
                self.pending.append(self._error(seq, self.dump_errno))
                return len(data)
            msgs = [HDR.pack(len(m), WG_FAMILY, HDR.unpack_from(m)[2], seq, 7) + m[16:] for m in self.dumps.pop(0)]
            done = self._msg(3, 0x2, seq, struct.pack("=i", 0))
            self.pending += [*msgs[:-1], msgs[-1] + done]  # DONE shares the last datagram
        return len(data)

    def recvmsg_into(self, buffers: list[bytearray]) -> tuple[int, list[Any], int, Any]:
        data = self.pending.pop(0)
        buffers[0][: len(data)] = data
        return len(data), [], 0, (0, 0)


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeKernel]]:
    made: list[FakeKernel] = []
    monkeypatch.setattr("wgtui.backends.netlink.socket.socket", lambda *a: made[0])
    yield made


def test_backend_reads_through_the_socket(kernel: list[FakeKernel]) -> None:
    msgs = nl_messages("kernel-dump-handshake.nl")
    kernel.append(FakeKernel([msgs, msgs], link_up=False))
    backend = nl.NetlinkBackend()
    first = backend.read("wg0")
    assert_matches(first, expected("handshake.expected.json"))
    assert first.up is False
    kernel[0].link_up = True
    second = backend.read("wg0")
    assert second.up is True
    assert all(second.peers[k] is first.peers[k] for k in first.peers)
    assert kernel[0].requests.count(0x10) == 1  # the family id is asked for once
    backend.close()


def test_backend_retries_an_interrupted_dump(kernel: list[FakeKernel]) -> None:
    msgs = nl_messages("kernel-dump-split-allowedips.nl")
    flagged = [msgs[0], msgs[1][:6] + struct.pack("=H", 0x12) + msgs[1][8:], msgs[2]]
    kernel.append(FakeKernel([flagged, flagged, msgs]))
    state = nl.NetlinkBackend().read("wgsplit")
    assert_matches(state, expected("split-allowedips.expected.json"))
    assert kernel[0].requests.count(WG_FAMILY) == 3

    kernel[0] = FakeKernel([flagged] * nl.DUMP_ATTEMPTS)
    with pytest.raises(BackendError, match="kept changing"):
        nl.NetlinkBackend().read("wgsplit")


@pytest.mark.parametrize(("code", "error", "words"), [
    (errno.ENODEV, InterfaceGone, "does not exist"),
    (errno.ENOENT, InterfaceGone, "does not exist"),
    (errno.EPERM, NotPermitted, "CAP_NET_ADMIN"),
    (errno.EACCES, NotPermitted, "sudo wgtui"),
    (errno.EOPNOTSUPP, BackendError, "not a kernel WireGuard interface"),
    (errno.EIO, BackendError, "Input/output error"),
])
def test_backend_maps_kernel_errors(kernel: list[FakeKernel], code: int, error: type[Exception],
                                    words: str) -> None:
    kernel.append(FakeKernel([], dump_errno=code))
    with pytest.raises(error, match=words) as info:
        nl.NetlinkBackend().read("wg0")
    assert type(info.value) is error
    if error is NotPermitted:
        assert str(info.value).startswith("Reading WireGuard state needs CAP_NET_ADMIN")


def test_backend_without_the_module(kernel: list[FakeKernel]) -> None:
    kernel.append(FakeKernel([], family_errno=errno.ENOENT))
    with pytest.raises(NoWireGuard, match="modprobe wireguard"):
        nl.NetlinkBackend().read("wg0")


def test_backend_on_this_host_kernel() -> None:
    """Real sockets: listing links needs no privilege; a missing interface or module is reported as such."""
    backend = nl.NetlinkBackend()
    names = backend.interfaces()
    assert names == sorted(names)
    try:
        backend.read("wgtui-nothere")
    except NoWireGuard:
        assert names == []  # no module, so no link can be of kind wireguard
    except InterfaceGone:
        pass
    else:
        raise AssertionError("reading a missing interface succeeded")
    assert backend._link_up("lo") is True  # the loopback link is always up
    with pytest.raises(InterfaceGone):
        backend._link_up("wgtui-nothere")
    backend.close()
    assert "lo" not in names


# -- writing: PeerUpdate -> pyroute2 WireGuard.set(peer=...) ---------------------------------------------------

KEY = keys.keypair()[1]


def test_peer_calls_send_only_what_changes() -> None:
    assert nl.peer_calls(PeerUpdate(KEY)) == [{"public_key": KEY}]
    assert nl.peer_calls(PeerUpdate(KEY, remove=True, persistent_keepalive=5)) == [
        {"public_key": KEY, "remove": True}]
    psk = keys.generate_preshared_key()
    (call,) = nl.peer_calls(PeerUpdate(KEY, preshared_key=psk, endpoint="[fd00::5]:51820", persistent_keepalive=0))
    assert call == {"public_key": KEY, "preshared_key": psk, "endpoint_addr": "fd00::5", "endpoint_port": 51820,
                    "persistent_keepalive": 0}
    (call,) = nl.peer_calls(PeerUpdate(KEY, preshared_key=None, endpoint="192.0.2.1:1"))
    assert call["preshared_key"] == keys.ZERO_KEY and call["endpoint_addr"] == "192.0.2.1"
    assert "persistent_keepalive" not in call and "allowed_ips" not in call


def test_peer_calls_replace_allowed_ips_in_chunks() -> None:
    (call,) = nl.peer_calls(PeerUpdate(KEY, allowed_ips=()))
    assert call == {"public_key": KEY, "replace_allowed_ips": True}
    (call,) = nl.peer_calls(PeerUpdate(KEY, allowed_ips=("10.0.0.5/24", "fd00::1/64")))
    assert call["allowed_ips"] == ["10.0.0.0/24", "fd00::/64"] and call["replace_allowed_ips"] is True
    ips = tuple(f"10.200.{i // 256}.{i % 256}/32" for i in range(2500))
    calls = nl.peer_calls(PeerUpdate(KEY, allowed_ips=ips, persistent_keepalive=KEEP))
    assert [len(c["allowed_ips"]) for c in calls] == [1000, 1000, 500]
    assert calls[0]["replace_allowed_ips"] is True
    assert all("replace_allowed_ips" not in c for c in calls[1:])
    assert [ip for c in calls for ip in c["allowed_ips"]] == list(ips)


@pytest.mark.parametrize("update", [
    PeerUpdate("not-a-key"),
    PeerUpdate(KEY, preshared_key="short"),
    PeerUpdate(KEY, endpoint="192.0.2.1"),
    PeerUpdate(KEY, endpoint="192.0.2.1:70000"),
    PeerUpdate(KEY, endpoint="fd00::5:51820"),
    PeerUpdate(KEY, persistent_keepalive=70000),
    PeerUpdate(KEY, allowed_ips=("10.0.0.0/33",)),
])
def test_peer_calls_refuse_bad_input(update: PeerUpdate) -> None:
    with pytest.raises(BackendError):
        nl.peer_calls(update)


def test_apply_validates_every_update_before_sending_any(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []

    class FakeWireGuard:
        def set(self, ifname: str, peer: dict[str, Any]) -> None:
            sent.append(peer)

        def close(self) -> None: ...

    backend = nl.NetlinkBackend()
    monkeypatch.setattr(backend, "_wireguard", lambda: FakeWireGuard())
    with pytest.raises(BackendError):
        backend.apply("wg0", [PeerUpdate(KEY, persistent_keepalive=1), PeerUpdate(KEY, endpoint="nope")])
    assert sent == []
    backend.apply("wg0", [PeerUpdate(KEY, persistent_keepalive=0), PeerUpdate(KEY, remove=True)])
    assert sent == [{"public_key": KEY, "persistent_keepalive": 0}, {"public_key": KEY, "remove": True}]


def test_apply_maps_kernel_refusals_and_says_what_was_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyroute2.netlink.exceptions import NetlinkError

    class RefusingWireGuard:
        def __init__(self, code: int, after: int) -> None:
            self.code, self.after = code, after

        def set(self, ifname: str, peer: dict[str, Any]) -> None:
            if self.after == 0:
                raise NetlinkError(self.code)
            self.after -= 1

        def close(self) -> None: ...

    backend = nl.NetlinkBackend()
    two = [PeerUpdate(KEY, persistent_keepalive=1), PeerUpdate(KEY, persistent_keepalive=2)]
    monkeypatch.setattr(backend, "_wireguard", lambda: RefusingWireGuard(errno.EPERM, 0))
    with pytest.raises(NotPermitted, match=r"^Changing WireGuard state needs CAP_NET_ADMIN.*sudo wgtui`\)\.$"):
        backend.apply("wg0", two)
    monkeypatch.setattr(backend, "_wireguard", lambda: RefusingWireGuard(errno.ENODEV, 1))
    with pytest.raises(InterfaceGone, match="already in effect"):
        backend.apply("wg0", two)
