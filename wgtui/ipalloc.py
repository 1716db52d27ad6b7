"""Provides allowed-IP arithmetic: the next free host address in a subnet, overlaps, and containment."""

# Two ways to hold a prefix: `ipaddress` networks (the API most callers use), and plain integers — a Prefix is
# (version, network address as an int, prefix length) — for the work done once per peer of a large file, where
# building an ipaddress object costs ~25 µs and the integers ~1 µs. `prefix_of` reads the usual spellings
# (`10.0.0.2/32`, `fd00::2/128`, bare addresses) with a regex and integer arithmetic, and hands everything else
# to ipaddress, so both ways always agree (tests/unit/test_fast_paths.py holds them to it).

from __future__ import annotations

import ipaddress
import re
from _socket import inet_aton  # the C module itself: `socket` would import selectors, enum classes... (~3 ms a command)
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import partial
from itertools import repeat
from operator import itemgetter
from typing import TypeVar

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
_K = TypeVar("_K")
Prefix = tuple[int, int, int]
"""(IP version, network address as an integer with the host bits zeroed, prefix length)."""

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4 = re.compile(rf"((?:{_OCTET}\.){{3}}{_OCTET})(?:/(3[0-2]|[12]?[0-9]))?\Z".replace("(25[", "(?:25["))
"""Dotted quad without leading zeros (ipaddress refuses those), optional canonical prefix length."""
_V6 = re.compile(r"([0-9A-Fa-f:]{2,39})(?:/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?\Z")
"""Hex groups and colons only (no embedded IPv4, no scope), optional canonical prefix length."""
_BITS = {4: 32, 6: 128}
_V4_MASKS = [(0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF for length in range(33)]
_V4_HOSTS = re.compile(rf"^(?:((?:{_OCTET}\.){{3}}{_OCTET})(?:/32)?|(.*))$".replace("(25[", "(?:25["), re.M)
"""Each line: an IPv4 host address as _V4 reads it (group 1), or anything else (group 2)."""
_FIRST = itemgetter(0)
_FROM_BYTES = partial(int.from_bytes, byteorder="big")

_H = "[0-9A-Fa-f]{1,4}"
_V6_FORMS = [
    f"(?:{_H}:){{7}}{_H}",
    f"::(?:{_H}(?::{_H}){{0,6}})?",
    *[f"(?:{_H}:){{{a - 1}}}{_H}::(?:{_H}(?::{_H}){{0,{6 - a}}})?" for a in range(1, 7)],
    f"(?:{_H}:){{6}}{_H}::",
]
"""The IPv6 texts `_v6_value` reads, one form per number of groups before '::' (eight groups and no '::' first):
no text matches two of them. Forms that overlapped made the regex of a whole file's AllowedIPs backtrack through
every way of reading every earlier IPv6 value when a later one was odd: exponential (4 s for 60 peers, never ending
for thousands)."""
_V6_VALID = "|".join(_V6_FORMS)
CIDR_PATTERN = (rf"(?:(?:{_OCTET.replace('(', '(?:')}\.){{3}}{_OCTET.replace('(', '(?:')}(?:/(?:3[0-2]|[12]?[0-9]))?"
                rf"|(?:{_V6_VALID})(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)")
"""A regex (no groups) for exactly the texts `fast_prefix` reads: for checking many of them with one regex call."""


def _v6_value(text: str) -> int | None:
    """The integer of an IPv6 address written as hex groups with at most one '::', or None for anything else."""
    if "::" in text:
        head, _, tail = text.partition("::")
        if "::" in tail:
            return None
        groups_head = head.split(":") if head else []
        groups_tail = tail.split(":") if tail else []
        missing = 8 - len(groups_head) - len(groups_tail)
        if missing < 1:
            return None  # '::' stands for at least one group
        groups = [*groups_head, *(["0"] * missing), *groups_tail]
    else:
        groups = text.split(":")
        if len(groups) != 8:
            return None
    for group in groups:
        if not 0 < len(group) < 5:
            return None
    return int("".join([group.rjust(4, "0") for group in groups]), 16)


def fast_prefix(text: str) -> Prefix | None:
    """The Prefix of `text` when it is written the usual way (host bits zeroed like the kernel does); None for
    anything else, which the caller then reads with ipaddress (`prefix_of` does)."""
    m = _V4.match(text)
    if m is not None:
        address, length = m.groups()
        value = int.from_bytes(inet_aton(address), "big")  # a dotted quad the regex vouches for: as ipaddress reads it
        if length is None or length == "32":
            return 4, value, 32
        plen = int(length)
        return 4, value & _V4_MASKS[plen], plen
    m = _V6.match(text)
    if m is not None:
        value6 = _v6_value(m[1])
        if value6 is None:
            return None
        plen = 128 if m[2] is None else int(m[2])
        return 6, value6 & (((1 << 128) - 1) ^ ((1 << (128 - plen)) - 1)), plen
    return None


_READ: dict[str, Prefix | None] = {}
"""fast_prefix of texts read lately (a change reads each peer's prefixes more than once)."""
_READ_MAX = 1 << 17


def fast_prefix_cached(text: str) -> Prefix | None:
    """fast_prefix, remembered (for up to 2^17 texts at a time)."""
    try:
        return _READ[text]
    except KeyError:
        if len(_READ) >= _READ_MAX:
            _READ.clear()
        found = _READ[text] = fast_prefix(text)
        return found


def fast_prefixes(texts: list[str]) -> list[Prefix | None]:
    """fast_prefix of each text, in one call (for the allowed IPs of every peer of a file). When every text is an
    IPv4 host (`a.b.c.d` or `a.b.c.d/32`), one regex call and C-level maps read them all."""
    joined = "\n".join(texts)
    rows = ipv4_hosts(joined, len(texts)) if texts and ":" not in joined else None  # an IPv6 one: not all IPv4
    if rows is not None:
        values = map(_FROM_BYTES, map(inet_aton, map(_FIRST, rows)))
        return list(zip(repeat(4), values, repeat(32)))
    return _fast_prefixes(texts)


def ipv4_hosts(lines: str, count: int) -> list[tuple[str, str]] | None:
    """When `lines` is `count` lines each of which fast_prefix reads as an IPv4 host (`a.b.c.d`, `a.b.c.d/32`): one
    regex row per line, the address first; else None."""
    if lines.count("\n") != count - 1:
        return None
    rows: list[tuple[str, str]] = _V4_HOSTS.findall(lines)
    if len(rows) == count and all(map(_FIRST, rows)):  # every line an address (group 1, never empty)
        return rows
    return None


def _fast_prefixes(texts: Iterable[str]) -> list[Prefix | None]:
    """fast_prefix of each text, remembered: the dashboard plans each change on the same allowed IPs as the last
    (at 10,000 peers with IPv6 prefixes among them, reading them all again took ~0.08 s)."""
    return list(map(fast_prefix_cached, texts))


def prefix_of(text: str) -> Prefix:
    """Like `network` (ValueError for what is no network), as a Prefix."""
    fast = fast_prefix_cached(text.strip())
    if fast is not None:
        return fast
    net = network(text)
    return net.version, int(net.network_address), net.prefixlen


def _compress(hextets: list[str]) -> list[str]:
    """ipaddress's `_compress_hextets`: the longest run of two or more '0' groups (the first of equals) -> ''."""
    best_start, best_len = -1, 0
    start, run = -1, 0
    for index, hextet in enumerate(hextets):
        if hextet == "0":
            run += 1
            if start == -1:
                start = index
            if run > best_len:
                best_len, best_start = run, start
        else:
            run, start = 0, -1
    if best_len > 1:
        best_end = best_start + best_len
        if best_end == len(hextets):
            hextets += [""]
        hextets[best_start:best_end] = [""]
        if best_start == 0:
            hextets = ["", *hextets]
    return hextets


def format_prefix(prefix: Prefix) -> str:
    """str() of the ipaddress network of `prefix`: `10.0.0.0/24`, `fd00::/64` (RFC 5952)."""
    version, value, plen = prefix
    if version == 4:
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}/{plen}"
    if value >> 32 == 0xFFFF:
        # IPv4-mapped: Python 3.13 writes these with a dotted quad, earlier versions in hex; ask the one running.
        return str(ipaddress.IPv6Network((value, plen)))
    hextets = [f"{(value >> shift) & 0xFFFF:x}" for shift in range(112, -16, -16)]
    return ":".join(_compress(hextets)) + f"/{plen}"


