"""Provides the generic reading of a WireGuard netlink dump: attributes by type, in any order and any split."""

from __future__ import annotations

import base64
import socket
import struct
from collections.abc import Iterator

from wgtui.backends.base import BackendError
from wgtui.model import PeerState

NLA_TYPE_MASK = 0x3FFF
"""Strips NLA_F_NESTED and NLA_F_NET_BYTEORDER from nla_type."""

# linux/wireguard.h
WGDEVICE_A_IFINDEX = 1
WGDEVICE_A_IFNAME = 2
WGDEVICE_A_PRIVATE_KEY = 3
WGDEVICE_A_PUBLIC_KEY = 4
WGDEVICE_A_LISTEN_PORT = 6
WGDEVICE_A_FWMARK = 7
WGDEVICE_A_PEERS = 8
WGPEER_A_PUBLIC_KEY = 1
WGPEER_A_PRESHARED_KEY = 2
WGPEER_A_ENDPOINT = 4
WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL = 5
WGPEER_A_LAST_HANDSHAKE_TIME = 6
WGPEER_A_RX_BYTES = 7
WGPEER_A_TX_BYTES = 8
WGPEER_A_ALLOWEDIPS = 9
WGALLOWEDIP_A_FAMILY = 1
WGALLOWEDIP_A_IPADDR = 2
WGALLOWEDIP_A_CIDR_MASK = 3

_NLA = struct.Struct("=HH")
_U16 = struct.Struct("=H")
_U64 = struct.Struct("=Q")
_TIMESPEC = struct.Struct("=qq")
_SOCKADDR_PORT = struct.Struct("!H")
_SCOPE_ID = struct.Struct("=I")
_ZERO_KEY = bytes(32)
_AF_INET = socket.AF_INET
_AF_INET6 = socket.AF_INET6


class MalformedDump(BackendError):
    """The bytes are not a WireGuard device dump this decoder understands."""


