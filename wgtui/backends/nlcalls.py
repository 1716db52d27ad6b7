"""Provides what the kernel backend sends to change a peer: pyroute2 WireGuard.set() arguments, checked first."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from wgtui.backends.base import BackendError
from wgtui.model import KEEP, PeerUpdate

MAX_ALLOWED_IPS_PER_CALL = 1000
"""pyroute2 packs a peer into one attribute with a 16-bit length: ~2300 IPv4 prefixes overflow it."""


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    """(address, port) of `host:port` or `[v6]:port`, resolving a host name as `wg set` does."""
    host, sep, port_text = endpoint.strip().rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise BackendError(f"The endpoint {endpoint!r} is not host:port.")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise BackendError(f"The endpoint {endpoint!r} needs brackets around its IPv6 address: [addr]:port.")
    if "%" in host:
        raise BackendError(f"The endpoint {endpoint!r} has a zone index, which the kernel backend cannot send.")
    try:
        return str(ipaddress.ip_address(host)), int(port_text)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, int(port_text), type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise BackendError(f"The endpoint host {host!r} cannot be resolved: {exc}.") from None
    if not infos:
        raise BackendError(f"The endpoint host {host!r} cannot be resolved.")
    return str(infos[0][4][0]), int(port_text)


def _prefix(text: str) -> str:
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise BackendError(f"{text!r} is not an IP prefix such as 10.0.0.2/32 or fd00::2/128.") from None
    return f"{net.network_address}/{net.prefixlen}"


def peer_calls(update: PeerUpdate) -> list[dict[str, Any]]:
    """The `peer` arguments for pyroute2's WireGuard.set(), in order, that carry out one update."""
    from wgtui import keys

    try:
        keys.parse_key(update.public_key)
    except keys.KeyError_ as exc:
        raise BackendError(f"The peer key {update.public_key!r} is not valid: {exc}.") from None
    if update.remove:
        return [{"public_key": update.public_key, "remove": True}]
    first: dict[str, Any] = {"public_key": update.public_key}
    if update.preshared_key is None:
        first["preshared_key"] = keys.ZERO_KEY  # 32 zero bytes is how WireGuard spells "no preshared key"
    elif update.preshared_key is not KEEP:
        if not keys.is_key(update.preshared_key):
            raise BackendError("The preshared key is not 44 characters of base64.")
        first["preshared_key"] = update.preshared_key.strip()
    if update.endpoint is not KEEP:
        first["endpoint_addr"], first["endpoint_port"] = _split_endpoint(update.endpoint)
    if update.persistent_keepalive is not KEEP:
        if not 0 <= update.persistent_keepalive <= 65535:
            raise BackendError("A persistent keepalive is 0 (off) to 65535 seconds.")
        first["persistent_keepalive"] = update.persistent_keepalive  # 0 must be sent: omitting keeps the old
    calls = [first]
    if update.allowed_ips is not KEEP:
        prefixes = [_prefix(p) for p in update.allowed_ips]
        first["replace_allowed_ips"] = True  # an empty list with this flag clears them
        step = MAX_ALLOWED_IPS_PER_CALL
        chunks = [prefixes[i : i + step] for i in range(0, len(prefixes), step)]
        if chunks:
            first["allowed_ips"] = chunks[0]
        calls += [{"public_key": update.public_key, "allowed_ips": chunk} for chunk in chunks[1:]]
    return calls
