"""Provides a fast, incremental decoder of the kernel's WireGuard netlink dump (WG_CMD_GET_DEVICE) into state."""

from __future__ import annotations

import base64
import gc
import struct
from collections.abc import Iterable, Mapping
from operator import attrgetter

from wgtui.backends.base import BackendError
from wgtui.backends.nlfixed import fast_ips
from wgtui.backends.nlgeneric import (
    WGDEVICE_A_FWMARK,
    WGDEVICE_A_IFNAME,
    WGDEVICE_A_LISTEN_PORT,
    WGDEVICE_A_PEERS,
    WGDEVICE_A_PRIVATE_KEY,
    WGDEVICE_A_PUBLIC_KEY,
    WGPEER_A_ALLOWEDIPS,
    WGPEER_A_PRESHARED_KEY,
    MalformedDump,
    allowed_ips,
    collect_entries,
    decode_peer,
    entry_key,
    format_endpoint,
    stamp,
    walk,
)
from wgtui.backends.nlsplit import (
    PSK_ATTR,
    Earlier,
    Irregular,
    Layout,
    NestMatch,
    match_nest,
)
from wgtui.model import InterfaceState, PeerState

# Netlink framing (linux/netlink.h) and the generic netlink header that follows it.
NLMSG_HDR = struct.Struct("=IHHII")
GENL_HDR_LEN = 4
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_MIN_TYPE = 0x10
NLM_F_MULTI = 0x2
NLM_F_DUMP_INTR = 0x10

WG_CMD_GET_DEVICE = 0
"""linux/wireguard.h; the attributes are in nlgeneric."""
_NLA = struct.Struct("=HH")
_U16 = struct.Struct("=H")
_U32 = struct.Struct("=I")
_ZERO_KEY = bytes(32)
_PUBLIC_KEY = attrgetter("public_key")

__all__ = ["DumpDecoder", "DumpInterrupted", "MalformedDump", "decode_dump", "find_preshared_key",
           "find_private_key", "format_endpoint", "is_interrupted", "split_messages"]


class DumpInterrupted(BackendError):
    """The kernel flagged the dump NLM_F_DUMP_INTR: peers changed while it was read, so it must be read again."""

    def __init__(self) -> None:
        super().__init__("The WireGuard state changed while it was being read; it has to be read again.")


def split_messages(data: bytes) -> list[bytes]:
    """Cuts a byte stream of concatenated netlink messages (one datagram, or a .nl file) at each nlmsg_len."""
    messages = []
    off, end = 0, len(data)
    while off + NLMSG_HDR.size <= end:
        length = NLMSG_HDR.unpack_from(data, off)[0]
        if length < NLMSG_HDR.size or off + length > end:
            raise MalformedDump(f"A netlink message at byte {off} claims {length} bytes; the data is cut short.")
        messages.append(data[off : off + length])
        # nlmsg_len excludes the alignment padding that separates messages in one datagram.
        off += (length + 3) & ~3
    return messages


def is_interrupted(messages: Iterable[bytes]) -> bool:
    return any(NLMSG_HDR.unpack_from(m)[2] & NLM_F_DUMP_INTR for m in messages)


