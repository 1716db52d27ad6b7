"""Provides compact per-peer traffic history: fixed ring buffers of byte counts in time buckets."""

from __future__ import annotations

from array import array

HISTORY_SECONDS = 600
BUCKET_SECONDS = 5
BUCKETS = HISTORY_SECONDS // BUCKET_SECONDS


class History:
    """Bytes received and sent per BUCKET_SECONDS over the last HISTORY_SECONDS.

    Buckets are indexed by wall-clock time, so a peer that sees no traffic costs nothing per poll:
    the buckets it skipped are zeroed lazily on its next write or read.
    """

    __slots__ = ("last", "rx", "tx")

    def __init__(self) -> None:
        self.rx = array("Q", bytes(8 * BUCKETS))
        self.tx = array("Q", bytes(8 * BUCKETS))
        self.last = -1
        """Absolute index (time // BUCKET_SECONDS) of the newest bucket written."""

    def _roll(self, index: int) -> None:
        if self.last < 0:
            self.last = index
            return
        gap = index - self.last
        if gap <= 0:
            return
        for i in range(self.last + 1, self.last + 1 + min(gap, BUCKETS)):
            self.rx[i % BUCKETS] = 0
            self.tx[i % BUCKETS] = 0
        self.last = index

    def add(self, when: float, rx: int, tx: int) -> None:
        index = int(when // BUCKET_SECONDS)
        self._roll(index)
        if index < self.last - BUCKETS + 1:
            return
        self.rx[index % BUCKETS] += max(0, rx)
        self.tx[index % BUCKETS] += max(0, tx)

    def series(self, now: float) -> tuple[list[int], list[int]]:
        """Oldest first, BUCKETS values each, ending with the bucket that holds `now`."""
        index = int(now // BUCKET_SECONDS)
        rx: list[int] = []
        tx: list[int] = []
        for i in range(index - BUCKETS + 1, index + 1):
            if self.last < 0 or i > self.last or i <= self.last - BUCKETS:
                rx.append(0)
                tx.append(0)
            else:
                rx.append(self.rx[i % BUCKETS])
                tx.append(self.tx[i % BUCKETS])
        return rx, tx
