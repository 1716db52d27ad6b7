"""Provides the line grammar of wg-quick files: splitting with endings kept, classifying lines, key/value parts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum

from .errors import ParseError

WS = " \t\r\v\f"
"""Whitespace as wg-quick's bash `[[:space:]]` strips it ("\n" never occurs inside a line)."""

KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*\Z")
HEADER_RE = re.compile(r"\[([A-Za-z]+)\]\Z")
SECTION_NAMES = {"interface": "Interface", "peer": "Peer"}

# Characters that some reader (bash `read`, Python's splitlines, an editor) takes for a line break, plus
# every other C0 control and DEL: none of them may be written into a value.
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"

CANONICAL_KEYS = {
    k.lower(): k
    for k in (
        "PrivateKey", "ListenPort", "FwMark", "Address", "DNS", "MTU", "Table", "PreUp", "PostUp",
        "PreDown", "PostDown", "SaveConfig", "PublicKey", "PresharedKey", "AllowedIPs", "Endpoint",
        "PersistentKeepalive",
    )
}
LIST_KEYS = frozenset({"address", "allowedips", "dns"})
"""Keys whose value is a comma-separated list; several lines of them add up."""
HOOK_KEYS = frozenset({"preup", "postup", "predown", "postdown"})
"""Keys where each line is one shell command: several lines run one after the other."""


class LineKind(Enum):
    """What a line is to wg-quick."""

    BLANK = "blank"
    COMMENT = "comment"
    SECTION = "section"
    SETTING = "setting"


@dataclass(frozen=True, slots=True)
class Line:
    """One line exactly as read: `text + eol` gives back its bytes; kind, key and value are derived from it."""

    text: str
    """The line without its line ending."""
    eol: str
    """"\\n", "\\r\\n", or "" for a last line without a newline."""
    kind: LineKind
    key: str = ""
    """SETTING: the key as written (any case). SECTION: "Interface" or "Peer"."""
    value: str = ""
    """SETTING: the value as wg-quick reads it: after the first '=', before any '#', whitespace stripped."""

    @property
    def raw(self) -> str:
        return self.text + self.eol

    @property
    def comment_start(self) -> int:
        """Index of the '#' that starts this line's comment, or -1."""
        return self.text.find("#")

    @property
    def comment(self) -> str:
        """From the first '#' to the end of the line ("" when there is none)."""
        start = self.text.find("#")
        return "" if start < 0 else self.text[start:]

    def with_eol(self, eol: str) -> Line:
        return self if eol == self.eol else replace(self, eol=eol)


def split_lines(text: str) -> list[tuple[str, str]]:
    """(text, eol) pairs. Only "\\n" ends a line, as for bash `read` and wg's getline; a "\\r" before it
    belongs to the ending so CRLF files keep it, and a lone "\\r" stays inside the line."""
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


def parse_line(text: str, eol: str, number: int) -> Line:
    """Classify one line as wg-quick would, or raise ParseError for `number` saying why it is no wg-quick line."""
    hash_at = text.find("#")
    content = (text if hash_at < 0 else text[:hash_at]).strip(WS)
    if not content:
        return Line(text, eol, LineKind.BLANK if hash_at < 0 else LineKind.COMMENT)
    if content.startswith("["):
        match = HEADER_RE.match(content)
        if not match:
            raise ParseError(
                number, f"{content!r} is not a section header: write [Interface] or [Peer]", text
            )
        name = SECTION_NAMES.get(match.group(1).lower())
        if name is None:
            raise ParseError(
                number,
                f"unknown section [{match.group(1)}]: a wg-quick file has only [Interface] and [Peer] sections",
                text,
            )
        return Line(text, eol, LineKind.SECTION, key=name)
    if "=" not in content:
        raise ParseError(
            number, "this line is neither a comment, a [Section] header nor a 'Key = value' setting", text
        )
    key, _, value = content.partition("=")
    key = key.strip(WS)
    if not key:
        raise ParseError(number, "this setting has no key before its '='", text)
    if not KEY_RE.match(key):
        raise ParseError(number, f"{key!r} is not a key name (a key is one word, like AllowedIPs)", text)
    return Line(text, eol, LineKind.SETTING, key=key, value=value.strip(WS))


