"""Provides allowed-IP arithmetic: the next free host address in a subnet, overlaps, and containment."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


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
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4 and net.prefixlen < 31:
        first, last = first + 1, last - 1
    elif net.version == 6 and net.prefixlen < 127:
        first += 1  # the subnet-router anycast address
    spans = sorted((int(u.network_address), int(u.broadcast_address)) for u in used if u.version == net.version)
    candidate = first
    for start, end in spans:
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
