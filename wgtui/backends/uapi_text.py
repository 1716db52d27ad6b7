"""Provides the UAPI protocol's text: incremental parsing of `get=1` answers and safe `set=1` transactions."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from wgtui import keys
from wgtui.backends.base import BackendError
from wgtui.model import KEEP, InterfaceState, PeerState, PeerUpdate

IFNAME_RE = re.compile(r"[a-zA-Z0-9_=+.-]{1,15}")
_HOSTNAME_RE = re.compile(r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                          r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.?", re.ASCII)
_ENDPOINT_V6_RE = re.compile(r"\[([^\]\s]+)\]:([0-9]{1,5})", re.ASCII)
_ENDPOINT_HOST_RE = re.compile(r"([^:\[\]\s]+):([0-9]{1,5})", re.ASCII)
_SAFE_LINE_RE = re.compile(r"[a-z_]+=[\x21-\x7e]*", re.ASCII)

_ZERO_HEX = b"0" * 64
_PEER_SEP = b"\npublic_key="
_PSK_AFTER_KEY = b"\npreshared_key="
"""wireguard-go writes the preshared key right after the public key, so it is usually at offset 79."""


@dataclass(slots=True)
class PeerCache:
    """Each peer's text of the previous poll (preshared key left out) and its PeerState, for one interface."""

    entries: dict[bytes, tuple[bytes, PeerState]]
    """By public key in hex: the peer's text after its preshared-key line (wireguard-go's order), or a NUL and the
    whole text with the key redacted when the daemon wrote another order."""
    parsed: int = 0
    """Peers parsed in the latest read."""
    reused: int = 0
    """Peers whose text was byte-identical to the previous read, returned as the same object."""
    peers: dict[str, PeerState] | None = None
    """The latest read's peers in order: when no peer came or went, the next read starts from a copy of it."""


def new_cache() -> PeerCache:
    return PeerCache({})


def _errno_line(data: bytes) -> tuple[int, int]:
    """(offset of the errno line, errno) of one UAPI answer, which ends `errno=N\\n\\n`."""
    if not data.endswith(b"\n\n"):
        raise BackendError("The WireGuard daemon's answer ended early (no errno line).")
    end = len(data) - 2
    start = data.rfind(b"\n", 0, end) + 1
    last = data[start:end]
    if not last.startswith(b"errno="):
        raise BackendError("The WireGuard daemon's answer did not end with an errno line.")
    try:
        return start, int(last[6:])
    except ValueError:
        raise BackendError("The WireGuard daemon answered with a malformed errno line.") from None


def split_answer(data: bytes) -> tuple[bytes, int]:
    """(body without the errno line, errno) of one UAPI answer, which ends `errno=N\\n\\n`."""
    start, code = _errno_line(data)
    return data[: max(start - 1, 0)], code


def errno_text(code: int) -> str:
    """UAPI errnos are negative (-22); wg prints strerror of their absolute value."""
    return f"errno {code}: {os.strerror(abs(code))}"


def _redacted(chunk: bytes) -> bytes:
    """The peer text with its preshared key reduced to presence: what the cache may keep and compare.

    PeerState holds only the presence, so two texts equal after redaction parse to equal states.
    """
    start = 79 if chunk[64:79] == _PSK_AFTER_KEY else chunk.find(b"\npreshared_key=") + 15
    if start < 15:
        return chunk
    end = start + 64
    return chunk[:start] + (b"0" if chunk[start:end] == _ZERO_HEX else b"1") + chunk[end:]


def _parse_peer(chunk: bytes) -> PeerState:
    lines = chunk.split(b"\n")
    public = keys.hex_to_b64(lines[0].decode("ascii"))
    endpoint: str | None = None
    allowed: list[str] = []
    handshake = rx = tx = keepalive = 0
    psk = False
    for line in lines[1:]:
        key, _, value = line.partition(b"=")
        if key == b"allowed_ip":
            allowed.append(value.decode("ascii"))
        elif key == b"last_handshake_time_sec":
            handshake = int(value)
        elif key == b"rx_bytes":
            rx = int(value)
        elif key == b"tx_bytes":
            tx = int(value)
        elif key == b"endpoint":
            endpoint = value.decode("ascii")
        elif key == b"preshared_key":
            psk = value != _ZERO_HEX
        elif key == b"persistent_keepalive_interval":
            keepalive = int(value)
        # protocol_version, last_handshake_time_nsec and keys of future versions carry nothing we show.
    return PeerState(public_key=public, endpoint=endpoint, allowed_ips=tuple(allowed), latest_handshake=handshake,
                     rx_bytes=rx, tx_bytes=tx, persistent_keepalive=keepalive, has_preshared_key=psk)


