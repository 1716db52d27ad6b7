"""Provides the value rules of wg and wg-quick: why each would refuse one setting's value (None: it would not)."""

# The rules follow wireguard-tools as it reads files: src/config.c (`wg setconf`, which removes every space of a line
# before parsing it) and src/wg-quick/linux.bash. wgtui.conf.check applies them to every setting of a file.

from __future__ import annotations

import base64
import ipaddress
import re
import socket

from ..ipalloc import fast_prefix_cached
from ..keys import KeyError_, parse_key
from .errors import ValidationError
from .validate import validate_cidr, validate_keepalive

WG_DEVICE_KEYS = frozenset({"privatekey", "listenport", "fwmark"})
WG_QUICK_KEYS = frozenset({"address", "dns", "mtu", "table", "preup", "postup", "predown", "postdown", "saveconfig"})
INTERFACE_KEYS = WG_DEVICE_KEYS | WG_QUICK_KEYS
PEER_KEYS = frozenset({"publickey", "presharedkey", "allowedips", "endpoint", "persistentkeepalive"})
KEY_FIELDS = frozenset({"privatekey", "publickey", "presharedkey"})

_FAST_KEY = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\Z")
"""A key as wg writes it: 43 base64 characters, the last with its two unused bits zero, and '='. `_key_problem` has
nothing to say about such a text (the test suite checks that on every possible last character)."""
_C_SPACE = re.compile(r"[ \t\n\v\f\r]")
"""What wg's char_is_space removes from a line (bytes 9-13 and 32)."""
_DIGITS = re.compile(r"[0-9]+\Z")
_HOST_LABEL = re.compile(r"[A-Za-z0-9_-]+\Z")
_SERVICE = re.compile(r"[A-Za-z][A-Za-z0-9-]*\Z")


# -- the value rules of wg setconf (config.c) --------------------------------------------------------------


def _key_problem(value: str) -> str | None:
    """Why wg's key_from_base64 would refuse `value`, or None."""
    if _FAST_KEY.match(value):
        return None
    return _key_problem_slow(value)


def _key_problem_slow(value: str) -> str | None:
    """`_key_problem` by decoding: the reference `_FAST_KEY` is tested against."""
    try:
        raw = parse_key(value)
    except KeyError_ as err:
        return f"is not a WireGuard key: {err}"
    # key_from_base64 also refuses a last character whose unused low bits are set: such a text decodes to a
    # key, but no tool writes it, so it is a typo.
    if base64.b64encode(raw).decode() != value:
        return "is not a WireGuard key: its last character before '=' is not one that a key can end in"
    return None


def _wg_problem(key: str, value: str, written: str) -> str | None:
    """Why `wg setconf` would refuse `value` (spaces already removed) for `key`, or None."""
    if not value:
        # get_value() finds no value in "Key=", so wg calls the line unrecognized: even an empty AllowedIPs.
        return "has no value, and wg refuses the line (\"Line unrecognized\"); delete it or give it a value"
    if key in KEY_FIELDS:
        return _key_problem(value)
    if key == "listenport":
        if _port(value, allow_zero=True) is None:
            return f"{value!r} is not a UDP port: a number from 0 to 65535 (0 picks a free port) or a service name"
        return None
    if key == "fwmark":
        if value.lower() == "off":
            return None
        if value.startswith("0x") and len(value) > 2:
            number = int(value, 16) if re.fullmatch(r"[0-9A-Fa-f]+", value[2:]) else None
        else:
            number = int(value) if _DIGITS.match(value) else None
        if number is None or number > 0xFFFFFFFF:
            return f"{value!r} is neither off nor a number from 0 to 0xffffffff"
        return None
    if key == "persistentkeepalive":
        try:
            validate_keepalive(value)
        except ValidationError as err:
            return err.message
        return None
    if key == "allowedips":
        return _allowed_ips_problem(written)
    return _endpoint_problem(value)


