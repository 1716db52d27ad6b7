"""Provides a sorted list kept in blocks: inserting or removing shifts one short block, not the whole list."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from itertools import accumulate, chain
from typing import Any

LOAD = 256
"""Target block length: long enough that the block index stays short (200 blocks at 50,000 rows), short enough
that a shift inside a block costs next to nothing. Blocks split at twice this and merge below a quarter."""


class BlockList:
    """Ascending, unique, comparable items (tuples here) with positional access.

    A plain list pays a shift of half the list per insert or delete: ~25 µs at 50,000 rows, which made a poll with
    a few thousand moved rows cost tens of milliseconds. Here a move costs two bisects and a short shift; positions
    are found through the blocks' running lengths, rebuilt lazily once per batch of changes.
    """

    __slots__ = ("_blocks", "_len", "_maxes", "_starts")

    def __init__(self, ordered: Iterable[Any] = ()) -> None:
        self._blocks: list[list[Any]] = []
        self._maxes: list[Any] = []
        self._len = 0
        self._starts: list[int] | None = None
        """Position of each block's first item; None after a change (rebuilt on the next positional access)."""
        self.reset(ordered)

    def reset(self, ordered: Iterable[Any]) -> None:
        """Replace the contents with `ordered`, which must already be ascending."""
        items = list(ordered)
        self._blocks = [items[i : i + LOAD] for i in range(0, len(items), LOAD)]
        self._maxes = [block[-1] for block in self._blocks]
        self._len = len(items)
        self._starts = None

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Any]:
        return chain.from_iterable(self._blocks)

    def add(self, item: Any) -> None:
        blocks, maxes = self._blocks, self._maxes
        self._len += 1
        self._starts = None
        if not blocks:
            blocks.append([item])
            maxes.append(item)
            return
        i = bisect_left(maxes, item)
        if i == len(maxes):
            i -= 1
        block = blocks[i]
        insort(block, item)
        maxes[i] = block[-1]
        if len(block) > 2 * LOAD:
            blocks[i : i + 1] = [block[:LOAD], block[LOAD:]]
            maxes[i : i + 1] = [block[LOAD - 1], block[-1]]

    def remove(self, item: Any) -> None:
        """Remove an item that is present (ValueError otherwise)."""
        blocks, maxes = self._blocks, self._maxes
        i = bisect_left(maxes, item)
        block = blocks[i] if i < len(blocks) else []
        j = bisect_left(block, item)
        if j == len(block) or block[j] != item:
            raise ValueError(f"{item!r} is not in the list")
        del block[j]
        self._len -= 1
        self._starts = None
        if not block:
            del blocks[i], maxes[i]
            return
        maxes[i] = block[-1]
        if len(block) < LOAD // 4 and i + 1 < len(blocks):
            block += blocks[i + 1]
            del blocks[i + 1], maxes[i + 1]
            maxes[i] = block[-1]
            if len(block) > 2 * LOAD:
                blocks[i : i + 1] = [block[:LOAD], block[LOAD:]]
                maxes[i : i + 1] = [block[LOAD - 1], block[-1]]

    def __contains__(self, item: Any) -> bool:
        i = bisect_left(self._maxes, item)
        if i == len(self._maxes):
            return False
        block = self._blocks[i]
        j = bisect_left(block, item)
        return j < len(block) and block[j] == item

    def _block_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [0, *accumulate(len(block) for block in self._blocks)][:-1] if self._blocks else []
        return self._starts

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        starts = self._block_starts()
        i = bisect_right(starts, index) - 1
        return self._blocks[i][index - starts[i]]

    def index(self, item: Any) -> int | None:
        """Position of an item, or None when it is not in the list."""
        i = bisect_left(self._maxes, item)
        if i == len(self._maxes):
            return None
        block = self._blocks[i]
        j = bisect_left(block, item)
        if j == len(block) or block[j] != item:
            return None
        return self._block_starts()[i] + j