def parse_get(data: bytes, ifname: str, cache: PeerCache | None = None, up: bool = True) -> InterfaceState:
    """The InterfaceState in one `get=1` answer. With a cache, unchanged peers are not parsed again.

    Raises BackendError when the daemon reports an error or the text is malformed.
    """
    start, code = _errno_line(data)
    if code != 0:
        raise BackendError(f"The WireGuard daemon of {ifname} could not report its state ({errno_text(code)}).")
    cache = cache if cache is not None else new_cache()
    # Split the answer as it is (no copy of a body without the errno line): the first part holds the device lines
    # (or nothing, when the answer starts with a peer), and the errno line is cut off the last part.
    parts = (data if data[:11] != b"public_key=" else b"\n" + data).split(_PEER_SEP)
    tail = len(data) - start + 1
    if len(parts) == 1:
        parts[0] = parts[0][: max(0, len(parts[0]) - tail)]
    else:
        parts[-1] = parts[-1][: len(parts[-1]) - tail]
    public_key: str | None = None
    listen_port = fwmark = 0
    old = cache.entries
    changed: list[tuple[bytes, bytes, PeerState]] = []
    pubs: list[bytes] = []
    hits = 0
    try:
        for line in parts[0].split(b"\n"):
            key, _, value = line.partition(b"=")
            if key == b"private_key":
                # Only the public half leaves this function; the private key is dropped with `data`.
                if value != _ZERO_HEX:
                    public_key = keys.public_key(keys.hex_to_b64(value.decode("ascii")))
            elif key == b"listen_port":
                listen_port = int(value)
            elif key == b"fwmark":
                fwmark = int(value)
        # The hot loop of a poll: one pass of slices and comparisons per peer, parsing only peers whose text
        # changed. wireguard-go writes the preshared key right after the public key: the text after that line is
        # compared, and the key's presence through the cached state, so that no secret is ever kept.
        get = old.get
        for chunk in parts[1:]:
            pub = chunk[:64]
            if len(pub) != 64 or chunk[64:65] not in (b"\n", b""):
                raise ValueError("a public_key line is not 64 hex digits")
            pubs.append(pub)
            known = get(pub)
            # startswith/endswith at offsets compare in place: an unchanged peer costs no copy of its text.
            fast = chunk.startswith(_PSK_AFTER_KEY, 64) and chunk.startswith(b"\n", 143)
            if known is not None:
                hits += 1
                if fast:
                    if (len(chunk) - 144 == len(known[0]) and chunk.endswith(known[0])
                            and known[1].has_preshared_key != chunk.startswith(_ZERO_HEX, 79)):
                        continue
                elif known[0] == b"\0" + _redacted(chunk):
                    continue
            changed.append((pub, chunk[144:] if fast else b"\0" + _redacted(chunk), _parse_peer(chunk)))
    except UnicodeDecodeError:
        # Not echoed: the offending bytes could belong to a key.
        raise BackendError(f"The WireGuard daemon of {ifname} answered with non-ASCII text.") from None
    except ValueError as exc:
        raise BackendError(f"The WireGuard daemon of {ifname} answered with malformed text ({exc}).") from None
    count = len(pubs)
    if cache.peers is not None and hits == len(old) == count:
        # The same peers as last time (a Go map: no key twice): update the changed ones in a copy, in place.
        peers = cache.peers.copy()
        for pub, text, state in changed:
            old[pub] = (text, state)
            peers[state.public_key] = state
    else:
        # Peers came or went. wireguard-go lists peers in Go map order, which changes on every read: keep known
        # peers where they were and append new ones, as the kernel does, so the table does not reshuffle.
        updated = {pub: (text, state) for pub, text, state in changed}
        fresh = {pub: updated.get(pub) or old[pub] for pub in pubs}
        entries = {k: fresh[k] for k in old if k in fresh}
        entries.update(fresh)
        cache.entries = entries
        peers = {state.public_key: state for _, state in entries.values()}
    cache.peers = peers
    cache.parsed, cache.reused = len(changed), count - len(changed)
    return InterfaceState(name=ifname, backend="userspace", up=up, public_key=public_key,
                          listen_port=listen_port, fwmark=fwmark, peers=peers)


def find_private_key(body: bytes) -> str | None:
    """The interface's base64 private key in a `get=1` body (device lines come before the first peer)."""
    head = body.split(_PEER_SEP, 1)[0]
    for line in (b"\n" + head).split(b"\n"):
        key, _, value = line.partition(b"=")
        if key == b"private_key":
            return None if value == _ZERO_HEX else keys.hex_to_b64(value.decode("ascii"))
    return None


def find_preshared_key(body: bytes, public_key: str) -> str | None:
    """The base64 preshared key of one peer in a `get=1` body, or None when it has none or is absent."""
    start = (b"\n" + body).find(_PEER_SEP + keys.b64_to_hex(public_key).encode())
    if start < 0:
        return None
    chunk = body[start:]
    end = chunk.find(_PEER_SEP)
    for line in (chunk if end < 0 else chunk[:end]).split(b"\n"):
        key, _, value = line.partition(b"=")
        if key == b"preshared_key":
            return None if value == _ZERO_HEX else keys.hex_to_b64(value.decode("ascii"))
    return None