class DumpDecoder:
    """Decodes successive dumps of one interface, reusing the PeerState of every peer whose bytes are unchanged.

    Idle peers dominate large interfaces, so an unchanged peer must cost no Python bytecode of its own: the kernel's
    layout is cut into peers by one regex pass per message (nlsplit.PSK_ATTR, which also drops the preshared keys),
    a message that stays unchanged is then checked in place without the regex (nlsplit.Layout), and in a changed one
    the pieces are compared with the previous dump's in C (map), so that only the peers whose bytes changed are
    decoded. Dumps laid out otherwise go through
    the generic walk (nlgeneric), which gives the same result. What is kept holds only the latest dump's peers and no
    preshared key; a peer split across messages is merged (so a new object) every time.
    """

    def __init__(self) -> None:
        self._nests: list[tuple[list[bytes | None], NestMatch]] = []
        """Each nest of the latest dump, split, with what was found in it: an unchanged nest costs one comparison."""
        self._stamps: dict[bytes, tuple[tuple[bytes, bool], PeerState]] = {}
        self._peers: Mapping[str, PeerState] = {}
        self._ips: dict[bytes, tuple[str, ...]] = {}
        """Allowed IPs by their nest's bytes (no secret in them), for peers decoded again (nlfixed.fixed_peer)."""
        self._continued: dict[bytes, tuple[str, ...]] = {}
        """Allowed IPs of continuation entries (a split peer's later parts) by their bytes."""

    def clear(self) -> None:
        self._nests, self._stamps, self._peers, self._ips, self._continued = [], {}, {}, {}, {}

    @property
    def _cache(self) -> dict[bytes, tuple[PeerState, bytes, bytes | None, int, bytes | None]]:
        """What each piece of the latest dump said, by its bytes: for tests to see what is kept (no secret)."""
        return {piece: (state, own, flag, need, nxt) for _, found in self._nests
                for piece, state, own, flag, need, nxt in zip(
                    found.pieces, found.states, found.owns, found.flags, found.wants, found.nexts, strict=True)}

    def decode(
        self, messages: Iterable[bytes], ifname: str, *, up: bool = True, backend: str = "kernel"
    ) -> InterfaceState:
        """The interface described by the data messages of one dump (NLMSG_DONE/NOOP are skipped)."""
        name = ifname
        public_key: str | None = None
        listen_port = fwmark = 0
        seen_device = False
        nests: list[tuple[bytes, int, int]] = []
        for msg in messages:
            length, mtype, flags, _, _ = NLMSG_HDR.unpack_from(msg)
            if flags & NLM_F_DUMP_INTR:
                raise DumpInterrupted()
            if mtype == NLMSG_ERROR:
                raise MalformedDump("The dump contains a netlink error message; the reader should have raised it.")
            if mtype < NLMSG_MIN_TYPE:
                continue
            start = NLMSG_HDR.size + GENL_HDR_LEN
            if length > len(msg) or length < start:
                raise MalformedDump(f"A netlink message claims {length} bytes but holds {len(msg)}.")
            for kind, p, q in walk(msg, start, length):
                if kind == WGDEVICE_A_PEERS:
                    nests.append((msg, p, q))
                    continue
                # Device attributes come only in the first message of a dump.
                if seen_device:
                    continue
                if kind == WGDEVICE_A_LISTEN_PORT:
                    listen_port = _U16.unpack_from(msg, p)[0]
                elif kind == WGDEVICE_A_FWMARK:
                    fwmark = _U32.unpack_from(msg, p)[0]
                elif kind == WGDEVICE_A_PUBLIC_KEY and q - p == 32:
                    public_key = base64.b64encode(msg[p:q]).decode()
                elif kind == WGDEVICE_A_IFNAME:
                    name = msg[p:q].split(b"\0", 1)[0].decode(errors="replace") or ifname
            seen_device = True
        # The cyclic collector paused: a poll makes thousands of small objects and no cycle, and its young passes
        # over them (and the lists that hold them) cost a tenth of a poll where peers changed.
        collecting = gc.isenabled()
        gc.disable()
        try:
            try:
                peers = self._fast(nests)
            except (Irregular, MalformedDump):
                peers = self._generic(nests)
        finally:
            if collecting:
                gc.enable()
        self._peers = peers
        return InterfaceState(
            name=name,
            backend=backend,
            up=up,
            public_key=public_key,
            listen_port=listen_port,
            fwmark=fwmark,
            peers=peers,
        )

    def _fast(self, nests: list[tuple[bytes, int, int]]) -> dict[str, PeerState]:
        """The peers of a dump in the kernel's layout; raises Irregular for any other layout."""
        previous, before = self._peers, self._nests
        earlier = Earlier([found for _, found in before])
        found_nests: list[tuple[list[bytes | None], NestMatch]] = []
        states: list[PeerState] = []
        merged: list[int] = []
        # A few split peers per message at most: more entries than that are old ones, so start afresh.
        continued = self._continued if len(self._continued) <= 4 * len(nests) + 16 else {}
        changes: list[PeerState] | None = []
        last_key: bytes | None = None
        # Both shortcuts below start from the previous mapping: only when the fast path made it, from `before`.
        same = bool(before) and len(nests) == len(before)
        near = 0
        for index, (msg, p, q) in enumerate(nests):
            old = before[index] if index < len(before) else None
            layout = old[1].layout if old is not None else None
            holds = layout is not None and layout.holds(msg, p, q)
            parts = old[0] if holds and old is not None else _split(msg, p, q)
            if old is not None and old[0] == parts:
                found = old[1]
                if found.layout is None:
                    found.layout = Layout(parts, p)  # unchanged once: the next polls check it in place
                if earlier.starts[index] != near:
                    changes = None
            else:
                same = False
                found, changed = match_nest(parts, earlier, near, previous, _decode_entry, self._ips)
                if changed is None or changes is None:
                    changes = None
                else:
                    changes += changed
            found_nests.append((parts, found))
            near += len(found.pieces)
            if found.prefix:
                _merge_continuations(msg, p, p + found.prefix, last_key, states, continued)
                merged.append(len(states) - 1)
            states += found.states
            last_key = found.last_key or last_key
        if same or (changes is not None and before and near == len(earlier.pieces)):
            # Every peer where it was: the previous mapping, with the peers that changed and the merged ones (new
            # objects every time) put in.
            peers = dict(previous)
            for state in changes or ():
                peers[state.public_key] = state
            for i in merged:
                peers[states[i].public_key] = states[i]
        else:
            peers = dict(zip(map(_PUBLIC_KEY, states), states, strict=True))
            if len(peers) != len(states):
                raise Irregular  # a key twice, not as a split: the generic decoder merges by key over the dump
        self._nests, self._stamps, self._continued = found_nests, {}, continued
        if len(self._ips) > 2 * len(states) + 1024:
            self._ips = {}  # prefixes of peers long gone: start afresh, peers decoded again refill it
        return peers

    def _generic(self, nests: list[tuple[bytes, int, int]]) -> dict[str, PeerState]:
        """Any layout: entries grouped by key over the whole dump, unchanged single entries from their stamps."""
        # Merging goes by key over the whole dump, not only neighbours: a dict cannot hold a peer twice anyway.
        groups: dict[bytes, list[bytes]] = {}
        for msg, p, q in nests:
            collect_entries(msg, p, q, groups)
        old = self._stamps
        stamps: dict[bytes, tuple[tuple[bytes, bool], PeerState]] = {}
        peers: dict[str, PeerState] = {}
        for key, entries in groups.items():
            mark = stamp(entries[0]) if len(entries) == 1 else None
            if mark is None:
                state = decode_peer(entries)
            else:
                hit = old.get(key)
                state = hit[1] if hit is not None and hit[0] == mark else decode_peer(entries)
                stamps[key] = (mark, state)
            peers[state.public_key] = state
        self._stamps, self._nests = stamps, []
        return peers


