"""Provides the structure of a wg-quick document: its sections, the lines of each one's block, and each peer's view."""

# Found for files of 100,000 peers with list searches in C (list.index over the line kinds) and each peer's view made
# with its section in one pass; tests/conf/reference.py keeps the plain code and tests/conf/test_fast_paths.py holds
# these to it.

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import itemgetter

from .errors import ParseError
from .lines import Line, LineKind
from .names import NAME_GROUPS, NAME_PATTERN, PAIRED, Convention, NameMark, Placement, is_end_marker, name_style, scan
from .views import Field, PeerView, Section, int_or_none

_KIND: Callable[[Line], LineKind] = itemgetter(2)
_KEY: Callable[[Line], str] = itemgetter(3)
_VALUE: Callable[[Line], str] = itemgetter(4)
_COMMENT = LineKind.COMMENT
_NAME_MATCH = NAME_PATTERN.match


def check_preamble(lines: Sequence[Line]) -> None:
    """ParseError for the first setting that comes before any section header (wg-quick would not know its section)."""
    setting, section = LineKind.SETTING, LineKind.SECTION
    for i, ln in enumerate(lines):
        kind = ln.kind
        if kind is section:
            return
        if kind is setting:
            raise ParseError(
                i + 1, f"the setting {ln.key!r} comes before any [Interface] or [Peer] section", ln.text
            )


def _is_disabled(comment: str) -> bool:
    return comment.startswith("#[disabled]")  # what DISABLED_PREFIX.match tells, without a regex call


def find_sections(lines: Sequence[Line], views: list[PeerView | None] | None = None) -> tuple[Section, ...]:
    """The sections of a document and the span of each one's block (and, into `views`, each peer's view).

    Which lines belong to a section's block (what `remove_peer` removes):

    * the header line itself;
    * its *leading comments*: the unbroken run of comment lines directly above the header (no blank line in
      between), minus any lines up to and including a Nyr `# END_PEER` marker, which closes the block above,
      or a PiVPN `#[disabled]` line, which belongs to a disabled block;
    * its body up to the last setting line of the section, and then the comment lines that follow that line
      without a blank line (Nyr's `# END_PEER`, WGDashboard's `#Name#`), stopping at the next block's
      leading comments or right after its own end marker (PiVPN writes a disabled block, every line commented
      out, directly after the previous one).

    Comments after a blank line that are not directly above the next header belong to no block: they are
    free-floating notes (often commented-out peers) and stay where they are.

    (Settings before the first header are refused by `check_preamble`, which every document runs first.)
    """
    setting, section, comment = LineKind.SETTING, LineKind.SECTION, LineKind.COMMENT
    n = len(lines)
    kinds = list(map(_KIND, lines))
    headers = _positions(kinds, section)
    if not headers:
        return ()
    settings = _positions(kinds, setting, headers[0])
    leads = []
    floor = 0
    for h in headers:
        start = h
        while start > floor and kinds[start - 1] is comment:
            start -= 1
        for i in range(h - 1, start - 1, -1):
            text = lines[i][0]  # .text; a comment line has a '#'
            text = text[text.find("#"):]
            # _closes(text), its cheap answer for a name comment inline
            if (text.startswith(_CLOSING) or "END_PEER" in text) and _closes(text):
                start = i + 1  # a disabled block above belongs to no live one, whatever its last line says
                break
        leads.append(start)
        floor = h + 1
    leads.append(n)
    headers.append(n)
    # Every Field at once, made in C: tuple.__new__(Field, (key, value, index)) over the setting lines.
    setting_lines = list(map(lines.__getitem__, settings))
    columns = zip(map(_KEY, setting_lines), map(_VALUE, setting_lines), settings, strict=True)
    all_fields = list(map(_new, repeat(Field), columns))
    out = []
    at = 0  # the next setting line
    for k in range(len(headers) - 1):
        h = headers[k]
        stop, limit = headers[k + 1], leads[k + 1]
        first = at
        at = bisect_left(settings, stop, at)
        fields = tuple(all_fields[first:at])
        end = settings[at - 1] + 1 if at > first else h + 1
        while end < limit and kinds[end] is comment:
            text = lines[end][0]
            text = text[text.find("#"):]
            if _is_disabled(text):
                break
            end += 1
            if is_end_marker(text):
                break  # the block's own end marker closes it: what follows (a disabled block) is not its
        made = _new(Section, (lines[h][3], h, leads[k], end, stop, fields))
        out.append(made)
        if views is not None and made[0] == "Peer":
            views.append(peer_view(lines, made))
    return tuple(out)