def walk(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(masked type, payload start, payload end) of each attribute in buf[start:end]."""
    unpack = _NLA.unpack_from
    while start + 4 <= end:
        length, kind = unpack(buf, start)
        if length < 4 or start + length > end:
            raise MalformedDump(f"A netlink attribute at byte {start} claims {length} bytes; it does not fit.")
        yield kind & NLA_TYPE_MASK, start + 4, start + length
        start += (length + 3) & ~3


def format_endpoint(raw: bytes) -> str | None:
    """A sockaddr_in/sockaddr_in6 as `wg` prints it (`192.0.2.1:51820`, `[2001:db8::1]:51820`)."""
    if len(raw) < 4:
        return None
    family = _U16.unpack_from(raw)[0]
    port = _SOCKADDR_PORT.unpack_from(raw, 2)[0]
    if family == _AF_INET and len(raw) >= 8:
        return f"{socket.inet_ntop(_AF_INET, raw[4:8])}:{port}"
    if family == _AF_INET6 and len(raw) >= 28:
        host = socket.inet_ntop(_AF_INET6, raw[8:24])
        scope = _SCOPE_ID.unpack_from(raw, 24)[0]
        if scope:
            # wg prints link-local endpoints with their zone, as getnameinfo(NI_NUMERICHOST) does.
            try:
                host = f"{host}%{socket.if_indextoname(scope)}"
            except OSError:
                host = f"{host}%{scope}"
        return f"[{host}]:{port}"
    return None


def allowed_ips(buf: bytes, start: int, end: int, out: list[str]) -> None:
    # Hand-inlined attribute walks: this runs once per allowed IP, thousands of times per poll.
    ntop = socket.inet_ntop
    unpack = _NLA.unpack_from
    while start + 4 <= end:
        length, _ = unpack(buf, start)
        stop = start + length
        if length < 4 or stop > end:
            raise MalformedDump(f"An allowed-IP entry at byte {start} claims {length} bytes; it does not fit.")
        family = cidr = -1
        addr = b""
        p = start + 4
        while p + 4 <= stop:
            alen, kind = unpack(buf, p)
            if alen < 4 or p + alen > stop:
                raise MalformedDump(f"An allowed-IP attribute at byte {p} claims {alen} bytes; it does not fit.")
            kind &= NLA_TYPE_MASK
            if kind == WGALLOWEDIP_A_CIDR_MASK:
                cidr = buf[p + 4]
            elif kind == WGALLOWEDIP_A_FAMILY:
                family = _U16.unpack_from(buf, p + 4)[0]
            elif kind == WGALLOWEDIP_A_IPADDR:
                addr = buf[p + 4 : p + alen]
            p += (alen + 3) & ~3
        if (family == _AF_INET and len(addr) == 4) or (family == _AF_INET6 and len(addr) == 16):
            out.append(f"{ntop(family, addr)}/{cidr}")
        else:
            raise MalformedDump(f"An allowed IP has family {family} and a {len(addr)}-byte address.")
        start += (length + 3) & ~3


def decode_peer(entries: list[bytes]) -> PeerState:
    """One peer from its entries: the first carries every field, continuations only add allowed IPs."""
    first = entries[0]
    public_key = b""
    psk = False
    endpoint: str | None = None
    handshake = rx = tx = keepalive = 0
    ips: list[str] = []
    unpack = _NLA.unpack_from
    off, end = 0, len(first)
    while off + 4 <= end:
        length, kind = unpack(first, off)
        q = off + length
        if length < 4 or q > end:
            raise MalformedDump(f"A peer attribute at byte {off} claims {length} bytes; it does not fit.")
        p = off + 4
        kind &= NLA_TYPE_MASK
        if kind == WGPEER_A_PUBLIC_KEY:
            public_key = first[p:q]
        elif kind == WGPEER_A_PRESHARED_KEY:
            psk = first[p:q] != _ZERO_KEY
        elif kind == WGPEER_A_LAST_HANDSHAKE_TIME:
            # tv_sec alone is what `wg show dump` prints; 0/0 is "never" and maps to 0 as it is.
            handshake = _TIMESPEC.unpack_from(first, p)[0]
        elif kind == WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
            keepalive = _U16.unpack_from(first, p)[0]
        elif kind == WGPEER_A_RX_BYTES:
            rx = _U64.unpack_from(first, p)[0]
        elif kind == WGPEER_A_TX_BYTES:
            tx = _U64.unpack_from(first, p)[0]
        elif kind == WGPEER_A_ENDPOINT:
            endpoint = format_endpoint(first[p:q])
        elif kind == WGPEER_A_ALLOWEDIPS:
            allowed_ips(first, p, q, ips)
        off += (length + 3) & ~3
    for more in entries[1:]:
        for kind, p, q in walk(more, 0, len(more)):
            if kind == WGPEER_A_ALLOWEDIPS:
                allowed_ips(more, p, q, ips)
    if len(public_key) != 32:
        raise MalformedDump("A peer entry has no 32-byte public key.")
    return PeerState(
        public_key=base64.b64encode(public_key).decode(),
        endpoint=endpoint,
        allowed_ips=tuple(ips),
        latest_handshake=handshake,
        rx_bytes=rx,
        tx_bytes=tx,
        persistent_keepalive=keepalive,
        has_preshared_key=psk,
    )


def entry_key(entry: bytes) -> bytes:
    # The kernel puts the public key first; anything else is read by type all the same.
    if entry[:4] == b"\x24\x00\x01\x00":
        return entry[4:36]
    for kind, p, q in walk(entry, 0, len(entry)):
        if kind == WGPEER_A_PUBLIC_KEY:
            return entry[p:q]
    raise MalformedDump("A peer entry has no public key.")


_PSK_HEADER = b"\x24\x00\x02\x00"
"""nla_len 36, WGPEER_A_PRESHARED_KEY: where the kernel puts it, right after the 36-byte public-key attribute."""


def stamp(entry: bytes) -> tuple[bytes, bool] | None:
    """What identifies an unchanged peer entry without keeping its preshared key: every byte after the key,
    and whether a key is set (the model holds only that). None when the entry is not laid out as the kernel
    lays it out: then it is decoded each time, which is correct, only slower."""
    if entry[36:40] != _PSK_HEADER:
        return None
    return entry[72:], entry[40:72] != _ZERO_KEY


def collect_entries(msg: bytes, start: int, end: int, groups: dict[bytes, list[bytes]]) -> None:
    """Split a WGDEVICE_A_PEERS nest into raw peer entries grouped by public key (a split peer has several).

    The per-peer loop of every poll: written out, without a generator, because idle peers cost only this."""
    unpack = _NLA.unpack_from
    while start + 4 <= end:
        length = unpack(msg, start)[0]
        stop = start + length
        if length < 4 or stop > end:
            raise MalformedDump(f"A peer entry at byte {start} claims {length} bytes; it does not fit.")
        entry = msg[start + 4:stop]
        key = entry[4:36] if entry[:4] == b"\x24\x00\x01\x00" else entry_key(entry)
        group = groups.get(key)
        if group is None:
            groups[key] = [entry]
        else:
            group.append(entry)
        start += (length + 3) & ~3
