"""Provides the fast path of the netlink decoder: a peers nest cut into peers by one regex pass, the kernel's layout."""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import accumulate, compress, count, repeat
from operator import is_, ne

from wgtui.backends.nlfixed import fixed_peer
from wgtui.model import PeerState

PSK_ATTR = re.compile(rb"\x24\x00\x02\x00(?:\x00{32}()|.{32})", re.S)
"""A 36-byte preshared-key attribute, where the kernel puts it: second in a peer's first entry. Splitting a peers nest
at these drops every secret and leaves, between two of them, one peer's other attributes followed by the next peer's
first 40 bytes (nest header, public-key attribute). The empty group tells a zero key (b"") from a set one (None)."""
HEAD = 40
"""Bytes of a first entry before its preshared-key attribute."""
PSK_SIZE = 36
KEY_HEADER = b"\x24\x00\x01\x00"
"""nla_len 36, WGPEER_A_PUBLIC_KEY."""
_PSK_HEADER = b"\x24\x00\x02\x00"
_PSK_SET = b"\x01" * 32
_PSK_NONE = bytes(32)

Flag = bytes | None
"""What PSK_ATTR's group captured: b"" for a zero preshared key, None for a set one."""

_PENDING = PeerState(public_key="")
"""Stands in for a state not decoded yet."""


class Irregular(Exception):
    """The dump is not laid out as the kernel lays it out; the generic decoder reads it instead (exact, slower)."""


def b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).decode("ascii")


def want(piece: bytes) -> int:
    """What the entry whose first HEAD bytes end `piece` says the next piece must measure: its nla_len less the
    preshared-key attribute. -1 when that cannot be a kernel peer entry (not 4-aligned, or too short)."""
    if len(piece) < HEAD:
        return -1
    length = piece[-HEAD] | piece[1 - HEAD] << 8
    return length - PSK_SIZE if length % 4 == 0 and length >= HEAD + PSK_SIZE else -1


class Columns:
    """What the first entries of one or more nests said, one list per field in dump order, so that comparing and
    slicing them runs in C."""

    __slots__ = ("flags", "nexts", "owns", "pieces", "states", "wants")

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.states: list[PeerState] = []
        self.owns: list[bytes] = []
        """Each entry's public key."""
        self.flags: list[Flag] = []
        self.wants: list[int] = []
        """`want` of each piece: what the next one must measure (-1 after a nest's last)."""
        self.nexts: list[bytes | None] = []
        """The public key of the next entry (None after a nest's last)."""


class NestMatch(Columns):
    """The first entries of one peers nest, cut at their preshared keys and checked against their own lengths."""

    __slots__ = ("layout", "prefix")

    def __init__(self, prefix: int) -> None:
        super().__init__()
        self.prefix = prefix
        """Bytes before the first entry that has a preshared key: continuations of the previous nest's last peer."""
        self.layout: Layout | None = None
        """Made once the nest came back unchanged: then the next polls check it in place (see Layout)."""

    @property
    def last_key(self) -> bytes | None:
        return self.owns[-1] if self.owns else None


class Layout:
    """Where a nest's parts lie in its message, to tell in place that it is unchanged, without splitting it again.

    Each part is compared at its offset together with the preshared-key header after it (and with 32 zero bytes
    after that when the key was zero), and each key that was set must still be non-zero. That holds exactly when
    PSK_ATTR.split would give the same parts: matches are made by their 4-byte header alone, and no header can
    appear or vanish inside a key that PSK_ATTR's match at its own header covers."""

    __slots__ = ("checks", "end", "offsets", "set_keys", "start")

    def __init__(self, parts: list[bytes | None], start: int) -> None:
        segments: list[bytes] = parts[0::2]  # type: ignore[assignment]  # the even places hold the bytes
        flags = parts[1::2]
        after = [_PSK_HEADER + _PSK_NONE if flag is not None else _PSK_HEADER for flag in flags]
        after.append(b"")
        self.checks = list(map(bytes.__add__, segments, after))
        self.offsets = list(accumulate((len(seg) + PSK_SIZE for seg in segments[:-1]), initial=start))
        keys = [offset + len(seg) + 4 for offset, seg in zip(self.offsets, segments, strict=False)]
        self.set_keys = list(compress(keys, map(is_, flags, repeat(None))))
        """Offsets of the keys that were set."""
        self.start, self.end = start, self.offsets[-1] + len(segments[-1])

    def holds(self, msg: bytes, start: int, end: int) -> bool:
        """Whether msg[start:end] is the nest this was made from, but for the values of preshared keys."""
        return (start == self.start and end == self.end and all(map(msg.startswith, self.checks, self.offsets))
                and not any(map(msg.startswith, repeat(_PSK_NONE), self.set_keys)))