@dataclass(frozen=True, slots=True)
class SettingParts:
    """A setting line cut into the pieces that must survive an edit of its value."""

    head: str
    """Indentation, key, the spaces around '=' and '=' itself: kept as written."""
    value: str
    gap: str
    """Whitespace after the value (before the comment, or trailing)."""
    comment: str

    @classmethod
    def of(cls, text: str) -> SettingParts:
        eq = text.index("=")
        rest = text[eq + 1 :]
        hash_at = rest.find("#")
        body, comment = (rest, "") if hash_at < 0 else (rest[:hash_at], rest[hash_at:])
        lead = len(body) - len(body.lstrip(WS))
        value = body.strip(WS)
        return cls(text[: eq + 1] + body[:lead], value, body[lead + len(value) :], comment)

    def with_value(self, value: str, style: KeyStyle) -> str:
        head, gap = self.head, self.gap
        if not self.value and value and not head.endswith(tuple(WS)):
            head += style.after  # "DNS =" had nowhere to put the value's space
        if self.comment and not gap:
            gap = " "  # keep "value # comment" from gluing into "value# comment"
        return head + value + gap + self.comment


@dataclass(frozen=True, slots=True)
class KeyStyle:
    """How a file writes `key = value`: indentation and the whitespace around '='."""

    indent: str = ""
    before: str = " "
    after: str = " "

    def format(self, key: str, value: str) -> str:
        return f"{self.indent}{key}{self.before}={self.after if value else ''}{value}"

    @classmethod
    def of(cls, text: str) -> KeyStyle:
        eq = text.index("=")
        head = text[:eq]
        indent = head[: len(head) - len(head.lstrip(WS))]
        before = head[len(head.rstrip(WS)) :]
        rest = text[eq + 1 :]
        after = rest[: len(rest) - len(rest.lstrip(WS))]
        return cls(indent, before, after if rest.strip(WS) else " ")


def dominant(values: Iterable[str], default: str) -> str:
    """The most common value; ties go to the one seen first, an empty input to `default`."""
    counts = Counter(values)
    if not counts:
        return default
    best = max(counts.values())
    return next(v for v in counts if counts[v] == best)


def detect_eol(lines: Iterable[Line]) -> str:
    return dominant((ln.eol for ln in lines if ln.eol), "\n")


def detect_key_style(lines: Iterable[Line]) -> KeyStyle:
    styles = [KeyStyle.of(ln.text) for ln in lines if ln.kind is LineKind.SETTING]
    if not styles:
        return KeyStyle()
    counts = Counter(styles)
    best = max(counts.values())
    return next(s for s in counts if counts[s] == best)


def detect_list_separator(lines: Iterable[Line]) -> str:
    """", " or "," as the file writes lists (", " when it has none to copy)."""
    seps = []
    for ln in lines:
        if ln.kind is LineKind.SETTING and ln.key.lower() in LIST_KEYS and "," in ln.value:
            seps.append(", " if re.search(r",[ \t]", ln.value) else ",")
    return dominant(seps, ", ")


def canonical_key(key: str) -> str:
    """The spelling wg-quick's man page uses for a known key; unknown keys as given."""
    return CANONICAL_KEYS.get(key.lower(), key)


def unsafe_char(value: str) -> str | None:
    """A description of the first character that may not be written into a config value, or None.

    Tabs are allowed (shell hooks use them); a '#' is not, because wg-quick would cut the value there."""
    for ch in value:
        if ch in LINE_BREAKS:
            return f"a line break (U+{ord(ch):04X})"
        if ch == "#":
            return "'#', which wg-quick reads as the start of a comment"
        if ch != "\t" and (ord(ch) < 0x20 or ord(ch) == 0x7F):
            return f"the control character U+{ord(ch):04X}"
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return f"the unpaired surrogate U+{ord(ch):04X}, which cannot be written as UTF-8"
    return None
