"""Provides wgtui's own comment in a peer block: the mark of a pending key rotation, written and read back."""

# A staged rotation that waits for the client outlives the process that started it, so it is written into the
# file: the new key gets its own [Peer] block without AllowedIPs (a handshake needs none), and this comment inside
# it says which peer it replaces and since when. wg-quick ignores the comment; wgtui reads it to show, finish or
# cancel the rotation from any session.

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .document import BaseDocument
from .lines import LineKind

_ROTATION_RE = re.compile(r"#[ \t]*wgtui-rotation:[ \t]*replaces[ \t]+(?P<old>[A-Za-z0-9+/]{43}=)[ \t]+since[ \t]+"
                          r"(?P<since>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)[ \t]*\Z")


@dataclass(frozen=True, slots=True)
class RotationMark:
    """A pending rotation: `new_key`'s block replaces `old_key`'s once the new key has handshaken."""

    new_key: str
    old_key: str
    started: int
    """Unix seconds."""
    line: int
    """1-based line of the mark."""


def rotation_comment(old_key: str, started: float) -> str:
    when = dt.datetime.fromtimestamp(int(started), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"# wgtui-rotation: replaces {old_key} since {when}"


def rotation_marks(doc: BaseDocument) -> dict[str, RotationMark]:
    """Every pending rotation of the file, by the new key (the block that carries the mark)."""
    out: dict[str, RotationMark] = {}
    lines = doc.lines
    for peer in doc.peers:
        if not peer.public_key:
            continue
        section = peer.section
        for i in range(section.start, section.end):
            line = lines[i]
            if line.kind is not LineKind.COMMENT:
                continue
            match = _ROTATION_RE.match(line.comment)
            if match:
                since = dt.datetime.strptime(match["since"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
                out[peer.public_key] = RotationMark(peer.public_key, match["old"], int(since.timestamp()), i + 1)
                break
    return out
