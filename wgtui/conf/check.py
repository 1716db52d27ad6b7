"""Provides the config checker: what wg and wg-quick would refuse in a wg-quick file, and what is risky in it."""

# The rules follow wireguard-tools as it reads files: src/config.c (`wg setconf`, which removes every space
# of a line before parsing it) and src/wg-quick/linux.bash (which consumes the keys of WG_QUICK_KEYS and hands
# every other line to wg). Where they are lenient, so is this module, so that no working file is called broken;
# it is stricter only where they accept what cannot work as meant (an endpoint port of 0 or over 65535) and
# for a second [Interface] section, which they silently merge into the first.

from __future__ import annotations

import base64
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter

from ..compat import StrEnum
from ..ipalloc import CIDR_PATTERN, fast_prefix_cached, ipv4_hosts
from ..keys import KeyError_, parse_key, public_key
from .edit import Document
from .errors import ParseError, ValidationError
from .lines import canonical_key, no_gc
from .validate import validate_cidr, validate_keepalive
from .views import Field, PeerView, lower_key

WG_DEVICE_KEYS = frozenset({"privatekey", "listenport", "fwmark"})
WG_QUICK_KEYS = frozenset({"address", "dns", "mtu", "table", "preup", "postup", "predown", "postdown", "saveconfig"})
INTERFACE_KEYS = WG_DEVICE_KEYS | WG_QUICK_KEYS
PEER_KEYS = frozenset({"publickey", "presharedkey", "allowedips", "endpoint", "persistentkeepalive"})
KEY_FIELDS = frozenset({"privatekey", "publickey", "presharedkey"})
_PEER_KEY_FIELDS = KEY_FIELDS & PEER_KEYS
_KEY: Callable[[Field], str] = itemgetter(0)

_FAST_KEY = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\Z")
"""A key as wg writes it: 43 base64 characters, the last with its two unused bits zero, and '='. `_key_problem` has
nothing to say about such a text (the test suite checks that on every possible last character)."""
_KEYS_BLOCK = re.compile(r"(?:[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\n)*[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")
"""Lines of keys that `_FAST_KEY` accepts, one after the other."""
_ITEMS = rf"[ ]*[+-]?{CIDR_PATTERN}[ ]*(?:,[ ]*[+-]?{CIDR_PATTERN}[ ]*)*"


def _keys_block() -> re.Pattern[str]:
    return _KEYS_BLOCK


@cache
def _ips_block() -> re.Pattern[str]:
    """Compiled when first needed (a few milliseconds that `wgtui --version` need not pay)."""
    return re.compile(rf"(?:{_ITEMS}\n)*{_ITEMS}")

"""Lines of AllowedIPs values each of whose items `fast_prefix` reads (after spaces and a '+' or '-' sign)."""
_C_SPACE = re.compile(r"[ \t\n\v\f\r]")
"""What wg's char_is_space removes from a line (bytes 9-13 and 32)."""
_DIGITS = re.compile(r"[0-9]+\Z")
_HOST_LABEL = re.compile(r"[A-Za-z0-9_-]+\Z")
_SERVICE = re.compile(r"[A-Za-z][A-Za-z0-9-]*\Z")


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem of a file: where, how bad, a stable code, and a sentence saying what to do."""

    severity: Severity
    line: int | None
    """1-based line number, or None when the finding is about the whole file."""
    code: str
    message: str
    """One sentence without the finding's own line number."""


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def format_findings(path: str, findings: Sequence[Finding]) -> str:
    """One line per finding, like a compiler: `PATH:LINE: error: message`, `PATH: warning: message` without a
    line; newline-terminated, "" when there are none."""
    out = []
    for f in findings:
        where = path if f.line is None else f"{path}:{f.line}"
        out.append(f"{where}: {f.severity.value}: {f.message}\n")
    return "".join(out)


def check_bytes(data: bytes, *, interface_public_key: str | None = None) -> list[Finding]:
    """Every finding, errors and warnings, sorted by line (None first).

    `interface_public_key` is the running interface's public key; it finds a peer that has the interface's own
    key when the file has no (valid) PrivateKey to derive it from."""
    return check_and_parse(data, interface_public_key=interface_public_key)[0]


def check_and_parse(data: bytes, *, interface_public_key: str | None = None,
                    errors_only: bool = False) -> tuple[list[Finding], Document | None]:
    """`check_bytes`, and the document it parsed (None when the file does not parse): a caller that goes on to use
    the file parses it once. With `errors_only`, the warnings are neither worked out nor returned (what a change
    needs to know: the errors are exactly those of `check_bytes`)."""
    found = _encoding_findings(data)
    doc = None
    if not found:
        try:
            doc = Document.from_bytes(data)
        except ParseError as err:
            found = [Finding(Severity.ERROR, err.line, "parse", err.reason)]
        else:
            with no_gc():
                found = _Checker(doc, interface_public_key, warnings=not errors_only).run()
    return sorted(found, key=lambda f: (f.line is not None, f.line or 0)), doc


