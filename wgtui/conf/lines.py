"""Provides the line grammar of wg-quick files: splitting with endings kept, classifying lines, key/value parts."""

from __future__ import annotations

import gc
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

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


class Line(NamedTuple):
    """One line exactly as read: `text + eol` gives back its bytes; kind, key and value are derived from it.

    Immutable (a named tuple: a 10,000-peer file has 50,000 of them, and a tuple is built three times faster
    than a frozen dataclass)."""

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
        return self if eol == self.eol else self._replace(eol=eol)


def split_lines(text: str) -> list[tuple[str, str]]:
    """(text, eol) pairs. Only "\\n" ends a line, as for bash `read` and wg's getline; a "\\r" before it
    belongs to the ending so CRLF files keep it, and a lone "\\r" stays inside the line."""
    parts = text.split("\n")
    last = parts.pop()
    out = [(part[:-1], "\r\n") if part[-1:] == "\r" else (part, "\n") for part in parts]
    if last:
        out.append((last, ""))
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


# The fast paths of `parse_lines`: the shapes nearly every line of a real file has. Each accepts only lines that
# `parse_line` reads the same way (tests/conf/test_fast_paths.py checks it); anything else goes to `parse_line`.
_FAST_SETTING = re.compile(
    r"[ \t\r\v\f]*([A-Za-z][A-Za-z0-9_.-]*)[ \t\r\v\f]*=[ \t\r\v\f]*((?:[^#]*[^# \t\r\v\f])?)[ \t\r\v\f]*(?:#.*)?\Z",
    re.S,
)
"""`Key = value # comment`: the key, and the value stripped as parse_line strips it."""
_FAST_HEADER = re.compile(r"\[([A-Za-z]+)\][ \t\r\v\f]*(?:#.*)?\Z", re.S)
"""A header line after its leading whitespace."""


def _classify(text: str, eol: str, number: int) -> Line:
    """parse_line, through the fast paths first."""
    match = _FAST_SETTING.match(text)
    if match is not None:
        return _new(Line, (text, eol, _SETTING, match[1], match[2]))
    content = text.lstrip(WS)
    if not content:
        return _new(Line, (text, eol, _BLANK, "", ""))
    if content[0] == "#":
        return _new(Line, (text, eol, _COMMENT, "", ""))
    header = _FAST_HEADER.match(content)
    if header is not None:
        name = SECTION_NAMES.get(header[1].lower())
        if name is not None:
            return _new(Line, (text, eol, _SECTION, name, ""))
    return parse_line(text, eol, number)


_new = tuple.__new__
"""Line(...) without the Python frame of a named tuple's __new__ (the fields are all given)."""
_SETTING, _BLANK, _COMMENT, _SECTION = LineKind.SETTING, LineKind.BLANK, LineKind.COMMENT, LineKind.SECTION


_FREEZE_AFTER = 100_000
"""Objects made in a no_gc block from which on they are frozen out of the collector for good (a file of ~15,000
peers and more)."""
_SPLICE_AFTER = 10_000
"""Objects made in a no_gc block from which on they are moved to the oldest generation. Below it nothing is done:
`gc.get_freeze_count()` walks the whole frozen set, so asking it after every small parse (a disabled block, a
client config) made thousands of them quadratic once the dashboard had frozen its start-up objects."""


_may_freeze = True
"""False in an interactive process (`leave_to_collector`): a document's objects are never frozen there."""
_ASK_AFTER = 400_000
"""Objects made in a no_gc block from which on, where freezing is left to the process, it is asked to freeze (a
file of ~50,000 peers and more). Measured at 20,000 peers in the dashboard: a full pass over a document left to the
collector costs 0.1-0.2 s, while each freeze, however quiet the moment, also freezes ~2,000 objects that go later
(the footer's keys, rebuilt when the focus moves) and are then never freed; from ~50,000 peers the passes cost more
than that is worth."""
_freeze_asked = False
"""Set where freezing is left to the process: a very large document was made since it last froze."""
_seen_frozen = False
"""gc.get_freeze_count() was found above 0 once. wgtui never thaws what it froze for good (the splice below thaws
only when nothing else was frozen), so it is not asked again: in the dashboard, whose monitor froze its start-up
objects, each ask walked them all, 17 ms, twice in every change form it opened at 10,000 peers. A harness that
thaws everything says so (`thawed`); had it not, the only cost would be a skipped splice."""


