"""Provides PeerEdits: many removals, disables and field edits of a document's peers, made in one pass."""

# One edit at a time re-reads the whole file for the next one (its sections and peers), so a batch of 1,000 edits on a
# 3,000-peer file took ~20 s. Here each peer's edit runs on a document of its block alone and the blocks go back in
# one splice. That gives what the edits one at a time give as long as nothing an edit consults changes along the
# way: the block's own lines (each peer is edited once), its neighbours (removals look at the blank lines around a
# block, which are tracked here), and the file's style. The line ending and the list separator are known not to
# change when the file has one of each (see `_stable`); anything else an edit asks of the file (its
# naming, its `key = value` spacing) or an edit made here only the slow way (enable) switches to the plain way: the
# edits so far spliced in, the rest made one at a time. tests/conf/test_bulk.py holds it to the plain way.

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

from .disabled import disable_peer, enable_peer
from .document import _COMMA_SPACE, _LIST_RE, dominant_naming
from .edit import Document
from .errors import ConfError
from .lines import WS, KeyStyle, Line, LineKind
from .names import NameStyle

PeerEdit = Callable[[Document], Document]
"""An edit of one peer that touches only its block (rename_peer, set_peer_field, set_peer_meta, disable_peer)."""

_BLANK = LineKind.BLANK


class _Unstable(Exception):
    """An edit asked the file for something that the edits before it may have changed."""


class _Block(Document):
    """A peer's block as a document of its own, answering for the whole file's line ending and list separator."""

    file_eol = "\n"
    file_separator = ", "

    @property  # type: ignore[override]
    def eol(self) -> str:
        return self.file_eol

    @property  # type: ignore[override]
    def list_separator(self) -> str:
        return self.file_separator

    @property  # type: ignore[override]
    def key_style(self) -> KeyStyle:
        raise _Unstable

    @property  # type: ignore[override]
    def naming(self) -> NameStyle:
        raise _Unstable


def _stable(doc: Document) -> tuple[str, str] | None:
    """(line ending, list separator) when no sequence of peer edits can change them, else None.

    The ending: every line has the same one (the last may have none); the edits write only that one, and a file with
    a peer left to edit keeps lines with it. The separator: every list with several items uses the same one, and it
    is either ", " (what a file without such lists has too) or on an [Interface] line, which peer edits keep."""
    if not doc._plain:
        return None
    eols = set(map(_eol, doc.lines)) - {""}
    if len(eols) != 1:
        return None
    seps = set()
    for raw in _LIST_RE.findall("\n" + doc._body):
        value = raw.strip(WS)
        if "," in value:
            seps.add(", " if _COMMA_SPACE.search(value) else ",")
    if len(seps) > 1:
        return None
    sep = seps.pop() if seps else ", "
    if sep != ", ":
        iface = doc.interface
        anchored = iface is not None and any(
            f.key.lower() in ("address", "allowedips", "dns") and "," in f.value and not _COMMA_SPACE.search(f.value)
            for s in iface.sections for f in s.fields)
        if not anchored:
            return None
    return eols.pop(), sep


def _eol(line: Line) -> str:
    return line.eol


