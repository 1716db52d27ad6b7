"""Provides field validation for peer forms and the command line: each validator normalises or explains."""

# Every validator returns the normalised value or raises ValidationError(field, message, label): `message`
# is a sentence without the field's name (for under a form input), `str(error)` is "Label: message" (stderr).

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet

from ..ipalloc import fast_prefix, format_prefix
from ..keys import KeyError_, parse_key
from .errors import ValidationError
from .lines import LINE_BREAKS
from .names import RESTRICTED, Convention

NAME_MAX = 64
RESTRICTED_NAME_MAX = 15
_RESTRICTED_RE = re.compile(r"[A-Za-z0-9_-]+\Z")
_LABEL_RE = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_DIGITS_RE = re.compile(r"[0-9]+\Z")

LABELS = {
    "name": "Name",
    "public_key": "Public key",
    "preshared_key": "Preshared key",
    "private_key": "Private key",
    "allowed_ips": "Allowed IPs",
    "address": "Address",
    "endpoint": "Endpoint",
    "persistent_keepalive": "Persistent keepalive",
    "listen_port": "Listen port",
}


def _error(field: str, message: str) -> ValidationError:
    return ValidationError(field, message, LABELS.get(field, field))


def validate_name(name: str, convention: Convention | None = None, taken: Iterable[str] = ()) -> str:
    """A peer name: 1..64 characters on one line, no control or invisible characters, no '#', no leading or
    trailing space, and whatever the convention it is written in needs to read it back: `### Client` and
    Nyr's `# BEGIN_PEER` (whose scripts cut names at 15 characters of [A-Za-z0-9_-]) take only those.
    `taken` are names other peers already have."""
    if not name.strip():
        raise _error("name", "must not be empty")
    for ch in name:
        if ch in LINE_BREAKS:
            raise _error("name", f"must stay on one line (it contains a line break, U+{ord(ch):04X})")
        category = unicodedata.category(ch)
        if category == "Cc":
            raise _error("name", f"must not contain the control character U+{ord(ch):04X}")
        if category[0] == "C" or category in ("Zl", "Zp"):
            raise _error("name", f"must not contain the invisible or unassigned character U+{ord(ch):04X}")
    if "#" in name:
        raise _error("name", "must not contain '#': wg-quick and other tools cut a line at '#'")
    if name != name.strip():
        raise _error("name", "must not start or end with a space")
    if len(name) > NAME_MAX:
        raise _error("name", f"must be at most {NAME_MAX} characters (this one has {len(name)})")
    if convention in RESTRICTED:
        assert convention is not None
        if not _RESTRICTED_RE.match(name):
            raise _error(
                "name",
                f"may only use letters, digits, '_' and '-' in this file's naming ({convention.example})",
            )
        if len(name) > RESTRICTED_NAME_MAX:
            raise _error(
                "name",
                f"must be at most {RESTRICTED_NAME_MAX} characters in this file's naming ({convention.example})",
            )
    if name in (taken if isinstance(taken, AbstractSet) else set(taken)):  # a batch passes thousands, as a set
        raise _error("name", f"{name!r} is already the name of another peer")
    return name


def validate_key(text: str, field: str = "public_key") -> str:
    """A base64 WireGuard key (32 bytes), stripped."""
    text = text.strip()
    if not text:
        raise _error(field, "must not be empty")
    try:
        parse_key(text)
    except KeyError_ as err:
        raise _error(field, f"is not a WireGuard key: {err}") from None
    return text


def validate_cidr(text: str, field: str = "allowed_ips") -> str:
    """An IP network as the kernel reports it: host bits zeroed (`10.0.0.5/24` → `10.0.0.0/24`), a bare
    address as /32 or /128, IPv6 compressed."""
    fast = fast_prefix(text)  # the usual spellings, read without ipaddress: the same answer, ~20x sooner
    if fast is not None:
        return format_prefix(fast)
    return validate_cidr_slow(text, field)


