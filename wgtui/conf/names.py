"""Provides the peer-name comment conventions: recognising a name in a comment, writing and renaming one."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..compat import StrEnum


class Convention(StrEnum):
    """A way of writing a peer's name into a wg-quick file, named after the tool that reads it."""

    FRIENDLY_NAME = "friendly_name"
    """`# friendly_name = alice` (prometheus_wireguard_exporter)."""
    FRIENDLY_JSON = "friendly_json"
    """`# friendly_json = {"name": "alice", ...}` (prometheus_wireguard_exporter)."""
    ANGRISTAN = "angristan"
    """`### Client alice` on the line before [Peer] (angristan/wireguard-install)."""
    NYR = "nyr"
    """`# BEGIN_PEER alice` before the block and `# END_PEER alice` after it (Nyr/wireguard-install)."""
    PIVPN = "pivpn"
    """`### begin alice ###` before the block and `### end alice ###` after it (PiVPN)."""
    NAME_EQUALS = "name_equals"
    """`# Name = alice` (hand-written files)."""
    NAME_COLON = "name_colon"
    """`# Name: alice` (wireguard-ui)."""
    WGDASHBOARD = "wgdashboard"
    """`#Name# = alice` inside the block (WGDashboard)."""
    WG_EASY = "wg_easy"
    """`# Client: alice (client id)` on the line before [Peer] (wg-easy); the id is kept, not part of the name."""

    @property
    def example(self) -> str:
        return " / ".join(format_marks(self, "alice"))


class Placement(StrEnum):
    """Where a name comment sits relative to its `[Peer]` header."""

    ABOVE = "above"
    """On its own line just above `[Peer]`."""
    INSIDE = "inside"
    """On its own line just below `[Peer]`."""
    HEADER = "header"
    """At the end of the `[Peer]` line itself: `[Peer] # Name = alice`."""


# Conventions whose readers look in one place only: writing them elsewhere would hide the name from them.
_FIXED_PLACEMENT = {
    Convention.ANGRISTAN: Placement.ABOVE,  # its scripts grep "^### Client" and delete up to a blank line
    Convention.NYR: Placement.ABOVE,  # BEGIN above, END after the block: sed deletes BEGIN..END
    Convention.PIVPN: Placement.ABOVE,  # the same with "### begin/end NAME ###": its scripts delete begin..end
    Convention.WGDASHBOARD: Placement.INSIDE,  # WGDashboard gives the line to the [Peer] read last
    Convention.WG_EASY: Placement.ABOVE,  # wg-easy writes it there (and rewrites the file from its own database)
}

RESTRICTED = frozenset({Convention.ANGRISTAN, Convention.NYR, Convention.PIVPN})
"""Conventions whose tools only accept names of 1..15 characters from [A-Za-z0-9_-]."""

PAIRED = frozenset({Convention.NYR, Convention.PIVPN})
"""Conventions that mark a block with a begin line above it and an end line after it."""


@dataclass(frozen=True, slots=True)
class NameStyle:
    """The convention and placement to write a new peer's name in."""

    convention: Convention = Convention.FRIENDLY_NAME
    placement: Placement = Placement.INSIDE

    def normalized(self) -> NameStyle:
        """This style with the placement the convention's own tool requires."""
        fixed = _FIXED_PLACEMENT.get(self.convention)
        return self if fixed is None or fixed is self.placement else NameStyle(self.convention, fixed)


DEFAULT_STYLE = NameStyle()
"""`# friendly_name = NAME` just below `[Peer]`, where prometheus_wireguard_exporter documents it."""


class NameMark(NamedTuple):
    """A name comment found in a document: which line, where in it, and what it says."""

    convention: Convention
    line: int
    """0-based index of the line in the document."""
    start: int
    """Span of the name (for FRIENDLY_JSON: of the JSON text) inside the line's text."""
    end: int
    name: str | None
    """The name, or None when the mark holds none (an empty `# Name:`, JSON without a name field)."""
    role: str = ""
    """"begin" or "end" for Nyr markers, "" otherwise."""


