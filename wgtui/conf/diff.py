"""Provides a unified diff of two file texts that shows line-ending and final-newline changes faithfully."""

# A change to a 10,000-peer file touches a few lines among 50,000: the lines both texts share at the start and at
# the end are found first (list comparisons in C), and difflib only sees what lies between them. The hunks are then
# grouped and written exactly as difflib.unified_diff groups and writes them. Which of the shared start and end is
# taken first decides where an ambiguous line goes (the blank line before or after a removed block): that follows
# the rule difflib's own first match follows (`_suffix_first`), so that the patch is the one difflib would write.
# Files under 200 lines, and changes in several places of a file (a batch, a sync), go to difflib whole: there the
# order of difflib's matches decides between equally good patches.

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from .lines import split_lines

NO_NEWLINE = "\\ No newline at end of file\n"

Opcode = tuple[str, int, int, int, int]
_AUTOJUNK = 200
"""From this many new lines on, difflib's autojunk treats lines in more than 1% of them as popular."""


@dataclass(frozen=True)
class Mask:
    """What to hide in a diff (secrets), line by line where that is the same as over the whole text."""

    text: Callable[[str], str]
    """The masked form of a whole text."""
    line: Callable[[str], str]
    """The masked form of one line (with its ending): what `text` makes of it, unless `spills` says otherwise."""
    spills: Callable[[str], bool]
    """Whether `text` could mask a line differently from `line` in this text (then whole texts are masked)."""


def unified_diff(before: str, after: str, fromfile: str = "a", tofile: str = "b", context: int = 3,
                 mask: Mask | None = None) -> str:
    """A `diff -u` style patch ("" when the texts are equal). Lines keep their own endings, so a CRLF line
    stays CRLF in the patch, and a last line without a newline gets the usual `\\ No newline` marker.

    With `mask`, the patch is the one of `mask.text(before)` and `mask.text(after)` (every line is compared and shown
    masked; only the lines shown are masked here, unless `mask.spills`)."""
    if before == after:
        return ""
    if mask is not None and (mask.spills(before) or mask.spills(after)):
        return _whole(before, after, fromfile, tofile, context, mask)
    old = before.split("\n")
    new = after.split("\n")
    n_new = len(new) - 1 + (1 if new[-1] else 0)
    if n_new < _AUTOJUNK:
        return _whole(before, after, fromfile, tofile, context, mask)  # cheap at this size
    # Pieces of split("\n"): all but the last are lines whose "\n" was cut off; the last is what follows the final
    # "\n" (a last line without one, or ""). Equal pieces at the same place are equal lines, except for the last.
    limit = min(len(old), len(new)) - 1
    popular = _Popularity(new, n_new)
    head = _common_prefix(old, new, limit)
    tail = _common_suffix(old, new, limit + 1)
    if _suffix_first(old, new, popular, head, tail):
        head = min(head, limit + 1 - tail)
    else:
        tail = min(tail, limit + 1 - head)
        stop = len(old) if old[-1] else len(old) - 1
        if not _longest_run(old, len(old) - tail, stop, popular)[1]:
            # Only popular lines: difflib finds no match to grow there, so neither is it taken apart here.
            tail = 0
    if _several_regions(old[head:len(old) - tail], new[head:len(new) - tail], old, popular):
        return _whole(before, after, fromfile, tofile, context, mask)
    k_before = min(context, head)
    first = head - k_before
    a = _lines(old, first, len(old) - tail)
    b = _lines(new, first, len(new) - tail)
    after_context = _lines(old, len(old) - tail, len(old) - tail + context)
    shown = {*old[first:len(old) - tail + context], *new[first:len(new) - tail]}
    popular_lines = {piece + "\n" for piece in popular.popular(shown)}
    if mask is not None:
        a, b = [mask.line(x) for x in a], [mask.line(x) for x in b]
        after_context = [mask.line(x) for x in after_context]
        popular_lines = {mask.line(line) for line in popular_lines}
    a += after_context
    b += after_context
    k_after = len(after_context)
    codes: list[Opcode] = [("equal", 0, k_before, 0, k_before)] if k_before else []
    matcher = _Matcher(a[k_before:len(a) - k_after], b[k_before:len(b) - k_after], popular_lines)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        _append(codes, (tag, i1 + k_before, i2 + k_before, j1 + k_before, j2 + k_before))
    if k_after:
        _append(codes, ("equal", len(a) - k_after, len(a), len(b) - k_after, len(b)))
    return _text(_unified(a, b, codes, fromfile, tofile, context, first))