_CLOSING = ("#[disabled]", "###")


def _closes(comment: str) -> bool:
    """Whether a comment above a header ends what belongs to the block before it: `#[disabled]` or an end marker."""
    if not comment.startswith(("#[disabled]", "###")) and "END_PEER" not in comment:
        return False  # the cheap answer for a name comment (is_end_marker would give the same)
    return _is_disabled(comment) or is_end_marker(comment)


def _positions(kinds: list[LineKind], kind: LineKind, start: int = 0) -> list[int]:
    """Indices of `kind` in `kinds` from `start` on, found by list.index (a search in C, not a loop per line)."""
    out = []
    find = kinds.index
    try:
        while True:
            start = find(kind, start)
            out.append(start)
            start += 1
    except ValueError:
        return out


_PEER_SLOTS = {"publickey": 0, "presharedkey": 1, "allowedips": 2, "endpoint": 3, "persistentkeepalive": 4}
_SLOT_OF: dict[str, int] = {}
"""A key as written -> its slot in _PEER_SLOTS (-1: another key), remembered per spelling."""


def _slot(key: str) -> int:
    slot = _SLOT_OF.get(key)
    if slot is None:
        slot = _PEER_SLOTS.get(key.lower(), -1)
        if len(_SLOT_OF) < 4096:
            _SLOT_OF[key] = slot
    return slot


def peer_view(lines: Sequence[Line], section: Section) -> PeerView:
    _, header, start, end, _, fields = section
    marks: list[NameMark] = []
    # The name comments: in the block's comment lines (those above the header are all comments) and on the header.
    for i in range(start, header + 1):
        text = lines[i][0]
        at = text.find("#")
        if at >= 0:
            mark = _scan(text[at:] if at else text, at, i)
            if mark is not None:
                marks.append(mark)
    if end - header - 1 != len(fields):  # not only settings below the header
        for i in range(header + 1, end):
            ln = lines[i]
            if ln[2] is _COMMENT:  # kind
                text = ln[0]
                at = text.find("#")
                mark = _scan(text[at:], at, i)
                if mark is not None:
                    marks.append(mark)
    naming = name = None
    if marks:
        primary = marks[0]
        if not primary.name:
            primary = next((m for m in marks if m.name), primary)
        name = primary.name
        convention, line = primary.convention, primary.line
        placement = (Placement.ABOVE if line < header or convention in PAIRED
                     else Placement.HEADER if line == header else Placement.INSIDE)
        naming = name_style(convention, placement)
    public_key = psk = endpoint = keepalive = ips = None
    slot_of = _SLOT_OF.get
    for key, value, _ in fields:
        slot = slot_of(key)
        if slot is None:
            slot = _slot(key)
        # the last line of a key wins, as wg reads it; AllowedIPs lines add up
        if slot == 0:
            public_key = value
        elif slot == 2:
            ips = value if ips is None else f"{ips},{value}"
        elif slot == 1:
            psk = value
        elif slot == 3:
            endpoint = value
        elif slot == 4:
            keepalive = value
    allowed: tuple[str, ...] = ()
    if ips is not None:
        if "," in ips:
            allowed = tuple([item for item in [item.strip() for item in ips.split(",")] if item])
        else:
            item = ips.strip()
            allowed = (item,) if item else ()
    return _new(PeerView, (section, public_key, psk, allowed, endpoint,
                           None if keepalive is None else int_or_none(keepalive, off_is_zero=True), name, tuple(marks),
                           naming))


def _scan(comment: str, offset: int, line: int) -> NameMark | None:
    """names.scan, its usual case inline (one regex call, no JSON)."""
    match = _NAME_MATCH(comment)
    if match is None:
        return None
    convention, name_group, role_group = NAME_GROUPS[match.lastgroup or ""]
    if convention is Convention.FRIENDLY_JSON:
        return scan(comment, offset, line)
    start, stop = match.span(name_group)
    name = comment[start:stop].strip()
    return _new(NameMark, (convention, line, offset + start, offset + stop, name or None,
                           match[role_group].lower() if role_group else ""))


_new = tuple.__new__
"""A named tuple made without the Python frame of its __new__ (every field given)."""