_STYLES: dict[tuple[Convention, Placement], NameStyle] = {}


def shared_styles() -> list[NameStyle]:
    """Every NameStyle that name_style has handed out."""
    return list(_STYLES.values())


def name_style(convention: Convention, placement: Placement) -> NameStyle:
    """NameStyle(convention, placement), one shared object per pair (a large file has thousands of peers)."""
    style = _STYLES.get((convention, placement))
    if style is None:
        style = _STYLES[convention, placement] = NameStyle(convention, placement)
    return style


_TAIL = r"(?P<name>.*?)[ \t\r\v\f]*\Z"
# Order matters: WGDashboard's "#Name#" must be tried before the generic "# Name" forms.
_PATTERNS: tuple[tuple[Convention, re.Pattern[str]], ...] = (
    (Convention.WGDASHBOARD, re.compile(r"#Name#[ \t]*=[ \t]*" + _TAIL)),
    (Convention.ANGRISTAN, re.compile(r"###[ \t]*Client[ \t]+" + _TAIL)),
    (Convention.WG_EASY, re.compile(r"#[ \t]*Client:[ \t]*(?P<name>.*?)(?:[ \t]+\([0-9A-Za-z-]{8,}\))?[ \t\r\v\f]*\Z")),
    (Convention.NYR, re.compile(r"#[ \t]*(?P<role>BEGIN|END)_PEER[ \t]+" + _TAIL)),
    (Convention.PIVPN, re.compile(r"###[ \t]*(?P<role>begin|end)[ \t]+(?P<name>\S(?:.*?\S)?)[ \t]*###[ \t\r\v\f]*\Z")),
    (Convention.FRIENDLY_NAME, re.compile(r"#[ \t]*friendly_name[ \t]*=[ \t]*" + _TAIL)),
    (Convention.FRIENDLY_JSON, re.compile(r"#[ \t]*friendly_json[ \t]*=[ \t]*" + _TAIL)),
    (Convention.NAME_EQUALS, re.compile(r"#+[ \t]*[Nn][Aa][Mm][Ee][ \t]*=[ \t]*" + _TAIL)),
    (Convention.NAME_COLON, re.compile(r"#+[ \t]*[Nn][Aa][Mm][Ee][ \t]*:[ \t]*" + _TAIL)),
)

JSON_NAME_FIELDS = ("name", "friendly_name", "friendlyname", "display_name", "displayname", "username", "user")
"""Fields of a friendly_json object taken as the name, in this order (compared without case)."""


def json_name_field(obj: dict[str, Any]) -> str | None:
    """The key of `obj` that holds its name, or None."""
    lowered = {k.lower(): k for k in obj}
    for candidate in JSON_NAME_FIELDS:
        key = lowered.get(candidate)
        if key is not None and isinstance(obj[key], str | int | float) and not isinstance(obj[key], bool):
            return key
    return None