class _Popularity:
    """Which lines difflib's autojunk calls popular: those in more than 1% + 1 of the new text's lines (it has 200 or
    more). Asked about a few lines, it counts those (one pass over the lines, in C); about many, every line."""

    _FEW = 64

    def __init__(self, new: list[str], n_new: int) -> None:
        self.new = new
        self.ntest = n_new // 100 + 1
        self._counts: Counter[str] | None = None
        self._popular: set[str] | None = None
        self._known: dict[str, int] = {}
        """Counts of the lines asked about so far (when not every line is counted)."""

    def counts(self) -> Counter[str]:
        if self._counts is None:
            self._counts = Counter(self.new[:-1])  # the last piece, when it is a line, has no "\n": it occurs once
        return self._counts

    def count_all(self, pieces: set[str]) -> dict[str, int]:
        """How often each piece is a line (with "\n") of the new text."""
        if self._counts is not None:
            return {piece: self._counts[piece] for piece in pieces}
        unknown = pieces - self._known.keys()
        if len(unknown) > self._FEW:
            counts = self.counts()
            return {piece: counts[piece] for piece in pieces}
        if unknown:
            found = Counter(filter(unknown.__contains__, islice(self.new, len(self.new) - 1)))
            self._known.update({piece: found[piece] for piece in unknown})
        return {piece: self._known[piece] for piece in pieces}

    def popular(self, pieces: set[str]) -> set[str]:
        """The popular ones among `pieces`."""
        if len(pieces) > self._FEW:
            return self.every_popular() & pieces
        ntest = self.ntest
        return {piece for piece, count in self.count_all(pieces).items() if count > ntest}

    def every_popular(self) -> set[str]:
        if self._popular is None:
            ntest = self.ntest
            self._popular = {line for line, count in self.counts().items() if count > ntest}
        return self._popular

    def flags(self, pieces: list[str]) -> bytes:
        """1 for each popular piece, 0 for the others."""
        popular = self.every_popular() if len(pieces) > self._FEW else self.popular(set(pieces))
        return bytes(map(popular.__contains__, pieces))  # in C


def _text(lines: Iterable[str]) -> str:
    out = []
    for line in lines:
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n" + NO_NEWLINE)
    return "".join(out)


def unified_diff_slow(before: str, after: str, fromfile: str = "a", tofile: str = "b", context: int = 3) -> str:
    """`unified_diff` by difflib over every line: the reference it is tested against."""
    old = [t + e for t, e in split_lines(before)]
    new = [t + e for t, e in split_lines(after)]
    return _text(difflib.unified_diff(old, new, fromfile, tofile, n=context, lineterm="\n"))


class _Matcher(difflib.SequenceMatcher[str]):
    """difflib's matcher on part of the new text, with the popular lines of all of it (what autojunk would find had
    it seen everything): the part is then matched as difflib matches it inside the whole."""

    def __init__(self, a: list[str], b: list[str], popular: set[str]) -> None:
        self._popular = popular
        super().__init__(None, a, b, autojunk=False)

    def _SequenceMatcher__chain_b(self) -> None:  # overrides difflib's private __chain_b
        b2j: dict[str, list[int]] = {}
        for i, elt in enumerate(self.b):  # type: ignore[attr-defined]
            b2j.setdefault(elt, []).append(i)
        self.bjunk: set[str] = set()
        self.bpopular: set[str] = {elt for elt in b2j if elt in self._popular}
        for elt in self.bpopular:
            del b2j[elt]
        self.b2j = b2j


def _whole(before: str, after: str, fromfile: str, tofile: str, context: int, mask: Mask | None) -> str:
    """difflib over every line."""
    if mask is not None:
        before, after = mask.text(before), mask.text(after)
    return unified_diff_slow(before, after, fromfile, tofile, context)


def _several_regions(middle_old: list[str], middle_new: list[str], old: list[str], popular: _Popularity) -> bool:
    """Whether what lies between the shared start and end holds an unpopular line that occurs on the other side too:
    the change is then in several places (or moves lines), where difflib's matching order decides between equally
    good patches, and only difflib over everything gives its patch."""
    pieces_old, pieces_new = set(middle_old), set(middle_new)
    counts = popular.count_all(pieces_old | pieces_new)
    ntest = popular.ntest
    if any(0 < counts[line] <= ntest for line in pieces_old):
        return True
    unpopular_new = {line for line in pieces_new if counts[line] <= ntest}
    if not unpopular_new:
        return False
    if len(unpopular_new) > _Popularity._FEW:
        return not unpopular_new.isdisjoint(old)
    return any(True for _ in filter(unpopular_new.__contains__, old))  # one pass in C


