"""The compact history (sparse buckets, then a ring of 32-bit counts widened on overflow) against the plain ring of
64-bit counts it replaced: the same series after any sequence of writes."""

from __future__ import annotations

import random
from array import array

import pytest

from wgtui.history import BUCKET_SECONDS, BUCKETS, DENSE_AT, History


class RingHistory:
    """The previous implementation, verbatim in behaviour: two rings of 64-bit counts, zeroed lazily."""

    def __init__(self) -> None:
        self.rx = array("Q", bytes(8 * BUCKETS))
        self.tx = array("Q", bytes(8 * BUCKETS))
        self.last = -1

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


@pytest.mark.parametrize("seed", range(40))
def test_same_series_as_the_ring_after_random_writes(seed: int) -> None:
    rng = random.Random(seed)
    new, old = History(), RingHistory()
    now = 1_800_000_000.0 + rng.random() * 100
    busy = rng.random()  # some histories stay sparse, others (odd seeds, written every few seconds) become rings
    rings = 0
    for _ in range(rng.randrange(300, 600) if seed % 2 else rng.randrange(1, 400)):
        step = rng.choice([1.0, 5.0] if seed % 2 else [0.3, 1.0, 1.0, 5.0, 17.0, 300.0, 900.0])
        now += step * rng.random()
        when = now - (rng.random() * 700 if rng.random() < 0.1 else 0)  # now and then a late write, maybe too old
        if rng.random() < busy:
            big = rng.random() < 0.02
            rx = rng.randrange(-5, 2**33 if big else 10**6)
            tx = rng.randrange(-5, 2**40 if big else 10**5)
            new.add(when, rx, tx)
            old.add(when, rx, tx)
        at = now + rng.choice([0.0, 0.0, 3.0, -20.0, 50.0, 700.0])
        assert new.series(at) == old.series(at)
        assert new.last == old.last
        rings += new._at is None
    if seed % 2 and busy > 0.5:
        assert rings  # the ring was exercised too


def test_a_quiet_peer_stays_small_and_a_busy_one_becomes_a_ring() -> None:
    h = History()
    t0 = 1_800_000_000.0
    for i in range(3):
        h.add(t0 + i, 100, 10)
    assert len(h._counts) == 2 and h._at is not None  # one bucket: one pair of counts
    for i in range(DENSE_AT + 5):
        h.add(t0 + BUCKET_SECONDS * i, 1, 1)
    assert h._at is None and len(h._counts) == 2 * BUCKETS
    assert h._counts.typecode == "I"


def test_counts_widen_on_overflow_without_losing_what_was_there() -> None:
    h = History()
    t0 = 1_800_000_000.0
    h.add(t0, 7, 3)
    h.add(t0, 2**32, 1)
    assert h._counts.typecode == "Q"
    rx, tx = h.series(t0)
    assert rx[-1] == 2**32 + 7 and tx[-1] == 4


def test_old_traffic_falls_out_of_a_sparse_history() -> None:
    h = History()
    t0 = 1_800_000_000.0
    h.add(t0, 100, 1)
    h.add(t0 + BUCKETS * BUCKET_SECONDS, 5, 0)  # the first bucket is out of the window now
    assert h._at is not None and len(h._at) == 1
    rx, _ = h.series(t0 + BUCKETS * BUCKET_SECONDS)
    assert sum(rx) == 5
