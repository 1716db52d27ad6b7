"""Provides the tests of the netlink decoder's fast path: the same result as the generic walk, the same objects back."""

from __future__ import annotations

import base64
import random
import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_nldecode import NESTED, PEER_KEY, PEERS, Peer, build_dump, nl_messages, nla, parse_dump
from wgtui.backends.nldecode import DumpDecoder, decode_dump
from wgtui.backends.nlfixed import fast_ips, fixed_peer
from wgtui.backends.nlsplit import PSK_ATTR, b64
from wgtui.model import InterfaceState, PeerState

PEER_PSK, PEER_HANDSHAKE, PEER_RX, PEER_TX, PEER_ENDPOINT = 2, 6, 7, 8, 4
KERNEL_LIMIT = 32444
"""The largest message of the captured dumps: where the kernel cuts a dump."""


def generic(msgs: list[bytes], ifname: str) -> InterfaceState:
    """The reference: the generic walk alone, on a decoder with nothing cached."""
    decoder = DumpDecoder()
    nests = [(m, off + 4, off + length) for m in msgs for off, length in nest_spans(m)]
    state = decoder.decode(msgs, ifname)
    return InterfaceState(name=state.name, backend=state.backend, up=state.up, public_key=state.public_key,
                          listen_port=state.listen_port, fwmark=state.fwmark, peers=decoder._generic(nests))


def nest_spans(msg: bytes) -> list[tuple[int, int]]:
    spans, off = [], 20
    while off + 4 <= len(msg):
        length, kind = struct.unpack_from("=HH", msg, off)
        if kind & 0x3FFF == PEERS:
            spans.append((off, length))
        off += (length + 3) & ~3
    return spans


def used_fast_path(decoder: DumpDecoder) -> bool:
    return bool(decoder._nests) and not decoder._stamps


def set_attr(peer: Peer, kind: int, payload: bytes) -> Peer:
    own = [(k, payload if k == kind else v) for k, v in peer.own]
    if all(k != kind for k, _ in peer.own):
        own.append((kind, payload))
    return Peer(own, list(peer.ips))


def drop_attr(peer: Peer, kind: int) -> Peer:
    return Peer([(k, v) for k, v in peer.own if k != kind], list(peer.ips))


def ip_entry(family: int, addr: bytes, cidr: int) -> bytes:
    """One allowed IP as the kernel writes it: CIDR, family, address."""
    return nla(NESTED, nla(3, bytes([cidr])) + nla(1, struct.pack("=H", family)) + nla(2, addr))


def endpoint4(host: str, port: int) -> bytes:
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_aton(host) + bytes(8)


@pytest.mark.parametrize(("name", "ifname"), [("kernel-dump-handshake.nl", "wg0"),
                                              ("kernel-dump-split-allowedips.nl", "wgsplit"),
                                              ("kernel-dump-2000-peers.nl", "wgc")])
def test_captured_dumps_take_the_fast_path_and_match_the_generic_walk(name: str, ifname: str) -> None:
    msgs = nl_messages(name)
    decoder = DumpDecoder()
    state = decoder.decode(msgs, ifname)
    assert used_fast_path(decoder)
    assert state == generic(msgs, ifname)
    assert list(state.peers) == list(generic(msgs, ifname).peers)  # the order too


def test_fixed_layout_decoder_refuses_what_it_does_not_know() -> None:
    msgs = nl_messages("kernel-dump-handshake.nl")
    off, length = nest_spans(msgs[0])[0]
    parts = PSK_ATTR.split(msgs[0][off + 4 : off + length])
    key, rest = parts[0][-32:], parts[2]
    assert isinstance(key, bytes) and isinstance(rest, bytes) and parts[1] == b""  # b"": no preshared key
    peer = fixed_peer(b64(key), False, rest, len(rest) - 40, {})
    assert peer is not None and peer.endpoint == "10.99.0.2:51820" and peer.allowed_ips == ("10.98.0.2/32",)
    assert fixed_peer("k", False, rest, len(rest) - 44, {}) is None  # the allowed-IPs nest no longer ends the entry
    assert fixed_peer("k", False, rest[:40], 40, {}) is None
    odd = bytearray(rest)
    odd[0] = 0x18  # a handshake attribute of another length
    assert fixed_peer("k", False, bytes(odd), len(rest) - 40, {}) is None
    v4 = ip_entry(socket.AF_INET, bytes([10, 0, 0, 1]), 32)
    v6 = ip_entry(socket.AF_INET6, bytes(15) + b"\x01", 128)
    assert fast_ips(v4 + v6, 0, len(v4 + v6)) == ["10.0.0.1/32", "::1/128"]
    assert fast_ips(v4 + b"\0" * 4 + v6, 0, len(v4 + v6) + 4) is None  # a gap: not tiled
    padded = bytearray(v4)
    padded[9] = 1  # a non-zero padding byte after the CIDR
    assert fast_ips(bytes(padded), 0, len(padded)) is None