def to_network(prefix: Prefix) -> Network:
    version, value, plen = prefix
    if version == 4:
        return ipaddress.IPv4Network((value, plen))
    return ipaddress.IPv6Network((value, plen))


def span(prefix: Prefix) -> tuple[int, int]:
    """First and last address of the prefix, as integers."""
    _, value, plen = prefix
    return value, value | ((1 << (_BITS[prefix[0]] - plen)) - 1)


def prefixes_overlap(a: Prefix, b: Prefix) -> bool:
    """`overlaps` for Prefixes: same version, and equal on the shorter prefix's bits."""
    if a[0] != b[0]:
        return False
    shift = _BITS[a[0]] - min(a[2], b[2])
    return a[1] >> shift == b[1] >> shift


def prefix_contains(outer: Prefix, inner: Prefix) -> bool:
    """`contains` for Prefixes."""
    if outer[0] != inner[0] or inner[2] < outer[2]:
        return False
    shift = _BITS[outer[0]] - outer[2]
    return outer[1] >> shift == inner[1] >> shift


def network(text: str) -> Network:
    """As the kernel stores it: host bits zeroed (`10.0.0.5/24` -> `10.0.0.0/24`), bare address -> /32 or /128."""
    return ipaddress.ip_network(text.strip(), strict=False)