def _encoding_findings(data: bytes) -> list[Finding]:
    """NUL bytes and bytes that are not UTF-8: after either, nothing else in the file can be trusted."""
    out = []
    nul = data.find(b"\0")
    if nul >= 0:
        out.append(Finding(
            Severity.ERROR, data.count(b"\n", 0, nul) + 1, "nul-byte",
            "this line holds a NUL byte: wg stops reading the line there and wg-quick drops it, so they read "
            "different files; remove it",
        ))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        out.append(Finding(
            Severity.ERROR, data.count(b"\n", 0, err.start) + 1, "not-utf8",
            f"byte 0x{data[err.start]:02x} is not UTF-8 ({err.reason}); save the file as UTF-8",
        ))
    return out


def _last_line(peer: PeerView, key: str) -> int:
    """0-based line of the peer's last setting of `key` (lower case)."""
    return next(f.line for f in reversed(peer.section.fields) if lower_key(f.key) == key)


def _this(peer: PeerView) -> str:
    return f"peer {peer.name!r}" if peer.name else "this peer"


def _ref(peer: PeerView) -> str:
    """Another peer, for a message: its name when it has one, always its header line."""
    if peer.name:
        return f"peer {peer.name!r} (line {peer.section.number})"
    return f"the peer at line {peer.section.number}"