def test_changed_counters_decode_again_and_the_rest_come_back_as_the_same_objects() -> None:
    device, peers = parse_dump(nl_messages("kernel-dump-2000-peers.nl"))
    decoder = DumpDecoder()
    first = decoder.decode(build_dump(device, peers, KERNEL_LIMIT), "wgc")
    changed = {0, 1, 161, 162, 999, 1999}
    for i in changed:
        peers[i] = set_attr(peers[i], PEER_RX, struct.pack("=Q", 1000 + i))
        peers[i] = set_attr(peers[i], PEER_TX, struct.pack("=Q", 2000 + i))
        peers[i] = set_attr(peers[i], PEER_HANDSHAKE, struct.pack("=qq", 1_795_609_490 + i, 7))
    msgs = build_dump(device, peers, KERNEL_LIMIT)
    second = decoder.decode(msgs, "wgc")
    assert used_fast_path(decoder)
    assert second == generic(msgs, "wgc")
    keys = list(first.peers)
    assert {i for i, k in enumerate(keys) if second.peers[k] is not first.peers[k]} == changed
    assert second.peers[keys[999]].rx_bytes == 1999 and second.peers[keys[999]].latest_handshake == 1_795_610_489


def test_a_neighbour_growing_does_not_cost_a_peer_its_object() -> None:
    device, peers = parse_dump(nl_messages("kernel-dump-2000-peers.nl"))
    decoder = DumpDecoder()
    first = decoder.decode(build_dump(device, peers, KERNEL_LIMIT), "wgc")
    # Peer 11 loses its endpoint: its entry shrinks, so the bytes before it (peer 10's piece) change too.
    peers[11] = drop_attr(peers[11], PEER_ENDPOINT)
    msgs = build_dump(device, peers, KERNEL_LIMIT)
    second = decoder.decode(msgs, "wgc")
    assert second == generic(msgs, "wgc")
    keys = list(first.peers)
    assert second.peers[keys[11]].endpoint is None
    assert [i for i, k in enumerate(keys) if second.peers[k] is not first.peers[k]] == [11]


def test_preshared_keys_set_and_removed_are_noticed_without_being_kept() -> None:
    device, peers = parse_dump(nl_messages("kernel-dump-2000-peers.nl"))
    decoder = DumpDecoder()
    first = decoder.decode(build_dump(device, peers, KERNEL_LIMIT), "wgc")
    secret = bytes(range(1, 33))
    peers[5] = set_attr(peers[5], PEER_PSK, secret)
    second = decoder.decode(build_dump(device, peers, KERNEL_LIMIT), "wgc")
    key = list(first.peers)[5]
    assert second.peers[key].has_preshared_key and not first.peers[key].has_preshared_key
    kept = [*decoder._cache, *(p for parts, _ in decoder._nests for p in parts if p)]
    assert kept and all(secret not in piece for piece in kept)
    assert all(secret not in repr(v).encode() for v in decoder._cache.values())
    peers[5] = set_attr(peers[5], PEER_PSK, bytes(32))
    third = decoder.decode(build_dump(device, peers, KERNEL_LIMIT), "wgc")
    assert third.peers[key] == first.peers[key] and third.peers[key] is not second.peers[key]