def next_free(subnet: Interface | Network, used: Iterable[Network]) -> Network | None:
    """The lowest host address of `subnet` (as a /32 or /128) that no `used` prefix covers, or None when full.

    Works on merged intervals of what is used, so a /8 or a /64 is never enumerated: the cost grows with the
    number of used prefixes, not with the size of the subnet. IPv4 skips the network and broadcast addresses
    of subnets larger than /31, and the interface's own address is `used` by the caller.
    """
    net = subnet.network if isinstance(subnet, ipaddress.IPv4Interface | ipaddress.IPv6Interface) else subnet
    spans = ((int(u.network_address), int(u.broadcast_address)) for u in used if u.version == net.version)
    return next_free_in(subnet, spans)


def next_free_in(subnet: Interface | Network, spans: Iterable[tuple[int, int]]) -> Network | None:
    """`next_free` with what is used given as (first, last) integer spans of the subnet's IP version."""
    net = subnet.network if isinstance(subnet, ipaddress.IPv4Interface | ipaddress.IPv6Interface) else subnet
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4 and net.prefixlen < 31:
        first, last = first + 1, last - 1
    elif net.version == 6 and net.prefixlen < 127:
        first += 1  # the subnet-router anycast address
    candidate = first
    for start, end in sorted(spans):
        if end < candidate:
            continue
        if start > candidate:
            break
        candidate = end + 1
    if candidate > last:
        return None
    host_bits = 32 if net.version == 4 else 128
    return ipaddress.ip_network((candidate, host_bits))


def overlaps(a: Network, b: Network) -> bool:
    return a.version == b.version and a.overlaps(b)  # type: ignore[arg-type]


def contains(outer: Network, inner: Network) -> bool:
    return outer.version == inner.version and inner.subnet_of(outer)  # type: ignore[arg-type]


