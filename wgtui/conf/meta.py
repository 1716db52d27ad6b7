"""Provides wgtui's own metadata in a peer block: one `# wgtui: key=value …` comment (key age, a pending rotation)."""

# The file stays the one source of truth, visible in the diff preview and carried by every backup: so what wgtui
# knows about a peer beyond WireGuard's own settings is written there, as one tidy comment inside the block (which
# every naming convention's tool removes together with the block). wg-quick ignores it.
#   # wgtui: key-created=2026-11-29T19:20:00Z
#   # wgtui: replaces=<the old public key> since=2026-11-29T19:20:00Z     (the new key of a pending rotation)

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..compat import UTC
from .document import BaseDocument
from .errors import ValidationError
from .lines import LineKind

_META_RE = re.compile(r"#[ \t]*wgtui:[ \t]*(?P<body>.*?)[ \t\r]*\Z")
_ITEM_RE = re.compile(r"(?P<key>[a-z][a-z0-9-]*)=(?P<value>\S+)\Z")
_VALUE_RE = re.compile(r"[A-Za-z0-9+/=:._@-]+\Z")
_STAMP = "%Y-%m-%dT%H:%M:%SZ"

KEY_CREATED = "key-created"
REPLACES = "replaces"
SINCE = "since"


def parse_meta(comment: str) -> dict[str, str] | None:
    """The items of a `# wgtui: …` comment (unknown or malformed items are skipped), or None for other comments."""
    match = _META_RE.match(comment)
    if match is None:
        return None
    out: dict[str, str] = {}
    for word in match["body"].split():
        item = _ITEM_RE.match(word)
        if item:
            out[item["key"]] = item["value"]
    return out


def format_meta(meta: Mapping[str, str]) -> str:
    """The comment for `meta`; every key and value is checked, so nothing but this one comment can be written."""
    for key, value in meta.items():
        if not re.fullmatch(r"[a-z][a-z0-9-]*", key) or not _VALUE_RE.match(value):
            raise ValidationError("meta", f"{key}={value!r} cannot be written as wgtui metadata")
    return "# wgtui: " + " ".join(f"{k}={v}" for k, v in meta.items())


def stamp(when: float) -> str:
    return dt.datetime.fromtimestamp(int(when), UTC).strftime(_STAMP)


def parse_stamp(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(dt.datetime.strptime(text, _STAMP).replace(tzinfo=UTC).timestamp())
    except ValueError:
        return None


def meta_line(doc: BaseDocument, public_key: str) -> int | None:
    """0-based index of the block's wgtui comment, if it has one."""
    peer = doc.find_peer(public_key)
    if peer is None:
        return None
    lines = doc.lines
    for i in range(peer.section.start, peer.section.end):
        if lines[i].kind is LineKind.COMMENT and parse_meta(lines[i].comment) is not None:
            return i
    return None


def all_meta(doc: BaseDocument) -> dict[str, dict[str, str]]:
    """Every peer's metadata, by public key (peers without any are left out)."""
    out: dict[str, dict[str, str]] = {}
    lines = doc.lines
    for peer in doc.peers:
        if not peer.public_key:
            continue
        for i in range(peer.section.start, peer.section.end):
            if lines[i].kind is LineKind.COMMENT:
                meta = parse_meta(lines[i].comment)
                if meta is not None:
                    out[peer.public_key] = meta
                    break
    return out


@dataclass(frozen=True, slots=True)
class RotationMark:
    """A pending rotation: `new_key`'s block replaces `old_key`'s once the new key has handshaken."""

    new_key: str
    old_key: str
    started: int
    """Unix seconds."""


def rotation_marks(doc: BaseDocument, meta: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, RotationMark]:
    """Every pending rotation of the file, by the new key (the block that carries the mark)."""
    out = {}
    for key, items in (all_meta(doc) if meta is None else meta).items():
        old, since = items.get(REPLACES), parse_stamp(items.get(SINCE))
        if old and since is not None:
            out[key] = RotationMark(key, old, since)
    return out


def key_created(meta: Mapping[str, Mapping[str, str]]) -> dict[str, int]:
    """When each peer's key was made (add, rotation), where the file says so."""
    out = {}
    for key, items in meta.items():
        when = parse_stamp(items.get(KEY_CREATED))
        if when is not None:
            out[key] = when
    return out
