"""Provides the straightforward implementations that the fast paths of `wgtui.conf` replaced: what they must equal.

Each is the code as it was before the fast paths (one line, one section, one peer at a time), kept here so that the
tests can hold the fast code to it on generated and real files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from wgtui.conf import Document
from wgtui.conf.errors import ParseError
from wgtui.conf.lines import Line, LineKind, dominant, parse_line
from wgtui.conf.names import (
    DEFAULT_STYLE,
    DISABLED_PREFIX,
    PAIRED,
    Convention,
    NameMark,
    NameStyle,
    Placement,
    scan_slow,
)
from wgtui.conf.views import Field, PeerView, Section, int_or_none


def split_lines(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    size = len(text)
    while pos < size:
        nl = text.find("\n", pos)
        if nl < 0:
            out.append((text[pos:], ""))
            break
        if nl > pos and text[nl - 1] == "\r":
            out.append((text[pos : nl - 1], "\r\n"))
        else:
            out.append((text[pos:nl], "\n"))
        pos = nl + 1
    return out


def parse(text: str) -> list[Line]:
    """The lines of a document (ParseError as a parse raises it, settings before any section included)."""
    lines = [parse_line(t, e, i + 1) for i, (t, e) in enumerate(split_lines(text.removeprefix("\ufeff")))]
    sections(lines)
    return lines


def is_end_marker(comment: str) -> bool:
    disabled = DISABLED_PREFIX.match(comment)
    if disabled:
        comment = comment[disabled.end():]
    mark = scan_slow(comment, 0, 0)
    return mark is not None and mark.role == "end"


def _values(fields: Iterable[Field], key: str) -> tuple[str, ...]:
    return tuple(f.value for f in fields if f.key.lower() == key.lower())


def _last(fields: Iterable[Field], key: str) -> str | None:
    found = _values(fields, key)
    return found[-1] if found else None


def sections(lines: Sequence[Line]) -> tuple[Section, ...]:
    n = len(lines)
    headers = [i for i, ln in enumerate(lines) if ln.kind is LineKind.SECTION]
    for i in range(headers[0] if headers else n):
        if lines[i].kind is LineKind.SETTING:
            raise ParseError(
                i + 1, f"the setting {lines[i].key!r} comes before any [Interface] or [Peer] section", lines[i].text
            )
    leads = []
    for k, h in enumerate(headers):
        floor = headers[k - 1] + 1 if k else 0
        start = h
        while start > floor and lines[start - 1].kind is LineKind.COMMENT:
            start -= 1
        for i in range(h - 1, start - 1, -1):
            if is_end_marker(lines[i].comment) or DISABLED_PREFIX.match(lines[i].comment):
                start = i + 1
                break
        leads.append(start)
    out = []
    for k, h in enumerate(headers):
        stop = headers[k + 1] if k + 1 < len(headers) else n
        limit = leads[k + 1] if k + 1 < len(headers) else n
        end = h + 1
        fields = []
        for i in range(h + 1, stop):
            ln = lines[i]
            if ln.kind is LineKind.SETTING:
                fields.append(Field(ln.key, ln.value, i))
                end = i + 1
        while end < limit and lines[end].kind is LineKind.COMMENT and not DISABLED_PREFIX.match(lines[end].comment):
            end += 1
            if is_end_marker(lines[end - 1].comment):
                break
        out.append(Section(lines[h].key, h, leads[k], end, stop, tuple(fields)))
    return tuple(out)


def _marks(lines: Sequence[Line], section: Section) -> tuple[NameMark, ...]:
    marks = []
    for i in range(section.start, section.end):
        ln = lines[i]
        if ln.kind is LineKind.COMMENT or (i == section.header and ln.comment_start >= 0):
            mark = scan_slow(ln.comment, ln.comment_start, i)
            if mark is not None:
                marks.append(mark)
    return tuple(marks)


def peer_view(lines: Sequence[Line], section: Section) -> PeerView:
    marks = _marks(lines, section)
    primary = next((m for m in marks if m.name), marks[0] if marks else None)
    naming = None
    if primary is not None:
        if primary.line < section.header or primary.convention in PAIRED:
            placement = Placement.ABOVE
        elif primary.line == section.header:
            placement = Placement.HEADER
        else:
            placement = Placement.INSIDE
        naming = NameStyle(primary.convention, placement)
    return PeerView(
        section=section,
        public_key=_last(section.fields, "PublicKey"),
        preshared_key=_last(section.fields, "PresharedKey"),
        allowed_ips=tuple(item.strip() for value in _values(section.fields, "AllowedIPs")
                          for item in value.split(",") if item.strip()),
        endpoint=_last(section.fields, "Endpoint"),
        persistent_keepalive=int_or_none(_last(section.fields, "PersistentKeepalive"), off_is_zero=True),
        name=primary.name if primary is not None else None,
        marks=marks,
        naming=naming,
    )


def peers(lines: Sequence[Line]) -> tuple[PeerView, ...]:
    return tuple(peer_view(lines, s) for s in sections(lines) if s.kind == "Peer")


def naming(views: Sequence[PeerView]) -> NameStyle:
    styles = [p.naming for p in views if p.naming is not None]
    if not styles:
        return DEFAULT_STYLE
    convention = Convention(dominant((s.convention.value for s in styles), ""))
    placement = Placement(dominant((s.placement.value for s in styles if s.convention is convention), ""))
    return NameStyle(convention, placement).normalized()


def find_peer(views: Sequence[PeerView], key: str) -> list[PeerView]:
    return [p for p in views if p.public_key and p.public_key == key.strip()]


def disabled_runs(lines: Sequence[Line]) -> list[tuple[int, int]]:
    from wgtui.conf.disabled import _is_disabled

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


def all_meta(doc: Document) -> dict[str, dict[str, str]]:
    from wgtui.conf.meta import parse_meta

    out: dict[str, dict[str, str]] = {}
    for peer in doc.peers:
        if not peer.public_key:
            continue
        for i in range(peer.section.start, peer.section.end):
            if doc.lines[i].kind is LineKind.COMMENT:
                meta = parse_meta(doc.lines[i].comment)
                if meta is not None:
                    out[peer.public_key] = meta
                    break
    return out


def eol(lines: Sequence[Line]) -> str:
    return dominant((ln.eol for ln in lines if ln.eol), "\n")


def conventions(views: Sequence[PeerView]) -> Counter[Convention]:
    return Counter(p.naming.convention for p in views if p.naming is not None)