def leave_to_collector() -> None:
    """Never freeze objects after a large parse in this process, however many: an interactive one (the dashboard)
    has screens and dialogs alive at that moment, in a worker thread's parse as much as anywhere; frozen, they are
    never collected once dismissed (at 20,000 peers every change kept its form, its preview and its client-config
    screen for good). Instead, for very large files, `freeze_asked` tells the process, which freezes when it knows
    what is alive (gcpolicy.freeze_when_asked)."""
    global _may_freeze
    _may_freeze = False


def thawed() -> None:
    """Tell no_gc that the caller thawed every frozen object (gc.unfreeze; wgtui itself never does: test and
    benchmark harnesses between two apps): it asks gc.get_freeze_count() again."""
    global _seen_frozen
    _seen_frozen = False


def freeze_asked(*, clear: bool = False) -> bool:
    """Whether a very large document was made since the process last froze (only where it is left to the process:
    see _ASK_AFTER)."""
    global _freeze_asked
    asked = _freeze_asked
    if clear:
        _freeze_asked = False
    return asked


@contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while a document's many small objects are made (none of them can form a
    cycle): at 100,000 peers its passes over them would cost a third of a parse.

    Afterwards they go straight to the oldest generation (freeze, then unfreeze: two list splices), so that the first
    young collection does not walk them all at once either; garbage among them is still collected, by the next full
    collection. Not when the process keeps objects frozen on purpose (the dashboard does): unfreezing would thaw
    those too. After very many objects (a huge file), they are frozen for good: every full collection would walk them
    all again, and being acyclic they are freed without it when they go; not in an interactive process
    (`leave_to_collector`), where everything else alive would be frozen with them."""
    global _freeze_asked, _seen_frozen
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            made = gc.get_count()[0]
            if made > _FREEZE_AFTER and _may_freeze:
                gc.freeze()
                _seen_frozen = True
            elif made > _SPLICE_AFTER and not _seen_frozen:
                if gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                else:
                    _seen_frozen = True
            if made > _ASK_AFTER and not _may_freeze:
                _freeze_asked = True
            gc.enable()


def parse_lines(pairs: Iterable[tuple[str, str]]) -> list[Line]:
    """`parse_line` of every (text, eol) pair, numbered from 1: the same lines, the same first ParseError."""
    return [_classify(text, eol, number) for number, (text, eol) in enumerate(pairs, 1)]


def parse_text(text: str) -> list[Line]:
    """`parse_lines(split_lines(text))`, without making the pairs: the same lines, the same first ParseError.

    Lines that repeat (blank lines, `[Peer]`, a common setting) are classified once and share one Line object (it
    is immutable)."""
    pieces = text.split("\n")
    last = pieces.pop()
    seen: dict[str, Line] = {}
    out: list[Line] = []
    append = out.append
    get = seen.get
    setting = _FAST_SETTING.match
    for number, piece in enumerate(pieces, 1):
        line = get(piece)  # the piece holds a CRLF line's "\r": equal pieces are equal lines
        if line is None:
            if piece[-1:] == "\r":
                text, eol = piece[:-1], "\r\n"
            else:
                text, eol = piece, "\n"
            # _classify, its two usual cases inline
            if text[:1] == "#":
                line = _new(Line, (text, eol, _COMMENT, "", ""))
            else:
                match = setting(text)
                if match is not None:
                    line = _new(Line, (text, eol, _SETTING, match[1], match[2]))
                else:
                    line = _classify(text, eol, number)
            seen[piece] = line
        append(line)
    if last:
        append(_classify(last, "", len(pieces) + 1))
    return out


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
