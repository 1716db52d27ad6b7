"""Provides the agent's deadline heap: the next instant at which a peer expires, is warned or starts a quota period."""

# Deadlines are exact instants (unix seconds) the loop sleeps towards instead of finding them at its next poll.
# Each interface's entries carry the generation they were computed in; recomputing an interface (its config
# changed, one of its deadlines passed) bumps the generation and the old entries are dropped lazily when they reach
# the top, so a rebuild costs O(k log n) for the k entries of that interface, not a new heap.

from __future__ import annotations

import heapq
from collections.abc import Iterable


class Deadlines:
    def __init__(self) -> None:
        self._heap: list[tuple[float, str, int]] = []
        self._generation: dict[str, int] = {}

    def replace(self, ifname: str, instants: Iterable[float]) -> None:
        """The interface's deadlines are now these (earlier ones are forgotten)."""
        generation = self._generation.get(ifname, 0) + 1
        self._generation[ifname] = generation
        for when in set(instants):
            heapq.heappush(self._heap, (when, ifname, generation))

    def forget(self, ifname: str) -> None:
        self._generation.pop(ifname, None)

    def _drop_stale(self) -> None:
        while self._heap and self._heap[0][2] != self._generation.get(self._heap[0][1]):
            heapq.heappop(self._heap)

    def next(self) -> float | None:
        """The earliest live deadline, or None."""
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def due(self, now: float) -> set[str]:
        """Pop every live deadline at or before `now`; the interfaces they belong to (to be recomputed)."""
        out: set[str] = set()
        while True:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now:
                return out
            out.add(heapq.heappop(self._heap)[1])

    def __len__(self) -> int:
        return sum(1 for _, ifname, gen in self._heap if self._generation.get(ifname) == gen)