def test_split_peers_are_merged_exactly_when_either_part_changes() -> None:
    original = nl_messages("kernel-dump-split-allowedips.nl")
    device, peers = parse_dump(original)
    decoder = DumpDecoder()
    first = decoder.decode(original, "wgsplit")
    keys = list(first.peers)
    # The split peer's counters (first entry) change, then one of its allowed IPs in a continuation.
    peers[2] = set_attr(peers[2], PEER_RX, struct.pack("=Q", 77))
    msgs = build_dump(device, peers, KERNEL_LIMIT)
    second = decoder.decode(msgs, "wgsplit")
    assert used_fast_path(decoder)
    assert second == generic(msgs, "wgsplit") and second.peers[keys[2]].rx_bytes == 77
    assert len(second.peers[keys[2]].allowed_ips) == 3000
    assert all(second.peers[k] is first.peers[k] for k in keys if k != keys[2])
    peers[2].ips[2500] = ip_entry(socket.AF_INET, bytes([10, 201, 0, 1]), 32)
    msgs = build_dump(device, peers, KERNEL_LIMIT)
    third = decoder.decode(msgs, "wgsplit")
    assert third == generic(msgs, "wgsplit") and third.peers[keys[2]].allowed_ips[2500] == "10.201.0.1/32"


def test_a_false_match_inside_allowed_ips_sends_the_dump_to_the_generic_walk() -> None:
    """An IPv6 prefix whose bytes read like a preshared-key attribute: the split cannot pass the length check."""
    original = nl_messages("kernel-dump-handshake.nl")
    device, peers = parse_dump(original)
    trap = [ip_entry(socket.AF_INET6, b"\xfd" + bytes(11) + b"\x24\x00\x02\x00", 128),
            ip_entry(socket.AF_INET6, bytes(15) + b"\x07", 128)]
    for victim in (0, 2):  # in the middle of the nest, and in its last entry
        changed = list(peers)
        changed[victim] = Peer(list(peers[victim].own), list(peers[victim].ips) + trap)
        msgs = build_dump(device, changed, KERNEL_LIMIT)
        assert len(PSK_ATTR.findall(msgs[0])) == len(peers) + 1
        decoder = DumpDecoder()
        state = decoder.decode(msgs, "wg0")
        assert not used_fast_path(decoder)
        assert state == generic(msgs, "wg0")
        assert list(state.peers.values())[victim].allowed_ips[-2:] == ("fd00::2400:200/128", "::7/128")
        # Afterwards the same decoder is back on the fast path for a regular dump.
        assert decoder.decode(original, "wg0") == decode_dump(original, "wg0") and used_fast_path(decoder)


def test_a_key_twice_apart_is_merged_by_the_generic_walk() -> None:
    original = nl_messages("kernel-dump-handshake.nl")
    device, peers = parse_dump(original)
    again = Peer([(PEER_KEY, dict(peers[0].own)[PEER_KEY])], [ip_entry(socket.AF_INET, bytes([10, 9, 9, 9]), 32)])
    msgs = build_dump(device, [*peers, again], KERNEL_LIMIT)
    decoder = DumpDecoder()
    state = decoder.decode(msgs, "wg0")
    assert not used_fast_path(decoder) and state == generic(msgs, "wg0")
    assert next(iter(state.peers.values())).allowed_ips == ("10.98.0.2/32", "10.9.9.9/32")
    # The same with a whole first entry twice (preshared key and all): the first one's fields count.
    twice = Peer(list(peers[1].own), [ip_entry(socket.AF_INET, bytes([10, 8, 8, 8]), 32)])
    msgs = build_dump(device, [*peers, twice], KERNEL_LIMIT)
    state = decoder.decode(msgs, "wg0")
    assert not used_fast_path(decoder) and state == generic(msgs, "wg0") and len(state.peers) == 3
    assert list(state.peers.values())[1].allowed_ips[-1] == "10.8.8.8/32"


def test_a_continuation_of_another_peer_sends_the_dump_to_the_generic_walk() -> None:
    msgs = nl_messages("kernel-dump-split-allowedips.nl")
    shuffled = [msgs[1], msgs[0], msgs[2]]  # the first nest now starts with a continuation of nothing before it
    decoder = DumpDecoder()
    state = decoder.decode(shuffled, "wgsplit")
    assert not used_fast_path(decoder) and state == generic(shuffled, "wgsplit")
    assert sorted(state.peers) == sorted(decode_dump(msgs, "wgsplit").peers)


