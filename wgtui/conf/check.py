"""Provides the config checker: what wg and wg-quick would refuse in a wg-quick file, and what is risky in it."""

# The rules follow wireguard-tools as it reads files: src/config.c (`wg setconf`, which removes every space
# of a line before parsing it) and src/wg-quick/linux.bash (which consumes the keys of WG_QUICK_KEYS and hands
# every other line to wg). Where they are lenient, so is this module, so that no working file is called broken;
# it is stricter only where they accept what cannot work as meant (an endpoint port of 0 or over 65535) and
# for a second [Interface] section, which they silently merge into the first.

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter

from ..compat import StrEnum
from ..ipalloc import CIDR_PATTERN, ipv4_hosts
from ..keys import KeyError_, public_key
from .edit import Document
from .errors import ParseError, ValidationError
from .lines import canonical_key, no_gc
from .rules import (  # the rules of one value (the key sets are re-exported: they were defined here before)
    _C_SPACE,
    _FAST_KEY,
    INTERFACE_KEYS,
    KEY_FIELDS,
    PEER_KEYS,
    WG_DEVICE_KEYS,
    WG_QUICK_KEYS,
    _key_problem,
    _wg_problem,
    _wg_quick_problem,
)
from .validate import validate_cidr
from .views import Field, PeerView, lower_key

__all__ = ["INTERFACE_KEYS", "KEY_FIELDS", "PEER_KEYS", "WG_DEVICE_KEYS", "WG_QUICK_KEYS", "Finding", "Severity",
           "check_and_parse", "check_bytes", "errors", "format_findings"]

_PEER_KEY_FIELDS = KEY_FIELDS & PEER_KEYS
_KEY: Callable[[Field], str] = itemgetter(0)

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


def check_and_parse(data: bytes, *, interface_public_key: str | None = None, errors_only: bool = False,
                    parse: Callable[[bytes], Document] = Document.from_bytes) -> tuple[list[Finding], Document | None]:
    """`check_bytes`, and the document it parsed (None when the file does not parse): a caller that goes on to use
    the file parses it once. With `errors_only`, the warnings are neither worked out nor returned (what a change
    needs to know: the errors are exactly those of `check_bytes`). `parse` may give a document parsed before from
    the same bytes (conf.parsed); the findings on the document checked last are then kept too."""
    found = _encoding_findings(data)
    doc = None
    if not found:
        try:
            doc = parse(data)
        except ParseError as err:
            found = [Finding(Severity.ERROR, err.line, "parse", err.reason)]
        else:
            found = _checked(doc, interface_public_key, errors_only)
    return sorted(found, key=lambda f: (f.line is not None, f.line or 0)), doc


_last_check: tuple[weakref.ref[Document], str | None, bool, tuple[Finding, ...]] | None = None
"""The document checked last (weakly: it stays only while someone uses it), how, and what was found. A dashboard
checks the same document for every change it plans while the file is unchanged (0.03-0.1 s at 10,000 peers)."""


def _checked(doc: Document, interface_public_key: str | None, errors_only: bool) -> list[Finding]:
    global _last_check
    last = _last_check
    if last is not None and last[0]() is doc and last[1:3] == (interface_public_key, errors_only):
        return list(last[3])
    with no_gc():
        found = _Checker(doc, interface_public_key, warnings=not errors_only).run()
    _last_check = (weakref.ref(doc), interface_public_key, errors_only, tuple(found))
    return found


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
