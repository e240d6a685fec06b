"""Plain-Python reference L2 book: the oracle the C++ book is checked against.

Deliberately naive (a dict per side, sorted on every read) so that it is
obviously right; speed is not its job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

BID, ASK = 1, 2
ADD, UPDATE, DELETE, CLEAR = 1, 2, 3, 4
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
FEAT_TWO_SIDED = 1
_Touch = tuple[int, int] | None


def _bid_flow(before: _Touch, now: _Touch) -> int:
    """Cont-Kukanov-Stoikov bid term, [P >= P'] q - [P <= P'] q', an empty side at -inf."""
    p0, q0 = before if before else (-math.inf, 0)
    p1, q1 = now if now else (-math.inf, 0)
    return (q1 if p1 >= p0 else 0) - (q0 if p1 <= p0 else 0)


def _ask_flow(before: _Touch, now: _Touch) -> int:
    """[P <= P'] q - [P >= P'] q', an empty ask at +inf."""
    p0, q0 = before if before else (math.inf, 0)
    p1, q1 = now if now else (math.inf, 0)
    return (q1 if p1 <= p0 else 0) - (q0 if p1 >= p0 else 0)


@dataclass
class RefL2Book:
    levels: dict[int, dict[int, tuple[int, int]]] = field(
        default_factory=lambda: {BID: {}, ASK: {}}
    )
    unknown_deletes: int = 0

    def update(self, side: int, price: int, size: int, count: int = 0) -> bool:
        if side not in (BID, ASK):
            raise ValueError(f"side {side}")
        if price < 0 or size < 0 or count < 0:
            raise ValueError("negative value")
        book = self.levels[side]
        if size > 0:
            book[price] = (size, count)
            return True
        if price in book:
            del book[price]
            return True
        self.unknown_deletes += 1
        return False

    def apply_event(self, side: int, action: int, price: int, size: int, count: int) -> None:
        if action == CLEAR:
            for s in (BID, ASK):
                if side in (0, s):
                    self.levels[s].clear()
        elif action == DELETE:
            self.update(side, price, 0)
        else:
            self.update(side, price, size, count)

    def truncate(self, n: int) -> int:
        removed = 0
        for side in (BID, ASK):
            for price, _, _ in self.side_levels(side)[n:]:
                del self.levels[side][price]
                removed += 1
        return removed

    def side_levels(self, side: int) -> list[tuple[int, int, int]]:
        """(price, size, count) best first."""
        book = self.levels[side]
        prices = sorted(book, reverse=side == BID)
        return [(p, *book[p]) for p in prices]

    def bbo(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        out = []
        for side in (BID, ASK):
            lv = self.side_levels(side)
            out.append((lv[0][0], lv[0][1]) if lv else None)
        return out[0], out[1]

    def depth(self, n: int) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        return self.side_levels(BID)[:n], self.side_levels(ASK)[:n]

    def __len__(self) -> int:
        return len(self.levels[BID]) + len(self.levels[ASK])

    def is_crossed(self) -> bool:
        bid, ask = self.bbo()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def cost_to_fill(self, side: int, size: int) -> tuple[int, int, int | None]:
        filled = notional = 0
        worst = None
        for price, level_size, _ in self.side_levels(side):
            if filled >= size:
                break
            take = min(size - filled, level_size)
            filled += take
            notional += price * take
            worst = price
        return filled, notional, worst

    def imbalance(self, n: int) -> float | None:
        b = sum(s for _, s, _ in self.side_levels(BID)[:n])
        a = sum(s for _, s, _ in self.side_levels(ASK)[:n])
        return None if a + b == 0 else (b - a) / (b + a)

    def padded_depth(self, n: int) -> list[list[tuple[int, int, int]]]:
        """Top n of both sides, rows past a side's depth (0, 0, 0): depth_out's layout."""
        return [(lv + [(0, 0, 0)] * n)[:n] for lv in self.depth(n)]

    def features(self, before: tuple[_Touch, _Touch], n: int) -> tuple[int | float, ...]:
        """BOOK_FEATURES row after an event, `before` the bbo() before it; floats exact
        rationals rounded once (the core rounds via long double: compare to ~1 ulp)."""
        bid, ask = self.bbo()
        b = sum(s for _, s, _ in self.side_levels(BID)[:n])
        a = sum(s for _, s, _ in self.side_levels(ASK)[:n])
        ofi_bid, ofi_ask = _bid_flow(before[0], bid), _ask_flow(before[1], ask)
        ofi = ofi_bid - ofi_ask
        assert INT64_MIN <= ofi <= INT64_MAX, "one event: one side moves, or a clear empties both"
        imbalance = math.nan if a + b == 0 else (b - a) / (b + a)
        if bid is None or ask is None:
            return (0, 0, math.nan, imbalance, ofi, ofi_bid, ofi_ask, 0)
        microprice = (bid[0] * a + ask[0] * b) / (a + b)
        return (bid[0] + ask[0], ask[0] - bid[0], microprice, imbalance, ofi, ofi_bid, ofi_ask,
                FEAT_TWO_SIDED)