def split_keys(msgs: list[bytes]) -> set[str]:
    """Peers with more than one entry in the dump (the kernel split their allowed IPs across messages)."""
    entries = [dict(p.own)[PEER_KEY] for m in msgs for p in parse_dump([m])[1]]
    return {base64.b64encode(k).decode() for k in entries if entries.count(k) > 1}


def kernel_ordered(peer: Peer) -> Peer:
    """The peer's attributes in the kernel's order, whatever order set_attr left them in."""
    order = [PEER_KEY, PEER_PSK, PEER_HANDSHAKE, 5, PEER_TX, PEER_RX, 10, PEER_ENDPOINT]
    own = dict(peer.own)
    return Peer([(k, own[k]) for k in order if k in own], list(peer.ips))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32), limit=st.sampled_from([2048, 8192, KERNEL_LIMIT]),
       rounds=st.integers(min_value=1, max_value=4))
def test_polls_with_random_changes_match_a_fresh_generic_decode(seed: int, limit: int, rounds: int) -> None:
    rng = random.Random(seed)
    device, split_peers = parse_dump(nl_messages("kernel-dump-split-allowedips.nl"))
    _, small_peers = parse_dump(nl_messages("kernel-dump-2000-peers.nl"))
    peers = [*split_peers[:3], *small_peers[:150], *split_peers[3:]]
    spare = small_peers[150:300]
    decoder = DumpDecoder()
    before = decoder.decode(build_dump(device, peers, limit), "wgsplit")
    assert used_fast_path(decoder)
    for _ in range(rounds):
        for i in rng.sample(range(len(peers)), rng.randrange(0, 8)):
            what = rng.randrange(6)
            if what == 0:
                peers[i] = set_attr(peers[i], PEER_RX, struct.pack("=Q", rng.randrange(2**40)))
            elif what == 1:
                peers[i] = set_attr(peers[i], PEER_PSK, rng.choice([bytes(32), rng.randbytes(32)]))
            elif what == 2:
                peers[i] = kernel_ordered(set_attr(peers[i], PEER_ENDPOINT, endpoint4("203.0.113.9", i + 1)))
            elif what == 3:
                peers[i] = drop_attr(peers[i], PEER_ENDPOINT)
            elif what == 4 and i != 2:
                peers.pop(i)  # a peer removed: the ones after it move
                break
            else:
                peers.insert(i, spare.pop())  # a peer added
                break
        msgs = build_dump(device, peers, limit)
        after = decoder.decode(msgs, "wgsplit")
        reference = generic(msgs, "wgsplit")
        assert after == reference and list(after.peers) == list(reference.peers)
        assert used_fast_path(decoder)
        split = split_keys(msgs)
        for key, peer in after.peers.items():
            # The same object whenever the peer did not change, unless it is split (merged anew every time).
            if before.peers.get(key) == peer:
                assert (peer is before.peers[key]) == (key not in split), key
        before = after


def test_many_peers_moving_at_once_are_looked_up_by_their_bytes() -> None:
    device, peers = parse_dump(nl_messages("kernel-dump-2000-peers.nl"))
    decoder = DumpDecoder()
    first = decoder.decode(build_dump(device, peers, KERNEL_LIMIT), "wgc")
    # 300 peers gone from the front: every message now starts further than the comparison window reaches.
    msgs = build_dump(device, peers[300:], KERNEL_LIMIT)
    second = decoder.decode(msgs, "wgc")
    assert second == generic(msgs, "wgc") and used_fast_path(decoder)
    assert sum(second.peers[k] is not first.peers[k] for k in second.peers) <= len(msgs)  # each message's last
    again = decoder.decode(build_dump(device, peers, KERNEL_LIMIT), "wgc")
    assert again == first


