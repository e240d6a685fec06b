"""Plain-Python L2 book on sortedcontainers.SortedDict: the baseline and the reference.

Same semantics as crossbook.L2Book: a level is set to an absolute size, size 0
removes it, and removing a level that is not there returns False and is
counted in ``unknown_deletes``. Read results are plain Python: ``bbo()`` has
crossbook's shape, ``depth(n)`` returns lists of (price, size, count) tuples.
"""

from __future__ import annotations

from typing import Any

from sortedcontainers import SortedDict

__all__ = ["PyL2Book"]

Level = tuple[int, int, int]
Bbo = tuple[tuple[int, int] | None, tuple[int, int] | None]


class PyL2Book:
    __slots__ = ("_asks", "_bids", "unknown_deletes")

    def __init__(self) -> None:
        # Both sides are keyed by price ascending: the best bid is the last key,
        # the best ask the first; SortedDict reads both ends in O(1).
        self._bids: SortedDict = SortedDict()
        self._asks: SortedDict = SortedDict()
        self.unknown_deletes = 0

    @classmethod
    def from_snapshot(cls, bids: Any, asks: Any) -> PyL2Book:
        """A book holding the given rows: DEPTH arrays or (price, size[, count]) sequences."""
        book = cls()
        for side, rows in ((1, bids), (2, asks)):
            for row in _rows(rows):
                book.update(side, *row)
        return book

    def update(self, side: int, price: int, size: int, count: int = 0) -> bool:
        if side == 1:
            levels = self._bids
        elif side == 2:
            levels = self._asks
        else:
            raise ValueError(f"side must be 1 (bid) or 2 (ask), got {side!r}")
        if size > 0:
            if price < 0:
                raise ValueError(f"price must be >= 0, got {price}")
            levels[price] = (size, count)
            return True
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        if levels.pop(price, None) is None:
            self.unknown_deletes += 1
            return False
        return True

    def bbo(self) -> Bbo:
        bids, asks = self._bids, self._asks
        bid = ask = None
        if bids:
            price, (size, _) = bids.peekitem(-1)
            bid = (price, size)
        if asks:
            price, (size, _) = asks.peekitem(0)
            ask = (price, size)
        return bid, ask

    def depth(self, n: int) -> tuple[list[Level], list[Level]]:
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return self.levels(1, n), self.levels(2, n)

    def levels(self, side: int, n: int | None = None) -> list[Level]:
        """Up to ``n`` levels of one side (all when n is None), best first."""
        levels = self._bids if side == 1 else self._asks
        k = len(levels) if n is None else min(n, len(levels))
        if side == 1:
            prices = levels.islice(len(levels) - k, len(levels), reverse=True)
        else:
            prices = levels.islice(0, k)
        return [(p, *levels[p]) for p in prices]

    def __len__(self) -> int:
        return len(self._bids) + len(self._asks)


def _rows(rows: Any) -> list[Level]:
    dtype = getattr(rows, "dtype", None)
    if dtype is not None and dtype.names is not None:
        return list(zip(rows["price"].tolist(), rows["size"].tolist(), rows["count"].tolist()))
    return [(int(r[0]), int(r[1]), int(r[2]) if len(r) > 2 else 0) for r in rows]
