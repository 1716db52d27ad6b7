"""Provides the lossless wg-quick document: parsing text or bytes, byte-exact rendering, derived views."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from ..compat import Self
from .errors import AmbiguousPeer, ParseError, PeerNotFound
from .lines import (
    KeyStyle,
    Line,
    LineKind,
    detect_eol,
    detect_key_style,
    detect_list_separator,
    dominant,
    parse_line,
    split_lines,
)
from .names import (
    DEFAULT_STYLE,
    DISABLED_PREFIX,
    PAIRED,
    Convention,
    NameMark,
    NameStyle,
    Placement,
    is_end_marker,
    scan,
)
from .views import Field, InterfaceView, PeerView, Section, int_or_none, split_list

BOM = "\ufeff"


def _sections(lines: Sequence[Line]) -> tuple[Section, ...]:
    """The sections of a document and the span of each one's block.

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
    """
    n = len(lines)
    headers = [i for i, ln in enumerate(lines) if ln.kind is LineKind.SECTION]
    for i in range(headers[0] if headers else n):
        if lines[i].kind is LineKind.SETTING:
            raise ParseError(
                i + 1,
                f"the setting {lines[i].key!r} comes before any [Interface] or [Peer] section",
                lines[i].text,
            )
    leads = []
    for k, h in enumerate(headers):
        floor = headers[k - 1] + 1 if k else 0
        start = h
        while start > floor and lines[start - 1].kind is LineKind.COMMENT:
            start -= 1
        for i in range(h - 1, start - 1, -1):
            if is_end_marker(lines[i].comment) or DISABLED_PREFIX.match(lines[i].comment):
                start = i + 1  # a disabled block above belongs to no live one, whatever its last line says
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
                break  # the block's own end marker closes it: what follows (a disabled block) is not its
        out.append(Section(lines[h].key, h, leads[k], end, stop, tuple(fields)))
    return tuple(out)


def _marks(lines: Sequence[Line], section: Section) -> tuple[NameMark, ...]:
    marks = []
    for i in range(section.start, section.end):
        ln = lines[i]
        if ln.kind is LineKind.COMMENT or (i == section.header and ln.comment_start >= 0):
            mark = scan(ln.comment, ln.comment_start, i)
            if mark is not None:
                marks.append(mark)
    return tuple(marks)


def _peer_view(lines: Sequence[Line], section: Section) -> PeerView:
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
        public_key=section.last("PublicKey"),
        preshared_key=section.last("PresharedKey"),
        allowed_ips=split_list(section.values("AllowedIPs")),
        endpoint=section.last("Endpoint"),
        persistent_keepalive=int_or_none(section.last("PersistentKeepalive"), off_is_zero=True),
        name=primary.name if primary is not None else None,
        marks=marks,
        naming=naming,
    )


class BaseDocument:
    """A wg-quick file as lines kept verbatim (text and line ending), and everything derived from them:
    sections and their blocks (see `_sections` for which comments belong to a peer), the interface and
    peer views, the file's writing style. Rendering can never lose a byte that no edit touched.
    Immutable; the edits are added by `wgtui.conf.edit.Document`, the class to use."""

    def __init__(self, lines: Sequence[Line], bom: str = "") -> None:
        self._lines = tuple(lines)
        self._bom = bom
        self._sections = _sections(self._lines)

    # -- reading and writing ------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse text; raises ParseError (1-based line, reason) for anything that is no wg-quick file."""
        bom = BOM if text.startswith(BOM) else ""
        body = text[len(bom) :]
        return cls([parse_line(t, e, i + 1) for i, (t, e) in enumerate(split_lines(body))], bom)

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
        return self._bom + "".join(ln.text + ln.eol for ln in self._lines)

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

    @property
    def preamble(self) -> tuple[Line, ...]:
        """Lines before the first section that belong to no block (comments and blank lines)."""
        first = self._sections[0].start if self._sections else len(self._lines)
        return self._lines[:first]

    @cached_property
    def peers(self) -> tuple[PeerView, ...]:
        return tuple(_peer_view(self._lines, s) for s in self._sections if s.kind == "Peer")

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
        found = self._by_key.get(key, [])
        if len(found) > 1:
            raise AmbiguousPeer(key, len(found))
        return found[0] if found else None

    @cached_property
    def _by_key(self) -> dict[str, list[PeerView]]:
        index: dict[str, list[PeerView]] = {}
        for p in self.peers:
            if p.public_key:
                index.setdefault(p.public_key, []).append(p)
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
        return detect_eol(self._lines)

    @cached_property
    def key_style(self) -> KeyStyle:
        """The dominant `key = value` spacing and indentation."""
        return detect_key_style(self._lines)

    @cached_property
    def list_separator(self) -> str:
        return detect_list_separator(self._lines)

    @cached_property
    def naming(self) -> NameStyle:
        """The convention most of the named peers use (ties: the one met first), and its usual placement;
        DEFAULT_STYLE when no peer has a name comment."""
        styles = [p.naming for p in self.peers if p.naming is not None]
        if not styles:
            return DEFAULT_STYLE
        convention = Convention(dominant((s.convention.value for s in styles), ""))
        placement = Placement(
            dominant((s.placement.value for s in styles if s.convention is convention), "")
        )
        return NameStyle(convention, placement).normalized()

    def conventions(self) -> Counter[Convention]:
        """How many peers use each naming convention."""
        return Counter(p.naming.convention for p in self.peers if p.naming is not None)
