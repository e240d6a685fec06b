"""Plain-Python reference L2 book: the oracle the C++ book is checked against.

Deliberately naive (a dict per side, sorted on every read) so that it is
obviously right; speed is not its job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BID, ASK = 1, 2
ADD, UPDATE, DELETE, CLEAR = 1, 2, 3, 4
INT64_MAX = (1 << 63) - 1


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