def test_after_a_dump_the_fast_path_could_not_read_the_next_starts_afresh() -> None:
    original = nl_messages("kernel-dump-handshake.nl")
    device, peers = parse_dump(original)
    odd = build_dump(device, peers, KERNEL_LIMIT, reverse=True)  # attributes in another order: the generic walk
    decoder = DumpDecoder()
    assert decoder.decode(odd, "wg0") == decode_dump(original, "wg0") and not used_fast_path(decoder)
    first = original[0]
    off, _ = nest_spans(first)[0]
    bare = bytearray(first[:off])  # the device without its peers nest
    struct.pack_into("=I", bare, 0, len(bare))
    assert decoder.decode([bytes(bare)], "wg0").peers == {}
    assert decoder.decode(original, "wg0") == decode_dump(original, "wg0")


def test_nests_with_no_peers_and_messages_without_a_nest() -> None:
    msgs = nl_messages("kernel-dump-handshake.nl")
    first = msgs[0]
    off, length = nest_spans(first)[0]
    assert len(first) == off + length
    bare = bytearray(first[:off])
    struct.pack_into("=I", bare, 0, len(bare))
    empty = bytes(bare) + nla(PEERS | NESTED, b"")
    empty = struct.pack("=I", len(empty)) + empty[4:]
    decoder = DumpDecoder()
    assert decoder.decode([bytes(bare)], "wg0").peers == {}
    assert decoder.decode([empty, first], "wg0") == decode_dump([first], "wg0")
    assert decoder.decode([empty], "wg0").peers == {}


def test_a_nest_unchanged_twice_is_checked_in_place_and_key_changes_still_show(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from wgtui.backends import nldecode

    device, peers = parse_dump(nl_messages("kernel-dump-2000-peers.nl"))
    for i in (3, 4, 700):
        peers[i] = set_attr(peers[i], PEER_PSK, bytes(range(100 + i % 7, 132 + i % 7)))
    decoder = DumpDecoder()
    first = decoder.decode(build_dump(device, peers, KERNEL_LIMIT), "wgc")
    decoder.decode(build_dump(device, peers, KERNEL_LIMIT), "wgc")  # unchanged once: each nest gets a layout
    splits: list[int] = []
    real_split = nldecode._split

    def counted(msg: bytes, start: int, end: int) -> list[bytes | None]:
        splits.append(start)
        return real_split(msg, start, end)

    monkeypatch.setattr(nldecode, "_split", counted)
    third = decoder.decode(build_dump(device, peers, KERNEL_LIMIT), "wgc")
    assert splits == [] and all(third.peers[k] is first.peers[k] for k in first.peers)
    keys = list(first.peers)

    def poll(changed: dict[int, bytes]) -> InterfaceState:
        for i, psk in changed.items():
            peers[i] = set_attr(peers[i], PEER_PSK, psk)
        msgs = build_dump(device, peers, KERNEL_LIMIT)
        state = decoder.decode(msgs, "wgc")
        assert state == generic(msgs, "wgc")
        return state

    # Another value, still set (one that holds a preshared-key header, too): nothing to report, the same objects.
    other = poll({3: b"\x24\x00\x02\x00" * 8, 700: bytes(range(1, 33))})
    assert all(other.peers[k] is first.peers[k] for k in keys)
    removed = poll({4: bytes(32)})  # a key removed
    assert not removed.peers[keys[4]].has_preshared_key and removed.peers[keys[3]] is first.peers[keys[3]]
    poll({})
    added = poll({5: bytes(range(7, 39))})  # a key set where there was none, after an unchanged poll
    assert added.peers[keys[5]].has_preshared_key and added.peers[keys[4]] is removed.peers[keys[4]]


def test_states_made_positionally_are_ordinary_frozen_peer_states() -> None:
    from dataclasses import FrozenInstanceError, astuple

    from wgtui.backends.nlfixed import new_state

    values = ("k", "192.0.2.1:51820", ("10.0.0.1/32",), 1_700_000_000, 5, 6, 25, True)
    made, usual = new_state(*values), PeerState(*values)
    assert type(made) is PeerState and made == usual and hash(made) == hash(usual) and astuple(made) == values
    assert made != PeerState(*values[:-1], False)
    with pytest.raises(FrozenInstanceError):
        made.endpoint = None  # type: ignore[misc]