def _indexes(marks: Iterable[object]) -> list[int]:
    """Where `marks` are true, found in C (itertools.compress): only the indexes themselves are made."""
    return list(compress(count(), marks))


WINDOW = 64
"""How far (in pieces) a nest may have moved since the previous dump and still be compared piece by piece: peers
that grow or shrink, come or go, move the kernel's message boundaries by a few peers."""


class Earlier(Columns):
    """The previous dump's first entries in order, across nests: what a nest is compared with."""

    __slots__ = ("_index", "starts")

    def __init__(self, matches: Sequence[NestMatch]) -> None:
        super().__init__()
        self.starts: list[int] = []
        """Where each nest's pieces began."""
        self._index: dict[bytes, int] | None = None
        for found in matches:
            self.starts.append(len(self.pieces))
            self.pieces += found.pieces
            self.states += found.states
            self.owns += found.owns
            self.flags += found.flags
            self.wants += found.wants
            self.nexts += found.nexts

    def index(self) -> dict[bytes, int]:
        """Where each piece is, by its bytes: made when first asked for (peers came, went or moved far)."""
        if self._index is None:
            self._index = dict(zip(self.pieces, count()))
        return self._index

    def align(self, pieces: list[bytes], near: int) -> tuple[int, list[int]] | None:
        """(where the run of previous pieces that matches these starts, the indexes of those that differ), looked
        for near `near`; None when there is no such run, or when most pieces differ (then looking them up by bytes
        is cheaper than decoding them)."""
        size = len(pieces)
        lo, hi = max(0, near - WINDOW), near + WINDOW
        for j in range(min(4, size)):
            try:
                start = self.pieces.index(pieces[j], lo + j, hi + j) - j
            except ValueError:
                continue
            if start < 0:
                continue
            differs: list[object] = list(map(ne, pieces, self.pieces[start : start + size]))
            differs += [True] * (size - len(differs))
            misses = _indexes(differs)
            return None if len(misses) * 4 > size else (start, misses)
        return None


class _Decoder:
    """Decodes the entries of one nest that could not be reused, keeping a peer's object when it did not change."""

    __slots__ = ("changed", "earlier", "generic", "known_ips", "moved", "previous", "start")

    def __init__(self, previous: Mapping[str, PeerState], generic: Callable[[bytes], PeerState],
                 known_ips: dict[bytes, tuple[str, ...]], earlier: Earlier | None, start: int) -> None:
        self.previous, self.generic, self.known_ips = previous, generic, known_ips
        self.earlier, self.start = earlier, start
        """The previous dump, where this nest's pieces are compared from (None: not aligned)."""
        self.changed: list[PeerState] = []
        """States that are not the previous dump's object for their peer."""
        self.moved = False
        """A piece now holds another peer than at the same place in the previous dump."""

    def entry(self, i: int, pieces: list[bytes], first: bytes, flag: Flag, last: bool,
              nexts: list[bytes | None]) -> tuple[PeerState, bytes, int, bytes | None]:
        """(state, public key, want, next key) of piece i, from its bytes, the previous piece's (or the nest's head)
        and the previous dump."""
        piece = pieces[i]
        told = nexts[i - 1] if i else None
        # The previous piece's next key is the same bytes as an object: comparing them later is an identity test.
        own = told if told is not None else (pieces[i - 1] if i else first)[-32:]
        if last:
            end, need, nxt = len(piece), -1, None
        else:
            if piece[-36:-32] != KEY_HEADER:
                raise Irregular
            end = len(piece) - HEAD
            length = piece[-HEAD] | piece[1 - HEAD] << 8  # want(piece), inline: this runs for every changed peer
            need = length - PSK_SIZE if length % 4 == 0 and length >= HEAD + PSK_SIZE else -1
            nxt = piece[-32:]
        earlier, at = self.earlier, self.start + i
        prior = None
        if earlier is not None and at < len(earlier.owns) and earlier.owns[at] == own:
            prior = earlier.states[at]
            old = earlier.pieces[at]
            # The same peer with the same attributes, only the next entry's head changed (a neighbour grew, or a
            # message boundary moved): nothing to decode.
            if (earlier.flags[at] == flag and len(old) - (0 if earlier.nexts[at] is None else HEAD) == end
                    and old.startswith(piece[:end])):
                return self._kept(prior, self.previous.get(prior.public_key)), own, need, nxt
        else:
            self.moved = True
        name = prior.public_key if prior is not None else b64(own)
        state = fixed_peer(name, flag is None, piece, end, self.known_ips)
        if state is None:
            psk = _PSK_NONE if flag is not None else _PSK_SET  # only its presence matters, and it is not kept
            state = self.generic(KEY_HEADER + own + _PSK_HEADER + psk + piece[:end])
            if state.public_key != name:
                raise Irregular  # a second key attribute: the generic decoder groups such entries its own way
        return self._kept(state, self.previous.get(state.public_key)), own, need, nxt

    def _kept(self, state: PeerState, old: PeerState | None) -> PeerState:
        """The previous poll's object when equal (a counter went back and forth, the bytes moved, the peer is no
        longer split): the monitor compares objects first. Counters differ first when anything does."""
        if old is state:
            return state
        if old is not None and old.rx_bytes == state.rx_bytes and old.endpoint == state.endpoint and old == state:
            return old
        self.changed.append(state)
        return state


