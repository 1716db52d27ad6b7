"""Provides disabled peers the way PiVPN writes them: every line of the block commented out with `#[disabled] `."""

# `pivpn -off` comments a peer out instead of deleting it, so `pivpn -on` can bring back exactly the same lines. wgtui
# does the same for every naming convention: the block's lines (its name comments included) get the prefix, and
# enabling removes it, giving back the original bytes. wg-quick reads the block as comments, so the peer is gone
# from the interface after a restart too; its keys and settings wait in the file.

from __future__ import annotations

import re
from dataclasses import dataclass

from .document import BaseDocument
from .edit import Document
from .errors import EditError, ParseError, PeerNotFound
from .lines import Line, LineKind, parse_line
from .views import PeerView

PREFIX = "#[disabled] "
_PREFIX_RE = re.compile(r"#\[disabled\][ \t]?")


@dataclass(frozen=True, slots=True)
class DisabledPeer:
    """A commented-out peer block, read as if it were live."""

    view: PeerView
    """The block parsed without its prefixes (line numbers relative to `start`)."""
    start: int
    """0-based index of its first line in the document."""
    end: int
    """One past its last line."""

    @property
    def public_key(self) -> str | None:
        return self.view.public_key

    @property
    def name(self) -> str | None:
        return self.view.name


def _is_disabled(line: Line) -> bool:
    return line.kind is LineKind.COMMENT and _PREFIX_RE.match(line.text.lstrip(" \t")) is not None


_DISABLED_LINE = re.compile(r"\n[ \t]*#\[disabled\]")
"""The start of a disabled line, in "\\n" + the text (a line starts after a "\\n", which re finds fastest)."""


def _disabled_lines(doc: BaseDocument) -> list[int] | None:
    """0-based indices of the `#[disabled]` lines (None: see BaseDocument.lines_found)."""
    return doc.lines_found(_DISABLED_LINE)


def _runs(lines: tuple[Line, ...], found: list[int] | None = None) -> list[tuple[int, int]]:
    """Spans of consecutive `#[disabled]` comment lines (of `found`, the indices of every such line, when given)."""
    if found is not None:
        spans: list[tuple[int, int]] = []
        for i in found:
            if spans and spans[-1][1] == i:
                spans[-1] = (spans[-1][0], i + 1)
            else:
                spans.append((i, i + 1))
        return spans
    out = []
    i = 0
    while i < len(lines):
        if _is_disabled(lines[i]):
            j = i
            while j < len(lines) and _is_disabled(lines[j]):
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def _strip(line: Line) -> str:
    text = line.text.lstrip(" \t")
    match = _PREFIX_RE.match(text)
    return text[match.end():] if match else line.text


def disabled_peers(doc: BaseDocument) -> list[DisabledPeer]:
    """Every disabled peer of the file (runs that do not read back as peer blocks are left alone)."""
    out: list[DisabledPeer] = []
    lines = doc.lines
    for start, end in _runs(lines, _disabled_lines(doc)):
        try:
            inner = Document.parse("\n".join(_strip(ln) for ln in lines[start:end]) + "\n")
        except ParseError:
            continue
        if inner.interface is not None:
            continue
        for view in inner.peers:
            if view.public_key:
                out.append(DisabledPeer(view, start + view.section.start, start + view.section.end))
    return out


def find_disabled(doc: BaseDocument, query: str) -> DisabledPeer:
    """A disabled peer by full public key, name, or unique key prefix."""
    peers = disabled_peers(doc)
    for match in ([p for p in peers if p.public_key == query], [p for p in peers if p.name and p.name == query],
                  [p for p in peers if len(query) >= 4 and (p.public_key or "").startswith(query)]):
        if len(match) == 1:
            return match[0]
        if len(match) > 1:
            raise EditError(f"{query!r} matches {len(match)} disabled peers; give the full public key")
    raise PeerNotFound(query)


def disable_peer(doc: Document, public_key: str) -> Document:
    """Comment out the peer's block, every line prefixed with `#[disabled] ` (a blank line inside it too, so that
    the block stays one run of disabled lines)."""
    section = doc.peer(public_key).section
    new = [doc._make(PREFIX + line.text, LineKind.COMMENT, eol=line.eol)
           for line in doc.lines[section.start:section.end]]
    return doc._splice([(section.start, section.end, new)])


def enable_peer(doc: Document, public_key: str) -> Document:
    """Give a disabled peer its block back, byte for byte as it was before `disable_peer`."""
    found = next((p for p in disabled_peers(doc) if p.public_key == public_key), None)
    if found is None:
        raise PeerNotFound(public_key)
    if doc.find_peer(public_key) is not None:
        raise EditError("this public key is also in a live block of the file: remove one of them first")
    restored = []
    for number, line in enumerate(doc.lines[found.start:found.end], start=found.start + 1):
        text = _strip(line)
        try:
            kind = parse_line(text, "", number).kind
        except ParseError as exc:
            raise EditError(f"line {number}: the disabled block does not read back ({exc.reason})") from None
        restored.append(doc._make(text, kind, eol=line.eol))
    return doc._splice([(found.start, found.end, restored)])