class PeerEdits:
    """Edits of many peers of one document, as if made one at a time in the order given, each peer at most once.

    `remove`, `disable` and `edit` each cost about the size of the peer's block; `document()` splices them all in."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self._regions: dict[int, tuple[int, list[Line]]] = {}
        """First line of an edited block -> (one past its last line, its lines now), in the original's lines."""
        self._ends: dict[int, int] = {}
        self._gone: set[int] = set()
        """Blank lines removed with a block next to them."""
        self._back: dict[int, int] = {}
        self._fwd: dict[int, int] = {}
        self._slow: Document | None = None
        """The document so far, once an edit had to be made the plain way (then every later one is too)."""
        self._block_type: type[_Block] | None = None
        """The blocks' document class, with the file's line ending and list separator (made at the first edit)."""
        self._named: dict[NameStyle, list[int]] = {}
        """Per naming style, the indices of the peers that have it (for the file's naming as the edits change it)."""
        self._left: dict[NameStyle, int] = {}
        self._first: dict[NameStyle, int] = {}
        self._dropped: set[int] = set()
        """Indices of the peers removed or disabled."""
        self._index: dict[str, int] = {}
        self._touched: set[str] = set()

    # -- the edits --------------------------------------------------------------------------------------------

    def edit(self, public_key: str, change: PeerEdit) -> None:
        """Apply `change` (an edit of this peer's block alone) to the peer."""
        self._touch(public_key)
        block_type = self._fast()
        if block_type is not None:
            section = self.doc.peer(public_key).section
            block = block_type(self.doc.lines[section.start:section.end])
            try:
                new = change(block)
            except (_Unstable, ConfError):  # a refusal is made again on the whole file, to name its line there
                self._go_slow()
            else:
                self._put(section.start, section.end, list(new.lines))
                return
        assert self._slow is not None
        self._slow = change(self._slow)

    def disable(self, public_key: str) -> None:
        """`disabled.disable_peer`: the block commented out, line by line."""
        self.edit(public_key, lambda doc: disable_peer(doc, public_key))
        self._forget(public_key)

    def enable(self, public_key: str) -> None:
        """`disabled.enable_peer` (made the plain way: which block a disabled run holds depends on its neighbours)."""
        self._go_slow()
        assert self._slow is not None
        self._slow = enable_peer(self._slow, public_key)

    def remove(self, public_key: str) -> None:
        """`Document.remove_peer`: the block and one blank line next to it, chosen by the lines around it now."""
        self._touch(public_key)
        if self._fast() is None:
            assert self._slow is not None
            self._slow = self._slow.remove_peer(public_key)
            return
        section = self.doc.peer(public_key).section
        self._forget(public_key)
        start, end = section.start, section.end
        before, after = self._lines_before(start), self._lines_after(end)
        first_before, first_after = next(before, None), next(after, None)
        blank_before = first_before is not None and first_before[1].kind is _BLANK
        blank_after = first_after is not None and first_after[1].kind is _BLANK
        content_before = any(ln.kind is not _BLANK for _, ln in _chain(first_before, before))
        content_after = any(ln.kind is not _BLANK for _, ln in _chain(first_after, after))
        drop = None
        if blank_before and (blank_after or not content_after):
            drop = first_before
        elif blank_after and content_after and not content_before:
            drop = first_after
        if drop is not None and drop[0] < 0:  # a blank line an edit left at the edge of a block: the plain way
            self._touched.discard(public_key)
            self._go_slow()
            self.remove(public_key)
            return
        if drop is not None:
            self._gone.add(drop[0])
        self._put(start, end, [])

    # -- what the document is now -----------------------------------------------------------------------------

    @property
    def naming(self) -> NameStyle:
        """The naming of the document as it is now (`Document.naming`)."""
        if self._slow is not None:
            return self._slow.naming
        if not self._dropped:
            return self.doc.naming
        firsts = []
        for style, indices in self._named.items():
            at = self._first.get(style, 0)
            while at < len(indices) and indices[at] in self._dropped:
                at += 1
            self._first[style] = at
            if at < len(indices):
                firsts.append((indices[at], style))
        counts: Counter[NameStyle] = Counter()
        for _, style in sorted(firsts):  # in the order first met, as Document.naming counts them
            counts[style] = self._left[style]
        return dominant_naming(counts)

    def document(self) -> Document:
        """The document with every edit made."""
        if self._slow is not None:
            return self._slow
        if not self._regions and not self._gone:
            return self.doc
        changes = [(start, end, new) for start, (end, new) in self._regions.items()]
        changes += [(i, i + 1, []) for i in self._gone]
        return self.doc._splice(changes)

    # -- plumbing ---------------------------------------------------------------------------------------------

    def _fast(self) -> type[_Block] | None:
        """The class of the blocks' documents while edits are made the one-pass way, None once they are not."""
        if self._slow is None and self._block_type is None:
            stable = _stable(self.doc)
            if stable is None:
                self._slow = self.doc
            else:
                self._block_type = type("_FileBlock", (_Block,), {"file_eol": stable[0], "file_separator": stable[1]})
        return None if self._slow is not None else self._block_type

    def _go_slow(self) -> None:
        if self._slow is None:
            self._slow = self.document()

    def _put(self, start: int, end: int, lines: list[Line]) -> None:
        self._regions[start] = (end, lines)
        self._ends[end] = start

    def _touch(self, public_key: str) -> None:
        """Each peer is edited once here; a second edit of one is made the plain way (as are all after it)."""
        if public_key in self._touched:
            self._go_slow()
        self._touched.add(public_key)

    def _forget(self, public_key: str) -> None:
        """The peer stops counting for the file's naming (removed or disabled)."""
        if self._slow is not None:
            return
        if not self._index:
            for i, view in enumerate(self.doc.peers):
                if view.naming is not None:
                    self._named.setdefault(view.naming, []).append(i)
                    self._left[view.naming] = self._left.get(view.naming, 0) + 1
                if view.public_key:
                    self._index[view.public_key] = i
        i = self._index[public_key]
        naming = self.doc.peers[i].naming
        if i not in self._dropped and naming is not None:
            self._left[naming] -= 1
        self._dropped.add(i)

    def _lines_before(self, start: int) -> Iterator[tuple[int, Line]]:
        """The lines above original line `start` as the document has them now, nearest first, each with its index in
        the original (-1 for the lines of an edited block)."""
        i = start - 1
        while True:
            i = self._skip(i, self._back, -1)
            if i < 0:
                return
            region = self._ends.get(i + 1)
            if region is None:
                yield i, self.doc.lines[i]
                i -= 1
            else:
                for line in reversed(self._regions[region][1]):
                    yield -1, line
                i = region - 1

    def _lines_after(self, end: int) -> Iterator[tuple[int, Line]]:
        i = end
        size = len(self.doc.lines)
        while True:
            i = self._skip(i, self._fwd, 1)
            if i >= size:
                return
            region = self._regions.get(i)
            if region is None:
                yield i, self.doc.lines[i]
                i += 1
            else:
                for line in region[1]:
                    yield -1, line
                i = region[0]

    def _skip(self, i: int, jumps: dict[int, int], step: int) -> int:
        """From original line i in direction `step`, the first line still there (or the edge of a block edited in
        place); the way over removed lines is remembered, so that a run of removed blocks is crossed once."""
        size = len(self.doc.lines)
        path = []
        while 0 <= i < size:
            jump = jumps.get(i)
            if jump is None:
                if i in self._gone:
                    jump = i + step
                elif step < 0:
                    start = self._ends.get(i + 1)
                    if start is None or self._regions[start][1]:
                        break
                    jump = start - 1  # over a removed block
                else:
                    region = self._regions.get(i)
                    if region is None or region[1]:
                        break
                    jump = region[0]
            path.append(i)
            i = jump
        for p in path:
            jumps[p] = i
        return i


def _chain(first: tuple[int, Line] | None, rest: Iterator[tuple[int, Line]]) -> Iterator[tuple[int, Line]]:
    if first is not None:
        yield first
    yield from rest