class AddressPool:
    """The next free host address of each of an interface's Address subnets, as `next_free` gives it, while prefixes
    are taken and given back: for a batch of many `auto` peers, about linear in the peers instead of quadratic.

    Each subnet keeps a cursor below which every address is known to be used; a lookup moves it up over what is
    used, and only giving back an address below it moves it down. Used prefixes are counted (several holders)."""

    def __init__(self, subnets: Sequence[Interface], used: Iterable[Prefix]) -> None:
        self.subnets = list(subnets)
        self._hosts: dict[tuple[int, int], int] = {}
        """(version, address) -> how many times it is used, for /32 and /128 prefixes."""
        self._spans: dict[tuple[int, int, int], int] = {}
        """(version, first, last) -> how many times it is used, for wider prefixes."""
        self._merged: dict[int, tuple[list[int], list[int]]] | None = None
        """Per version, the wider prefixes merged: sorted starts and their ends (None: to be worked out)."""
        self._cursors = [self._first(i) for i in range(len(self.subnets))]
        for prefix in used:
            self.take(prefix)
        for subnet in self.subnets:
            self.take(prefix_of(str(subnet.ip)))  # the interface's own address

    def _first(self, index: int) -> int:
        """The subnet's first address `auto` may give (as next_free_in skips the network or anycast address)."""
        net = self.subnets[index].network
        first = int(net.network_address)
        if (net.version == 4 and net.prefixlen < 31) or (net.version == 6 and net.prefixlen < 127):
            first += 1
        return first

    def take(self, prefix: Prefix) -> None:
        version, value, length = prefix
        if length == _BITS[version]:
            host = (version, value)
            self._hosts[host] = self._hosts.get(host, 0) + 1
        else:
            wide = (version, *span(prefix))
            self._spans[wide] = self._spans.get(wide, 0) + 1
            self._merged = None

    def give_back(self, prefix: Prefix) -> None:
        """One use of `prefix` fewer (it must have been taken)."""
        version, value, length = prefix
        if length == _BITS[version]:
            if _drop(self._hosts, (version, value)):
                return
        else:
            if _drop(self._spans, (version, *span(prefix))):
                return
            self._merged = None
        for i, subnet in enumerate(self.subnets):
            if subnet.version == version and value < self._cursors[i]:
                self._cursors[i] = max(value, self._first(i))  # what lies below is used still

    def _merge(self) -> dict[int, tuple[list[int], list[int]]]:
        if self._merged is None:
            merged: dict[int, tuple[list[int], list[int]]] = {4: ([], []), 6: ([], [])}
            for version, first, last in sorted(self._spans):
                starts, ends = merged[version]
                if ends and first <= ends[-1] + 1:
                    ends[-1] = max(ends[-1], last)
                else:
                    starts.append(first)
                    ends.append(last)
            self._merged = merged
        return self._merged

    def next_free(self, index: int) -> int | None:
        """The lowest free address of the index-th subnet, as next_free_in(subnet, what is used) finds it."""
        net = self.subnets[index].network
        version = net.version
        last = int(net.broadcast_address)
        if version == 4 and net.prefixlen < 31:
            last -= 1
        starts, ends = self._merge()[version]
        hosts = self._hosts
        candidate = self._cursors[index]
        while candidate <= last:
            if (version, candidate) in hosts:
                candidate += 1
                continue
            at = bisect_right(starts, candidate) - 1
            if at >= 0 and ends[at] >= candidate:
                candidate = ends[at] + 1
                continue
            break
        self._cursors[index] = candidate
        return candidate if candidate <= last else None

    def pick(self) -> tuple[str, ...]:
        """What `auto` gives a new peer: the next free host of the first subnet with room, one per IP version
        (IPv4 first); () when every subnet is full. Nothing is taken: `take` what is kept."""
        picked: list[str] = []
        for version in (4, 6):
            for i, subnet in enumerate(self.subnets):
                if subnet.version != version:
                    continue
                free = self.next_free(i)
                if free is not None:
                    picked.append(format_prefix((version, free, _BITS[version])))
                    break
        return tuple(picked)


def _drop(counts: dict[_K, int], key: _K) -> bool:
    """One count of `key` fewer; whether some are left."""
    left = counts[key] - 1
    if left:
        counts[key] = left
        return True
    del counts[key]
    return False