def _key_hex(value: object, what: str, peer: str) -> str:
    if not isinstance(value, str):
        raise BackendError(f"Peer {keys.short_key(peer)}: the {what} must be a base64 key.")
    try:
        return keys.parse_key(value).hex()
    except keys.KeyError_ as exc:
        raise BackendError(f"Peer {keys.short_key(peer)}: the {what} is not valid: {exc}.") from None


def format_endpoint(text: object) -> str:
    """An endpoint as UAPI takes it (`192.0.2.1:51820`, `[2001:db8::1]:51820`); host names are resolved.

    Raises BackendError for anything else, so no caller-supplied byte reaches the socket unchecked.
    """
    if not isinstance(text, str):
        raise BackendError("An endpoint must be written host:port or [IPv6]:port.")
    match = _ENDPOINT_V6_RE.fullmatch(text) or _ENDPOINT_HOST_RE.fullmatch(text)
    if match is None:
        raise BackendError(f"The endpoint {text!r} is not host:port or [IPv6]:port.")
    host, port = match.group(1), int(match.group(2))
    if not 0 < port < 65536:
        raise BackendError(f"The endpoint {text!r} has a port outside 1–65535.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if text.startswith("[") or not _HOSTNAME_RE.fullmatch(host):
            raise BackendError(f"The endpoint {text!r} does not name a valid IP address or host.") from None
        address = _resolve(host, port)
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None and not IFNAME_RE.fullmatch(address.scope_id):
            raise BackendError(f"The endpoint {text!r} has an invalid scope.")
        return f"[{address}]:{port}"
    return f"{address}:{port}"


def _resolve(host: str, port: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    # UAPI takes addresses only; wg(8) resolves names client-side and takes the first answer, and so do we.
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM, proto=socket.IPPROTO_UDP)
    except OSError as exc:
        raise BackendError(f"The endpoint host {host!r} could not be resolved ({exc}).") from None
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            return ipaddress.ip_address(sockaddr[0])
    raise BackendError(f"The endpoint host {host!r} has no IPv4 or IPv6 address.")


def format_allowed_ip(text: object) -> str:
    """A prefix in canonical form (host bits zeroed, as WireGuard reports it back)."""
    if not isinstance(text, str):
        raise BackendError("An allowed IP must be written as an address or CIDR prefix.")
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise BackendError(f"The allowed IP {text!r} is not an address or CIDR prefix.") from None


def _update_lines(update: PeerUpdate) -> list[str]:
    peer = update.public_key
    lines = [f"public_key={_key_hex(peer, 'public key', str(peer))}"]
    if update.remove:
        if (update.preshared_key, update.endpoint, update.persistent_keepalive, update.allowed_ips) != (KEEP,) * 4:
            raise BackendError(f"Peer {keys.short_key(peer)}: a removal cannot also change the peer.")
        # update_only: removing a peer that is already gone must not create and drop it on the way.
        return [*lines, "update_only=true", "remove=true"]
    if update.preshared_key is not KEEP:
        psk = update.preshared_key
        lines.append("preshared_key=" + ("0" * 64 if psk is None else _key_hex(psk, "preshared key", peer)))
    if update.endpoint is not KEEP:
        lines.append(f"endpoint={format_endpoint(update.endpoint)}")
    if update.persistent_keepalive is not KEEP:
        interval = update.persistent_keepalive
        if isinstance(interval, bool) or not isinstance(interval, int) or not 0 <= interval <= 65535:
            raise BackendError(f"Peer {keys.short_key(peer)}: keepalive must be 0–65535 seconds.")
        lines.append(f"persistent_keepalive_interval={interval}")
    if update.allowed_ips is not KEEP:
        if not isinstance(update.allowed_ips, tuple):
            raise BackendError(f"Peer {keys.short_key(peer)}: allowed IPs must be a tuple of prefixes.")
        lines.append("replace_allowed_ips=true")
        lines.extend(f"allowed_ip={format_allowed_ip(prefix)}" for prefix in update.allowed_ips)
    return lines


def build_set(updates: Sequence[PeerUpdate]) -> bytes:
    """One `set=1` transaction for all updates, in order. Validates everything before anything is sent."""
    lines = ["set=1"]
    for update in updates:
        if not isinstance(update, PeerUpdate):
            raise BackendError("Only PeerUpdate values can be applied.")
        lines.extend(_update_lines(update))
    for line in lines:
        # Every value was re-rendered from parsed data above; this guards the invariant, not the input.
        if not _SAFE_LINE_RE.fullmatch(line):
            raise BackendError(f"Refusing to send an unsafe UAPI line {line!r}.")
    return ("\n".join(lines) + "\n\n").encode("ascii")