def validate_cidr_slow(text: str, field: str = "allowed_ips") -> str:
    """`validate_cidr` through ipaddress alone: the reference the fast path is tested against."""
    text = text.strip()
    if not text:
        raise _error(field, "must not be empty")
    address, slash, prefix = text.partition("/")
    if "%" in address:
        raise _error(field, f"{text!r}: a network cannot carry an interface scope (the part after '%')")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise _error(
            field, f"{address!r} is not an IPv4 or IPv6 address (e.g. 10.0.0.2/32 or fd00::2/128)"
        ) from None
    if not slash:
        prefix = str(ip.max_prefixlen)
    if not _DIGITS_RE.match(prefix):
        raise _error(field, f"{text!r}: the prefix length after '/' must be a number")
    if int(prefix) > ip.max_prefixlen:
        raise _error(field, f"{text!r}: an IPv{ip.version} prefix is at most /{ip.max_prefixlen}")
    return str(ipaddress.ip_network(f"{ip}/{int(prefix)}", strict=False))


def validate_allowed_ips(value: str | Sequence[str], field: str = "allowed_ips") -> tuple[str, ...]:
    """A comma-separated list (or a sequence) of networks, each normalised, duplicates dropped.
    An empty list is allowed: a peer may have no allowed IPs (during a key rotation)."""
    items = value.split(",") if isinstance(value, str) else [i for v in value for i in v.split(",")]
    out: list[str] = []
    for item in items:
        if item.strip():
            network = validate_cidr(item, field)
            if network not in out:
                out.append(network)
    return tuple(out)


def _validate_port(text: str, field: str) -> int:
    if not _DIGITS_RE.match(text):
        raise _error(field, f"the port {text!r} must be a number from 1 to 65535")
    port = int(text)
    if not 1 <= port <= 65535:
        raise _error(field, f"the port {port} must be from 1 to 65535")
    return port


def validate_hostname(host: str, field: str = "endpoint") -> str:
    """An RFC 1123 host name (labels of letters, digits and inner hyphens; one trailing dot allowed)."""
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if len(host) > 253 or not all(_LABEL_RE.match(label) for label in labels):
        raise _error(field, f"{host!r} is neither an IP address nor a valid host name")
    if all(label.isdigit() for label in labels):
        raise _error(field, f"{host!r} is not a valid IPv4 address")
    return host


def validate_endpoint(text: str, field: str = "endpoint") -> str:
    """`host:port`, `ipv4:port` or `[ipv6]:port`, port 1..65535; returned as WireGuard writes it."""
    text = text.strip()
    if not text:
        raise _error(field, "must not be empty")
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise _error(field, f"{text!r} should look like [2001:db8::1]:51820")
        try:
            ip6 = ipaddress.IPv6Address(host)
        except ValueError:
            raise _error(field, f"{host!r} is not an IPv6 address") from None
        return f"[{ip6}]:{_validate_port(rest[1:], field)}"
    if text.count(":") > 1:
        raise _error(field, "put an IPv6 address in brackets, like [2001:db8::1]:51820")
    host, colon, port = text.rpartition(":")
    if not colon:
        raise _error(field, f"{text!r} needs a port, like {text}:51820")
    if not host:
        raise _error(field, f"{text!r} needs a host name or address before the port")
    number = _validate_port(port, field)
    try:
        return f"{ipaddress.IPv4Address(host)}:{number}"
    except ValueError:
        return f"{validate_hostname(host, field)}:{number}"


def validate_keepalive(value: str | int, field: str = "persistent_keepalive") -> int:
    """Seconds between keepalives, 0..65535; 0 or "off" means off."""
    if isinstance(value, bool):
        raise _error(field, "must be a number of seconds from 0 to 65535")
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "off":
            return 0
        if not _DIGITS_RE.match(text):
            raise _error(field, f"{text!r} is not a whole number of seconds (0 to 65535, 0 means off)")
        value = int(text)
    if not 0 <= value <= 65535:
        raise _error(field, f"{value} is out of range: 0 to 65535 seconds (0 means off)")
    return value


def validate_listen_port(value: str | int, field: str = "listen_port") -> int:
    """A UDP port 1..65535."""
    return _validate_port(str(value).strip(), field)
