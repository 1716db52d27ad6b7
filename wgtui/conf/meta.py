"""Provides wgtui's own metadata in a peer block: one `# wgtui: key=value …` comment (key age, a pending rotation)."""

# The file stays the one source of truth, visible in the diff preview and carried by every backup: so what wgtui
# knows about a peer beyond WireGuard's own settings is written there, as one tidy comment inside the block (which
# every naming convention's tool removes together with the block). wg-quick ignores it.
#   # wgtui: key-created=2026-11-29T19:20:00Z
#   # wgtui: replaces=<the old public key> since=2026-11-29T19:20:00Z     (the new key of a pending rotation)

from __future__ import annotations

import calendar
import datetime as dt
import re
from bisect import bisect_left
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
_STAMP_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")

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
    m = _STAMP_RE.fullmatch(text)
    if m is not None:
        # The form `stamp` writes, read without strptime (12 µs a call; a 10,000-peer file has 10,000 stamps).
        year, month, day, hour, minute, second = map(int, m.groups())
        if (year >= 1 and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1] and hour < 24
                and minute < 60 and second < 60):
            return calendar.timegm((year, month, day, hour, minute, second))
        return None  # what strptime refuses, or datetime does
    return parse_stamp_slow(text)


def parse_stamp_slow(text: str) -> int | None:
    """parse_stamp by strptime: the reference for its fast path, and what reads any other spelling (1-digit month)."""
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
    found = _meta_lines(doc)
    if found is not None:
        return _all_meta_from(doc, found)
    out: dict[str, dict[str, str]] = {}
    lines = doc.lines
    comment = LineKind.COMMENT
    for peer in doc.peers:
        if not peer.public_key:
            continue
        for i in range(peer.section.start, peer.section.end):
            line = lines[i]
            if line.kind is comment and "wgtui:" in line.text:  # no other comment is one (_META_RE needs it)
                meta = parse_meta(line.comment)
                if meta is not None:
                    out[peer.public_key] = meta
                    break
    return out


_META_LINE = re.compile(r"\n[ \t\r\v\f]*#[ \t]*wgtui:")
"""The start of a line whose comment parse_meta reads, in "\\n" + the text (such a line is a comment line)."""


def _meta_lines(doc: BaseDocument) -> list[int] | None:
    """0-based indices of the lines parse_meta reads a comment from (None: see BaseDocument.lines_found)."""
    return doc.lines_found(_META_LINE)


def _all_meta_from(doc: BaseDocument, found: list[int]) -> dict[str, dict[str, str]]:
    """all_meta, given the lines that hold wgtui comments: each peer takes the first one inside its block."""
    out: dict[str, dict[str, str]] = {}
    if not found:
        return out
    lines = doc.lines
    for peer in doc.peers:
        key = peer.public_key
        if not key:
            continue
        section = peer.section
        at = bisect_left(found, section.start)
        if at < len(found) and found[at] < section.end:
            meta = parse_meta(lines[found[at]].comment)
            if meta is not None:
                out[key] = meta
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