def match_nest(parts: list[bytes | None], earlier: Earlier, near: int, previous: Mapping[str, PeerState],
               generic: Callable[[bytes], PeerState],
               known_ips: dict[bytes, tuple[str, ...]]) -> tuple[NestMatch, list[PeerState] | None]:
    """Every first entry of a WGDEVICE_A_PEERS payload split by PSK_ATTR, reused where its piece is unchanged.

    Pieces are compared one to one with the previous dump's (`earlier`, from about piece `near`), which is what a
    poll costs when some peers changed; when peers came, went or moved far, they are looked up by bytes. Nothing is
    trusted unless the split passes the check: each entry's nla_len must end it exactly where the next one's head
    begins (the last: where the nest ends), and its first attribute must be the public key, so that a match inside
    an address or a key cannot pass for an entry. Raises Irregular when the nest is laid out otherwise. `generic`
    decodes an entry payload the slow, general way; `known_ips` is fixed_peer's.

    Also returns the states that are new objects when every piece holds the peer the previous dump held at the same
    place (from piece `near` on), so that the caller can update the previous mapping instead of building one; None
    otherwise."""
    first = parts[0]
    assert first is not None
    if len(parts) == 1:
        return NestMatch(len(first)), []
    found = NestMatch(len(first) - HEAD)
    pieces: list[bytes] = parts[2::2]  # type: ignore[assignment]  # the odd places hold the groups
    flags = parts[1::2]
    size = len(pieces)
    aligned = earlier.align(pieces, near)
    told: list[Flag]
    nexts: list[bytes | None]
    if aligned is not None:
        start, misses = aligned
        stop = start + size
        states, owns, told = earlier.states[start:stop], earlier.owns[start:stop], earlier.flags[start:stop]
        wants, nexts = earlier.wants[start:stop], earlier.nexts[start:stop]
        short = size - len(states)  # the nest runs past the previous dump's end: those pieces are all misses
        states += [_PENDING] * short
        owns += [b""] * short
        told += [None] * short
        wants += [-1] * short
        nexts += [None] * short
        decoder = _Decoder(previous, generic, known_ips, earlier, start)
        in_place = start == near and not short
    elif not earlier.pieces:  # the first poll: nothing to compare with
        misses = list(range(size))
        states, owns, told = [_PENDING] * size, [b""] * size, [None] * size
        wants, nexts = [-1] * size, [None] * size
        decoder = _Decoder(previous, generic, known_ips, None, 0)
        in_place = False
    else:
        where = list(map(earlier.index().get, pieces))
        misses = _indexes(map(is_, where, repeat(None)))
        # Rare (peers came or went by the dozen): picking the columns one by one is fine here.
        states = [_PENDING if j is None else earlier.states[j] for j in where]
        owns = [b"" if j is None else earlier.owns[j] for j in where]
        told = [None if j is None else earlier.flags[j] for j in where]
        wants = [-1 if j is None else earlier.wants[j] for j in where]
        nexts = [None if j is None else earlier.nexts[j] for j in where]
        decoder = _Decoder(previous, generic, known_ips, None, 0)
        in_place = False
    last = size - 1
    # Decoded before the check, which needs their lengths anyway; a nest that fails it is read again generically.
    for i in misses:
        states[i], owns[i], wants[i], nexts[i] = decoder.entry(i, pieces, first, flags[i], i == last, nexts)
        told[i] = flags[i]
    if first[-36:-32] != KEY_HEADER or nexts[-1] is not None:
        raise Irregular
    keys: list[bytes | None] = [first[-32:]]
    keys += nexts
    keys.pop()
    if keys != owns or flags != told:
        # A piece seen before under another peer or flag (a preshared key set or removed, peers reordered): its
        # bytes still tell where the next entry starts, but the peer is decoded again.
        for i in range(size):
            if owns[i] != keys[i] or told[i] != flags[i]:
                states[i], owns[i], wants[i], nexts[i] = decoder.entry(i, pieces, first, flags[i], i == last, nexts)
    checks = [want(first)]
    checks += wants
    checks.pop()
    lengths = list(map(len, pieces))
    lengths[-1] += HEAD
    if checks != lengths:
        raise Irregular
    found.pieces, found.states, found.owns, found.flags, found.wants, found.nexts = (
        pieces, states, owns, flags, wants, nexts)
    return found, decoder.changed if in_place and not decoder.moved else None
