"""Provides the lossless wg-quick document: parsing text or bytes, byte-exact rendering, derived views."""

# Built for files of 100,000 peers (a whole `wgtui peer add` on 10,000 in ~0.3 s): lines are named tuples classified
# through regex fast paths (lines.parse_text), sections and peer views are found in one pass (sections.py), and the
# file's style (line ending, `key = value` spacing, list separator) is read with regexes over the text. Every one of
# them gives exactly what the plain code gives: tests/conf/reference.py keeps that code, and
# tests/conf/test_fast_paths.py holds the fast paths to it.

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cached_property
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TypeVar

from ..compat import Self
from .errors import AmbiguousPeer, ParseError, PeerNotFound
from .lines import (
    WS,
    KeyStyle,
    Line,
    detect_key_style,
    detect_list_separator,
    dominant,
    no_gc,
    parse_text,
)
from .names import (
    DEFAULT_STYLE,
    Convention,
    NameStyle,
    Placement,
    shared_styles,
)
from .sections import check_preamble, find_sections, peer_view
from .views import InterfaceView, PeerView, Section, lower_key

_T = TypeVar("_T")

BOM = "\ufeff"
_TEXT: Callable[[Line], str] = itemgetter(0)
_EOL: Callable[[Line], str] = itemgetter(1)
_STYLE_RE = re.compile(r"\n([ \t\r\v\f]*)[A-Za-z][A-Za-z0-9_.-]*([ \t\r\v\f]*)=([ \t\r\v\f]*)([^\n]?)")
"""Every setting line (of "\\n" + text: a line starts after a "\\n", which re finds fastest): indentation, the
whitespace before and after '=', and whether anything follows."""
_LIST_RE = re.compile(r"\n[ \t\r\v\f]*(?:address|allowedips|dns)[ \t\r\v\f]*=([^#\n]*)", re.I | re.A)
"""The value (up to a comment, not yet stripped) of every line of a list key (of "\\n" + text)."""
_COMMA_SPACE = re.compile(r",[ \t]")


def dominant_count(counts: Counter[_T], default: _T) -> _T:
    """`dominant` of values already counted (a Counter keeps the order values were first seen)."""
    if not counts:
        return default
    best = max(counts.values())
    return next(v for v in counts if counts[v] == best)


def dominant_naming(styles: Counter[NameStyle]) -> NameStyle:
    """The naming of a file whose peers have these styles (counted in the order first met)."""
    if not styles:
        return DEFAULT_STYLE
    conventions: Counter[Convention] = Counter()
    for style, count in styles.items():
        conventions[style.convention] += count
    convention = dominant_count(conventions, Convention.FRIENDLY_NAME)
    placements: Counter[Placement] = Counter()
    for style, count in styles.items():
        if style.convention is convention:
            placements[style.placement] += count
    return NameStyle(convention, dominant_count(placements, Placement.INSIDE)).normalized()