def _load_json_object(text: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _alternative(index: int, pattern: re.Pattern[str]) -> str:
    return f"(?P<c{index}>" + pattern.pattern.replace("(?P<name>", f"(?P<n{index}>").replace(
        "(?P<role>", f"(?P<r{index}>") + ")"


# Every pattern as one alternation, tried in the same order: one regex call finds the first convention that matches.
# NAME_GROUPS: for the name of each alternative's group, (convention, index of its name group, of its role group or 0).
NAME_PATTERN = re.compile("|".join(_alternative(i, p) for i, (_, p) in enumerate(_PATTERNS)))
NAME_GROUPS = {
    f"c{i}": (convention, NAME_PATTERN.groupindex[f"n{i}"], NAME_PATTERN.groupindex.get(f"r{i}", 0))
    for i, (convention, _) in enumerate(_PATTERNS)
}


def scan(comment: str, offset: int, line: int) -> NameMark | None:
    """The name mark in `comment` (which starts with '#' at `offset` of line `line`'s text), if any."""
    match = NAME_PATTERN.match(comment)
    if match is None:
        return None
    convention, name_group, role_group = NAME_GROUPS[match.lastgroup or ""]
    start, end = match.span(name_group)
    raw = comment[start:end]
    role = match[role_group].lower() if role_group else ""
    if convention is Convention.FRIENDLY_JSON:
        obj = _load_json_object(raw)
        field = json_name_field(obj) if obj is not None else None
        name = str(obj[field]).strip() if obj is not None and field is not None else None
    else:
        name = raw.strip()
    return tuple.__new__(NameMark, (convention, line, offset + start, offset + end, name or None, role))


def scan_slow(comment: str, offset: int, line: int) -> NameMark | None:
    """`scan` one pattern at a time: the reference that tests hold `scan` to."""
    for convention, pattern in _PATTERNS:
        match = pattern.match(comment)
        if not match:
            continue
        start, end = offset + match.start("name"), offset + match.end("name")
        raw = match.group("name")
        role = match.group("role").lower() if convention in PAIRED else ""
        if convention is Convention.FRIENDLY_JSON:
            obj = _load_json_object(raw)
            field = json_name_field(obj) if obj is not None else None
            name = str(obj[field]).strip() if obj is not None and field is not None else None
        else:
            name = raw.strip()
        return NameMark(convention, line, start, end, name or None, role)
    return None


DISABLED_PREFIX = re.compile(r"#\[disabled\][ \t]*")
"""PiVPN disables a peer by prefixing every line of its block with `#[disabled] `."""


def is_end_marker(comment: str) -> bool:
    """Whether a comment is an end marker (Nyr's `# END_PEER name`, PiVPN's `### end name ###`), which closes the
    block above it. A disabled PiVPN block's end marker counts too: it closes the disabled block, which belongs to
    no live peer and must survive the removal of its neighbours."""
    if comment.startswith("#[disabled]"):
        comment = DISABLED_PREFIX.sub("", comment, count=1)
    if not comment.startswith("###") and "END_PEER" not in comment:
        return False  # neither end pattern can match: the cheap answer for the name comment of nearly every peer
    mark = scan(comment, 0, 0)
    return mark is not None and mark.role == "end"


def format_marks(convention: Convention, name: str) -> list[str]:
    """The comment text(s) that name a peer in `convention`; Nyr and PiVPN give two: the begin and end markers."""
    if convention is Convention.FRIENDLY_NAME:
        return [f"# friendly_name = {name}"]
    if convention is Convention.FRIENDLY_JSON:
        return ["# friendly_json = " + json.dumps({"name": name}, ensure_ascii=False)]
    if convention is Convention.ANGRISTAN:
        return [f"### Client {name}"]
    if convention is Convention.NYR:
        return [f"# BEGIN_PEER {name}", f"# END_PEER {name}"]
    if convention is Convention.PIVPN:
        return [f"### begin {name} ###", f"### end {name} ###"]
    if convention is Convention.NAME_EQUALS:
        return [f"# Name = {name}"]
    if convention is Convention.NAME_COLON:
        return [f"# Name: {name}"]
    if convention is Convention.WG_EASY:
        return [f"# Client: {name}"]
    return [f"#Name# = {name}"]


def renamed(text: str, mark: NameMark, name: str | None) -> str | None:
    """`text` (the mark's line) with the mark naming `name` instead, everything else kept.

    None means the line should go (the name was removed and the line held nothing else). Raises ValueError
    for a friendly_json comment that is not a JSON object: rewriting it would lose what it holds."""
    if mark.convention is Convention.FRIENDLY_JSON:
        obj = _load_json_object(text[mark.start : mark.end])
        if obj is None:
            raise ValueError("its friendly_json comment is not a JSON object; fix that line by hand first")
        field = json_name_field(obj)
        if name is None:
            if field is not None:
                del obj[field]
            if not obj:
                return None
        else:
            obj[field or "name"] = name
        return text[: mark.start] + json.dumps(obj, ensure_ascii=False) + text[mark.end :]
    if name is None:
        return None
    before = text[: mark.start]
    if mark.start == mark.end and before and before[-1] not in " \t":
        before += " "  # "# Name:" held no name: "# Name: bob", not "# Name:bob"
    return before + name + text[mark.end :]