def _suffix_first(old: list[str], new: list[str], popular: _Popularity, head: int, tail: int) -> bool:
    """Whether difflib would match the shared end (`tail` pieces) before the shared start (`head` pieces), each
    taken as far as it reaches.

    Its first match grows from the longest run of equal lines none of which is "popular" (in more than 1% of the
    new text's lines, once that has 200 or more); among equally long runs, the one that ends first in the old text
    (then the one first in the new text). Whichever of the shared start and end holds that run is matched first,
    and as far as it reaches; the other then gets what is left."""
    first_s = len(old) - tail
    stop_s = len(old) if old[-1] else len(old) - 1  # an empty last piece is no line
    start_s, length_s = _longest_run(old, first_s, stop_s, popular)
    if not length_s:
        return False  # the start wins (a run there is longer; with none, difflib's empty match grows over it)
    start_p, length_p = _longest_run(old, 0, head, popular)
    if length_s != length_p:
        return length_s > length_p
    end_p, end_s = start_p + length_p, start_s + length_s
    if end_s != end_p:
        return end_s < end_p
    return len(new) < len(old)  # the same old lines: the end's match comes first in the new text iff it shrank


def _longest_run(pieces: list[str], start: int, stop: int, popular: _Popularity) -> tuple[int, int]:
    """(start, length) of the first longest run of pieces[start:stop] that are not popular; (0, 0) if none."""
    if stop <= start:
        return 0, 0
    flags = popular.flags(pieces[start:stop])
    if stop == len(pieces) and flags[-1]:
        flags = flags[:-1] + b"\x00"  # the last piece is a line without "\n": none other is like it, so unpopular
    length = max(map(len, flags.split(b"\x01")))
    if not length:
        return 0, 0
    return start + flags.find(bytes(length)), length


def _common_prefix(a: list[str], b: list[str], limit: int) -> int:
    """How many leading pieces (at most `limit`) the lists share; compared a block at a time, in C."""
    n = 0
    step = 256
    while n < limit:
        stop = min(n + step, limit)
        if a[n:stop] == b[n:stop]:
            n = stop
            step *= 2
        elif step > 1:
            step //= 8 if step > 8 else step
        else:
            return n
    return n


def _common_suffix(a: list[str], b: list[str], limit: int) -> int:
    """How many trailing pieces (at most `limit`) the lists share."""
    n = 0
    step = 256
    la, lb = len(a), len(b)
    while n < limit:
        stop = min(n + step, limit)
        if a[la - stop:la - n] == b[lb - stop:lb - n]:
            n = stop
            step *= 2
        elif step > 1:
            step //= 8 if step > 8 else step
        else:
            return n
    return n


def _lines(pieces: list[str], start: int, stop: int) -> list[str]:
    """The lines (with their "\\n") of pieces[start:stop]; the last piece is a line only when it is not empty."""
    stop = min(stop, len(pieces))
    last = len(pieces) - 1
    if stop <= last:
        return [piece + "\n" for piece in pieces[start:stop]]
    out = [piece + "\n" for piece in pieces[start:last]]
    if pieces[last] and start <= last:
        out.append(pieces[last])
    return out


def _append(codes: list[Opcode], code: Opcode) -> None:
    """Add an opcode, merging an equal run into the one before it (difflib never yields two in a row)."""
    if codes and code[0] == "equal" and codes[-1][0] == "equal":
        prev = codes[-1]
        codes[-1] = ("equal", prev[1], code[2], prev[3], code[4])
    else:
        codes.append(code)


def _grouped(codes: list[Opcode], n: int) -> Iterator[list[Opcode]]:
    """difflib.SequenceMatcher.get_grouped_opcodes, on opcodes given."""
    if not codes:
        codes = [("equal", 0, 1, 0, 1)]
    codes = list(codes)
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = tag, max(i1, i2 - n), i2, max(j1, j2 - n), j2
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)
    nn = n + n
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > nn:
            group.append((tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            yield group
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        yield group


def _range(start: int, stop: int) -> str:
    """difflib's _format_range_unified."""
    beginning = start + 1
    length = stop - start
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


def _unified(a: Sequence[str], b: Sequence[str], codes: list[Opcode], fromfile: str, tofile: str, n: int,
             offset: int) -> Iterator[str]:
    """difflib.unified_diff's output for these opcodes, line numbers shifted by `offset`."""
    started = False
    for group in _grouped(codes, n):
        if not started:
            started = True
            yield f"--- {fromfile}\n"
            yield f"+++ {tofile}\n"
        first, last = group[0], group[-1]
        yield (f"@@ -{_range(first[1] + offset, last[2] + offset)} "
               f"+{_range(first[3] + offset, last[4] + offset)} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for line in a[i1:i2]:
                    yield " " + line
                continue
            if tag in ("replace", "delete"):
                for line in a[i1:i2]:
                    yield "-" + line
            if tag in ("replace", "insert"):
                for line in b[j1:j2]:
                    yield "+" + line