def _allowed_ips_problem(written: str) -> str | None:
    for raw in written.split(","):
        plain = raw.strip(" ")
        if fast_prefix_cached(plain[1:] if plain[:1] in ("+", "-") else plain) is not None:
            continue  # a network in its usual spelling (nothing for _C_SPACE to remove): valid
        item = _C_SPACE.sub("", raw)
        if not item:
            return "has an empty item (a stray comma), which wg refuses"
        try:
            # Newer wg reads a leading '+' or '-' as "add to" or "remove from" the peer's list.
            validate_cidr(item[1:] if item[0] in "+-" else item)
        except ValidationError as err:
            if item != raw.strip(" \t\n\v\f\r"):
                return f"item {raw.strip()!r} has a space inside, so wg reads {item!r}; separate items with commas"
            return f"item {err.message}"
    return None


def _port(text: str, allow_zero: bool) -> int | None:
    """The port getaddrinfo() makes of a service text, or None. Numbers over 65535 are refused although glibc
    wraps them around: nobody means port 70000 - 65536."""
    if _DIGITS.match(text):
        number = int(text)
        return number if (0 if allow_zero else 1) <= number <= 65535 else None
    if not _SERVICE.match(text):
        return None
    try:
        return socket.getservbyname(text, "udp")
    except OSError:
        return None


def _endpoint_problem(value: str) -> str | None:
    """What keeps `value` from being the `host:port` or `[ipv6]:port` that wg's parse_endpoint splits."""
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket:
            return f"{value!r} has no ']' after the IPv6 address, like [2001:db8::1]:51820"
        if not rest.startswith(":") or rest == ":":
            return f"{value!r} needs a port after the ']', like [2001:db8::1]:51820"
        port = rest[1:]
    else:
        host, colon, port = value.rpartition(":")
        if not colon or not port:
            return f"{value!r} needs a port, like {value.rstrip(':')}:51820"
    if not host:
        return f"{value!r} needs a host name or address before the port"
    bad_host = _host_problem(host)
    if bad_host is not None:
        return bad_host
    if _port(port, allow_zero=False) is None:
        return f"{value!r}: {port!r} is not a UDP port from 1 to 65535"
    return None


def _host_problem(host: str) -> str | None:
    """Hosts that getaddrinfo() cannot resolve whatever the DNS says; unbracketed IPv6 is fine to wg."""
    if ":" in host or "%" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"{host!r} is not an IPv6 address"
        return None
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if all(label.isdigit() and label.isascii() for label in labels):
        # inet_aton() forms: a.b.c.d, and the shorter a.b.c, a.b and a whose last part fills the rest.
        values = [int(label) for label in labels]
        if len(values) <= 4 and all(v <= 255 for v in values[:-1]) and values[-1] < 256 ** (5 - len(values)):
            return None
        return f"{host!r} is not an IPv4 address"
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        return f"{host!r} is neither an IP address nor a host name"
    return None


# -- the value rules of wg-quick (linux.bash) --------------------------------------------------------------


def _shell_words(value: str) -> list[str]:
    """`${value//,/ }` unquoted: commas and spaces both separate, empty items vanish."""
    return [w for w in re.split(r"[,\s]+", value) if w]


def _strtol0(text: str) -> int | None:
    """A non-negative integer as strtol(text, 0) reads it whole (ip link reads MTU so), or None."""
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
        return int(text, 16)
    if re.fullmatch(r"0[0-7]*", text):
        return int(text, 8)
    if re.fullmatch(r"[1-9][0-9]*", text):
        return int(text)
    return None


def _wg_quick_problem(key: str, value: str) -> str | None:
    """Why wg-quick (or the command it runs for `key`) would fail on `value`, or None."""
    if key == "address":
        for word in _shell_words(value):
            try:
                validate_cidr(word, "address")
            except ValidationError as err:
                return f"{err.message}; `ip address add` refuses it"
        return None
    if key == "dns":
        for word in _shell_words(value):
            # wg-quick's own test: digits and dots, or any ':', is a server; anything else a search domain.
            if re.fullmatch(r"[0-9.]+", word) or ":" in word:
                try:
                    ipaddress.ip_address(word)
                except ValueError:
                    return f"{word!r} looks like a DNS server but is no IP address, so resolvconf gets a broken entry"
        return None
    if key == "mtu":
        if value and _strtol0(value) is None:
            return f"{value!r} is not a number, so `ip link set mtu` fails and wg-quick takes the interface down"
        return None
    if key == "saveconfig" and value.lower() not in ("true", "false"):
        return f"{value!r} is neither true nor false, and wg-quick refuses it"
    return None