def _decode_entry(entry: bytes) -> PeerState:
    return decode_peer([entry])


def _split(msg: bytes, start: int, end: int) -> list[bytes | None]:
    """PSK_ATTR.split of the peers nest msg[start:end], its first part counted from the nest's payload.

    A message that holds only the nest is split whole, which spares a copy of every message per poll; the
    headers before the nest are cut off its first part, so no sequence number or port id is kept or compared. Not the
    first message of a dump (the device's attributes, private key included, come before the nest), and not when
    the headers happen to hold a match."""
    if start == NLMSG_HDR.size + GENL_HDR_LEN + 4 and end == len(msg):
        parts: list[bytes | None] = PSK_ATTR.split(msg)
        head = parts[0]
        if head is not None and len(head) >= start:
            parts[0] = head[start:]
            return parts
    return PSK_ATTR.split(msg[start:end])


def _merge_continuations(nest: bytes, start: int, end: int, last_key: bytes | None, states: list[PeerState],
                         known: dict[bytes, tuple[str, ...]]) -> None:
    """Adds the allowed IPs of the continuation entries in nest[start:end] to the peer they continue, the previous
    nest's last; raises Irregular for anything else (the generic decoder then merges by key). `known` holds the
    prefixes of continuation entries by their bytes (a public key and prefixes: nothing secret)."""
    while start < end:
        length = _NLA.unpack_from(nest, start)[0] if start + 4 <= end else 0
        stop = start + length
        if length < 4 or stop > end:
            raise Irregular
        entry = nest[start + 4 : stop]
        if last_key is None or entry_key(entry) != last_key:
            raise Irregular
        more = known.get(entry)
        if more is None:
            ips: list[str] = []
            for kind, p, q in walk(entry, 0, len(entry)):
                if kind == WGPEER_A_ALLOWEDIPS:
                    found = fast_ips(entry, p, q)
                    if found is None:
                        allowed_ips(entry, p, q, ips)
                    else:
                        ips += found
            more = known[entry] = tuple(ips)
        was = states[-1]
        # A new object every time (a split peer is merged anew each poll), made positionally: replace() is slow.
        states[-1] = PeerState(was.public_key, was.endpoint, was.allowed_ips + more, was.latest_handshake,
                               was.rx_bytes, was.tx_bytes, was.persistent_keepalive, was.has_preshared_key)
        start += (length + 3) & ~3
    if start != end:
        raise Irregular


def decode_dump(messages: Iterable[bytes], ifname: str, *, up: bool = True) -> InterfaceState:
    """One-off decode without a cache."""
    return DumpDecoder().decode(messages, ifname, up=up)


def find_private_key(messages: Iterable[bytes]) -> bytes | None:
    """The interface's raw private key (in the first message of a dump), or None when it has none."""
    for msg in messages:
        length, mtype = NLMSG_HDR.unpack_from(msg)[:2]
        if mtype < NLMSG_MIN_TYPE:
            continue
        for kind, p, q in walk(msg, NLMSG_HDR.size + GENL_HDR_LEN, length):
            if kind == WGDEVICE_A_PRIVATE_KEY:
                key = msg[p:q]
                return None if key == _ZERO_KEY else key
    return None


def find_preshared_key(messages: Iterable[bytes], public_key: bytes) -> bytes | None:
    """The raw preshared key of one peer, or None when it has none or is absent: kept out of PeerState on purpose."""
    for msg in messages:
        length, mtype = NLMSG_HDR.unpack_from(msg)[:2]
        if mtype < NLMSG_MIN_TYPE:
            continue
        for kind, p, q in walk(msg, NLMSG_HDR.size + GENL_HDR_LEN, length):
            if kind != WGDEVICE_A_PEERS:
                continue
            for _, a, b in walk(msg, p, q):
                entry = msg[a:b]
                if entry_key(entry) != public_key:
                    continue
                for ekind, c, d in walk(entry, 0, len(entry)):
                    if ekind == WGPEER_A_PRESHARED_KEY:
                        psk = entry[c:d]
                        return None if psk == _ZERO_KEY else psk
    return None