class BaseDocument:
    """A wg-quick file as lines kept verbatim (text and line ending), and everything derived from them:
    sections and their blocks (see `_sections` for which comments belong to a peer), the interface and
    peer views, the file's writing style. Rendering can never lose a byte that no edit touched.
    Immutable; the edits are added by `wgtui.conf.edit.Document`, the class to use."""

    def __init__(self, lines: Sequence[Line], bom: str = "") -> None:
        self._lines = tuple(lines)
        self._bom = bom
        check_preamble(self._lines)

    # -- reading and writing ------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse text; raises ParseError (1-based line, reason) for anything that is no wg-quick file."""
        bom = BOM if text.startswith(BOM) else ""
        body = text[len(bom) :]
        with no_gc():
            doc = cls(parse_text(body), bom)
        doc.__dict__["_body"] = body  # what rendering the lines gives back, byte for byte (the round trip)
        doc.__dict__["_plain"] = True  # split on "\n", so no line holds one, and the endings are the usual ones
        doc.__dict__["_parsed"] = True
        return doc

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode UTF-8 and parse; bytes that are not UTF-8 raise ParseError on the line they sit on."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1
            raise ParseError(
                line,
                f"the file is not valid UTF-8: byte 0x{data[err.start]:02x} at byte offset {err.start} "
                f"({err.reason})",
            ) from None
        return cls.parse(text)

    @classmethod
    def read(cls, path: str | Path) -> Self:
        return cls.from_bytes(Path(path).read_bytes())

    def render(self) -> str:
        """The file's text: exactly what was parsed, plus the edits made."""
        return self._bom + self._body

    @cached_property
    def _body(self) -> str:
        """The text without the byte-order mark (joined in C: no Python code runs per line)."""
        lines = self._lines
        return "".join(chain.from_iterable(zip(map(_TEXT, lines), map(_EOL, lines), strict=True)))

    def lines_found(self, line_start: re.Pattern[str]) -> list[int] | None:
        """0-based indices of the lines `line_start` finds, with one regex over the text: the pattern begins with
        the "\\n" that ends the previous line (the first line gets one too). None when the lines are not all as a
        parse makes them (then only a loop over them can tell)."""
        if not self._plain:
            return None
        text = "\n" + self._body
        out = []
        line, pos = 0, 1
        for match in line_start.finditer(text):
            start = match.start() + 1  # where the line begins in `text`
            line += text.count("\n", pos, start)
            pos = start
            out.append(line)
        return out

    def to_bytes(self) -> bytes:
        return self.render().encode("utf-8")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BaseDocument) and (self._bom, self._lines) == (other._bom, other._lines)

    def __hash__(self) -> int:
        return hash((self._bom, self._lines))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {len(self._lines)} lines, {len(self.peers)} peers>"

    # -- structure ----------------------------------------------------------------------------------------

    @property
    def lines(self) -> tuple[Line, ...]:
        return self._lines

    @property
    def bom(self) -> str:
        """"\\ufeff" when the file starts with a byte-order mark (kept, never counted as a line)."""
        return self._bom

    @property
    def sections(self) -> tuple[Section, ...]:
        return self._sections

    @cached_property
    def _sections(self) -> tuple[Section, ...]:
        # Worked out on first use: a document made by an edit is often only rendered. A parsed one nearly always
        # has its peers read too, so their views are made in the same pass.
        with no_gc():
            if not self.__dict__.get("_parsed"):
                return find_sections(self._lines)
            views: list[PeerView | None] = []
            sections = find_sections(self._lines, views)
            self.__dict__["_views"] = views
            return sections

    @property
    def preamble(self) -> tuple[Line, ...]:
        """Lines before the first section that belong to no block (comments and blank lines)."""
        first = self._sections[0].start if self._sections else len(self._lines)
        return self._lines[:first]

    @cached_property
    def peers(self) -> tuple[PeerView, ...]:
        views = self._views
        if None not in views:
            return tuple(views)  # type: ignore[arg-type]  # every one built
        with no_gc():
            return tuple([self._view(i) for i in range(len(views))])

    @cached_property
    def _peer_sections(self) -> tuple[Section, ...]:
        return tuple(s for s in self._sections if s.kind == "Peer")

    @cached_property
    def _views(self) -> list[PeerView | None]:
        sections = self._peer_sections  # a parsed document's views are made with its sections, and put in place
        views: list[PeerView | None] | None = self.__dict__.get("_views")
        return views if views is not None else [None] * len(sections)

    def _view(self, index: int) -> PeerView:
        """The view of the index-th peer section, built once (find_peer builds only the ones it returns)."""
        view = self._views[index]
        if view is None:
            view = self._views[index] = peer_view(self._lines, self._peer_sections[index])
        return view

    @cached_property
    def interface(self) -> InterfaceView | None:
        """The merged `[Interface]` sections, or None when the file has none."""
        sections = tuple(s for s in self._sections if s.kind == "Interface")
        if not sections:
            return None
        return InterfaceView.of(sections)

    @property
    def save_config(self) -> bool:
        return self.interface is not None and self.interface.save_config

    @property
    def names(self) -> dict[str, str]:
        """Public key → name for every named peer with a public key."""
        return {p.public_key: p.name for p in self.peers if p.public_key and p.name}

    # -- finding peers ------------------------------------------------------------------------------------

    def find_peer(self, public_key: str) -> PeerView | None:
        """The peer with exactly this public key; AmbiguousPeer if the file has it in several blocks."""
        key = public_key.strip()
        found = self._by_key.get(key)
        if found is None:
            return None
        if isinstance(found, list):
            raise AmbiguousPeer(key, len(found))
        return self._view(found)

    @cached_property
    def _by_key(self) -> dict[str, int | list[int]]:
        """Public key -> index of its peer section (a list of them when several blocks have it)."""
        index: dict[str, int | list[int]] = {}
        views = self._views  # a view already built knows its key
        for i, section in enumerate(self._peer_sections):
            view = views[i]
            if view is not None:
                key = view.public_key
            else:
                key = None
                for f in section.fields:
                    if lower_key(f.key) == "publickey":
                        key = f.value
            if key:
                held = index.setdefault(key, i)
                if held != i:
                    if isinstance(held, list):
                        held.append(i)
                    else:
                        index[key] = [held, i]
        return index

    def peer(self, public_key: str) -> PeerView:
        """Like find_peer, but PeerNotFound when there is none."""
        found = self.find_peer(public_key)
        if found is None:
            raise PeerNotFound(public_key.strip())
        return found

    def resolve_peer(self, query: str) -> PeerView:
        """A peer by full public key, then by exact name, then by unique public-key prefix."""
        query = query.strip()
        by_key = [p for p in self.peers if p.public_key == query]
        by_name = [p for p in self.peers if p.name == query]
        by_prefix = [p for p in self.peers if query and p.public_key and p.public_key.startswith(query)]
        for found in (by_key, by_name, by_prefix):
            if len(found) > 1:
                raise AmbiguousPeer(query, len(found))
            if found:
                return found[0]
        raise PeerNotFound(query)

    # -- the file's own style, copied by edits ------------------------------------------------------------

    @cached_property
    def eol(self) -> str:
        """The dominant line ending ("\\n" for a file without any)."""
        counts: Counter[str] = Counter(map(_EOL, self._lines))  # detect_eol, counted in C
        counts.pop("", None)
        return dominant_count(counts, "\n")

    @cached_property
    def _plain(self) -> bool:
        """Whether the lines are as a parse makes them (no "\\n" inside a line, only the usual endings), so that
        regexes over the text see the same lines."""
        lines = self._lines
        return set(map(_EOL, lines)) <= {"\n", "\r\n", ""} and "\n" not in "".join(map(_TEXT, lines))

    @cached_property
    def key_style(self) -> KeyStyle:
        """The dominant `key = value` spacing and indentation."""
        if not self._plain:
            return detect_key_style(self._lines)
        # detect_key_style with one regex over the text: a line is a setting iff it starts with a key and '='. The
        # matches are counted in C, then the few different ones merged (in the order they were first seen).
        counts: Counter[tuple[str, str, str]] = Counter()
        for (indent, before, after, rest), count in Counter(_STYLE_RE.findall("\n" + self._body)).items():
            counts[indent, before, after if rest else " "] += count
        if not counts:
            return KeyStyle()
        return KeyStyle(*dominant_count(counts, ("", " ", " ")))

    @cached_property
    def list_separator(self) -> str:
        if not self._plain:
            return detect_list_separator(self._lines)
        seps = []
        for raw in _LIST_RE.findall("\n" + self._body):
            value = raw.strip(WS)
            if "," in value:
                seps.append(", " if _COMMA_SPACE.search(value) else ",")
        return dominant(seps, ", ")

    @cached_property
    def naming(self) -> NameStyle:
        """The convention most of the named peers use (ties: the one met first), and its usual placement;
        DEFAULT_STYLE when no peer has a name comment."""
        return dominant_naming(self._naming_counts())

    def _naming_counts(self) -> Counter[NameStyle]:
        """How many peers have each naming style, in the order first met."""
        # Counted by object first, in C (the views share the NameStyle objects of name_style), then merged by value
        # in the order first seen.
        namings = [p.naming for p in self.peers]
        shared = {id(style): style for style in shared_styles()}
        styles: Counter[NameStyle] = Counter()
        for key, count in Counter(map(id, namings)).items():
            style = shared.get(key)
            if style is None:
                style = next(n for n in namings if id(n) == key)
                if style is None:
                    continue
            styles[style] += count
        return styles

    def conventions(self) -> Counter[Convention]:
        """How many peers use each naming convention."""
        return Counter(p.naming.convention for p in self.peers if p.naming is not None)
