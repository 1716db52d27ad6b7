"""Provides compact per-peer traffic history: byte counts in time buckets, sparse while few, then a ring buffer."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right

HISTORY_SECONDS = 600
BUCKET_SECONDS = 5
BUCKETS = HISTORY_SECONDS // BUCKET_SECONDS
DENSE_AT = 48
"""Buckets with traffic from which a history keeps a ring of every bucket: 48 sparse entries (index and two counts,
16 bytes each) take as much room as the 120-bucket ring of 32-bit counts."""


class History:
    """Bytes received and sent per BUCKET_SECONDS over the last HISTORY_SECONDS.

    Buckets are indexed by wall-clock time, so a peer that sees no traffic costs nothing per poll. Most peers carry
    traffic in a few buckets of the ten minutes: those are kept sparse (the buckets' indexes and counts); a busy one
    gets a ring of every bucket, whose skipped buckets are zeroed lazily on its next write. Counts are 32-bit until
    one overflows (4 GB in 5 s), then 64-bit: at 10,000 peers, ~1 MB instead of ~20 MB of mostly zeros.
    """

    __slots__ = ("_at", "_counts", "last")

    def __init__(self) -> None:
        self.last = -1
        """Absolute index (time // BUCKET_SECONDS) of the newest bucket written."""
        self._at: array[int] | None = array("q")
        """Sparse: the absolute indexes of the buckets with counts, ascending. None once the history is a ring."""
        self._counts: array[int] = array("I")
        """rx, tx of each bucket in `_at` (sparse), or of each ring slot index % BUCKETS (a ring)."""

    def _advance(self, index: int) -> None:
        """`index` is the newest bucket now: what fell out of the window is dropped (sparse) or zeroed (a ring)."""
        at, counts = self._at, self._counts
        if at is not None:
            gone = bisect_right(at, index - BUCKETS)
            if gone:
                del at[:gone]
                del counts[:2 * gone]
        elif self.last >= 0:
            for i in range(self.last + 1, self.last + 1 + min(index - self.last, BUCKETS)):
                slot = 2 * (i % BUCKETS)
                counts[slot] = counts[slot + 1] = 0
        self.last = index

    def add(self, when: float, rx: int, tx: int) -> None:
        index = int(when // BUCKET_SECONDS)
        if self.last < 0 or index > self.last:
            self._advance(index)
        elif index <= self.last - BUCKETS:
            return
        try:
            self._bump(index, max(0, rx), max(0, tx))
        except OverflowError:
            self._counts = array("Q", self._counts)
            self._bump(index, max(0, rx), max(0, tx))

    def _bump(self, index: int, rx: int, tx: int) -> None:
        at, counts = self._at, self._counts
        if at is None:
            slot = 2 * (index % BUCKETS)
        else:
            pos = bisect_left(at, index)
            if pos == len(at) or at[pos] != index:
                if len(at) >= DENSE_AT:
                    self._densify()
                    self._bump(index, rx, tx)
                    return
                at.insert(pos, index)
                counts[2 * pos : 2 * pos] = array(counts.typecode, (0, 0))
            slot = 2 * pos
        new_rx, new_tx = counts[slot] + rx, counts[slot + 1] + tx
        if counts.typecode == "I" and (new_rx | new_tx) >> 32:
            raise OverflowError  # before writing either: the caller widens the counts and adds again
        counts[slot] = new_rx
        counts[slot + 1] = new_tx

    def _densify(self) -> None:
        at, counts = self._at, self._counts
        assert at is not None
        ring = array(counts.typecode, bytes(2 * BUCKETS * counts.itemsize))
        for pos, index in enumerate(at):
            slot = 2 * (index % BUCKETS)
            ring[slot], ring[slot + 1] = counts[2 * pos], counts[2 * pos + 1]
        self._at, self._counts = None, ring

    def series(self, now: float) -> tuple[list[int], list[int]]:
        """Oldest first, BUCKETS values each, ending with the bucket that holds `now`."""
        index = int(now // BUCKET_SECONDS)
        start = index - BUCKETS + 1
        rx, tx = [0] * BUCKETS, [0] * BUCKETS
        if self.last < 0:
            return rx, tx
        low, high = max(start, self.last - BUCKETS + 1), min(index, self.last)
        at, counts = self._at, self._counts
        if at is None:
            for i in range(low, high + 1):
                slot = 2 * (i % BUCKETS)
                rx[i - start], tx[i - start] = counts[slot], counts[slot + 1]
        else:
            for pos, i in enumerate(at):
                if low <= i <= high:
                    rx[i - start], tx[i - start] = counts[2 * pos], counts[2 * pos + 1]
        return rx, tx