class _Checker:
    def __init__(self, doc: Document, interface_public_key: str | None, warnings: bool = True) -> None:
        self.doc = doc
        self.running_key = interface_public_key.strip() if interface_public_key else None
        self.out: list[Finding] = []
        self.warnings = warnings
        """False: only errors are looked for (and warnings are not recorded)."""
        self.well_formed: set[str] = set()
        """"key": every PublicKey and PresharedKey of the peers is one `_FAST_KEY` accepts."""

    def error(self, line: int | None, code: str, message: str) -> None:
        self.out.append(Finding(Severity.ERROR, line, code, message))

    def warn(self, line: int | None, code: str, message: str) -> None:
        if self.warnings:
            self.out.append(Finding(Severity.WARNING, line, code, message))

    def run(self) -> list[Finding]:
        doc = self.doc
        if doc.bom:
            self.warn(1, "bom",
                      "the file starts with a UTF-8 byte-order mark: the Windows client skips it, but wg-quick on "
                      "Linux then misses the [Interface] header and wg refuses the file; remove the mark there")
        interfaces = [s for s in doc.sections if s.kind == "Interface"]
        if not interfaces:
            self.warn(None, "no-interface",
                      "the file has no [Interface] section: fine for `wg addconf`, but wg-quick would bring up an "
                      "interface without a private key or an address")
        for extra in interfaces[1:]:
            self.error(extra.number, "two-interfaces",
                       f"a second [Interface] section: wg-quick quietly merges it into the one at line "
                       f"{interfaces[0].number}, so its settings override those above; keep one [Interface]")
        # The [Peer] sections' keys and AllowedIPs (most of a large file) are first checked all at once, each kind with
        # one regex over its values; only when that finds something odd is each value checked alone (which says what
        # is wrong). Fields are grouped by how their key is spelled: a file spells its keys a few ways only.
        peer_fields: list[Field] = []
        for section in doc.sections:
            if section.kind == "Peer":
                peer_fields += section.fields
            else:
                for field in section.fields:
                    self.field(section.kind, field)
        groups: dict[str, set[str]] = {"key": set(), "allowedips": set(), "other": set()}
        for spelling in set(map(_KEY, peer_fields)):
            key = lower_key(spelling)
            groups["key" if key in _PEER_KEY_FIELDS else "allowedips" if key == "allowedips" else "other"].add(spelling)
        if groups["other"]:
            other = groups["other"]
            for field in peer_fields:
                if field.key in other:
                    self.field("Peer", field)
        patterns: tuple[tuple[str, Callable[[], re.Pattern[str]]], ...] = (("key", _keys_block),
                                                                           ("allowedips", _ips_block))
        for name, pattern in patterns:
            spellings = groups[name]
            if not spellings:
                continue
            batch = [field for field in peer_fields if field.key in spellings]
            values = "\n".join([field.value for field in batch])
            if name == "allowedips" and ipv4_hosts(values, len(batch)) is not None:
                continue  # the commonest file: one IPv4 host per line, read without the big pattern
            if values.count("\n") == len(batch) - 1 and pattern().fullmatch(values):
                self.well_formed.add(name)
            else:
                for field in batch:
                    self.field("Peer", field)
        self.save_config()
        self.peers()
        return self.out

    # -- one setting at a time ----------------------------------------------------------------------------

    def field(self, kind: str, field: Field) -> None:
        key = lower_key(field.key)
        here, other = (INTERFACE_KEYS, "a [Peer]") if kind == "Interface" else (PEER_KEYS, "the [Interface]")
        if key not in here:
            line = field.line + 1
            if key in INTERFACE_KEYS | PEER_KEYS:
                self.error(line, "wrong-section", f"{canonical_key(field.key)} belongs in {other} section: in "
                           f"[{kind}] wg refuses it (\"Line unrecognized\")")
            else:
                self.warn(line, "unknown-key",
                          f"{field.key!r} is no WireGuard setting: wg refuses the file (\"Line unrecognized\") "
                          f"unless it is meant for a fork such as AmneziaWG")
            return
        value = field.value
        if key in KEY_FIELDS and _FAST_KEY.match(value):
            return  # a well-formed key: what `_key_problem` says of nearly every key of a file, without decoding it
        if key in WG_QUICK_KEYS:
            code, problem = "bad-value", _wg_quick_problem(key, value)
        else:
            code = "bad-key" if key in KEY_FIELDS else "bad-value"
            problem = _wg_problem(key, _C_SPACE.sub("", value), value)
        if problem is not None:
            self.error(field.line + 1, code, f"{canonical_key(field.key)} {problem}")

    def save_config(self) -> None:
        iface = self.doc.interface
        if iface is None:
            return
        lines = [f for f in iface.fields if f.key.lower() == "saveconfig"]
        if lines and lines[-1].value.lower() == "true":
            self.warn(lines[-1].line + 1, "save-config",
                      "SaveConfig = true: wg-quick rewrites this file from the running interface at `down`, "
                      "losing every comment (peer names too) and any edit made while it was up")

    # -- across peers -------------------------------------------------------------------------------------

    def own_key(self) -> tuple[str | None, str]:
        iface = self.doc.interface
        private = iface.private_key if iface is not None else None
        if private:
            try:
                return public_key(_C_SPACE.sub("", private)), "as derived from this file's PrivateKey"
            except (KeyError_, ValueError):
                pass
        return self.running_key, "as the running interface reports it"

    def peers(self) -> None:
        own, source = self.own_key()
        if not self.warnings and "key" in self.well_formed:
            # Every key is well formed and has no spaces: the loop below would only find duplicates and the
            # interface's own key, which sets tell at once (when there are none, the usual case).
            keys = [peer.public_key for peer in self.doc.peers]
            if None not in keys:
                seen = set(keys)
                if len(seen) == len(keys) and (own is None or own not in seen):
                    return
        first: dict[str, PeerView] = {}
        holders: dict[str, tuple[PeerView, str]] = {}
        for peer in self.doc.peers:
            written = peer.public_key  # the last PublicKey line's value, None when there is none
            if written is None:
                self.error(peer.section.number, "peer-without-key",
                           f"{_this(peer)} has no PublicKey: wg refuses the whole file until every [Peer] has one")
                key = ""
            elif _FAST_KEY.match(written):
                key = written  # nothing for _C_SPACE to remove, and no problem
            else:
                key = _C_SPACE.sub("", written)
            if written is not None and _key_problem(key) is None:
                if key in first:
                    self.error(_last_line(peer, "publickey") + 1, "duplicate-public-key",
                               f"{_this(peer)} has the same PublicKey as {_ref(first[key])}: wg makes them one "
                               f"peer, whose AllowedIPs are the ones here; remove one of the blocks")
                else:
                    first[key] = peer
                if own is not None and key == own:
                    self.error(_last_line(peer, "publickey") + 1, "own-public-key",
                               f"{_this(peer)} has the interface's own public key ({source}): the kernel silently "
                               f"ignores such a peer; use the public key of the other end")
            if self.warnings:
                self.shared_ips(peer, key, holders)

    def shared_ips(self, peer: PeerView, key: str, holders: dict[str, tuple[PeerView, str]]) -> None:
        """Warn when a prefix is already another peer's: the kernel keeps each prefix for one peer only."""
        for field in peer.section.fields:
            if lower_key(field.key) != "allowedips":
                continue
            for item in _C_SPACE.sub("", field.value).split(","):
                if item.startswith("-"):
                    continue  # removes the prefix from this peer: it claims nothing
                try:
                    network = validate_cidr(item.removeprefix("+"))
                except ValidationError:
                    continue
                held = holders.get(network)
                if held is not None and held[0] is not peer and (not key or held[1] != key):
                    self.warn(field.line + 1, "shared-allowed-ip",
                              f"{network} is also in the AllowedIPs of {_ref(held[0])}: the kernel gives a prefix "
                              f"to one peer only, so {_this(peer)} silently takes it from that one")
                holders[network] = (peer, key)


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
