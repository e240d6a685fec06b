"""Plain-Python reference order-level book: the oracle the C++ OrderBook is checked against.

A dict of orders and, per side, a dict of price -> deque of order ids (the
FIFO). Written from the semantics in cpp/include/crossbook/order_book.hpp,
including what the anomaly policy does with each kind of bad input; sorted on
every read and obviously right rather than fast.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

BID, ASK = 1, 2
INT64_MAX = (1 << 63) - 1
ADD, MODIFY, CANCEL, CLEAR, EXECUTE = 1, 2, 3, 4, 5
ANOMALIES = (
    "unknown_order", "duplicate_order", "execute_exceeds_size", "cancel_exceeds_size",
    "non_positive_size", "negative_price", "invalid_side", "invalid_action", "size_overflow",
)  # fmt: skip


class RefFeedError(ValueError):
    """Bad feed input under policy "raise"; `anomaly` names the kind."""

    def __init__(self, anomaly: str, order_id: int) -> None:
        super().__init__(f"{anomaly}: order {order_id}")
        self.anomaly = anomaly
        self.order_id = order_id


@dataclass
class RefOrder:
    side: int
    price: int
    size: int
    owner: int


@dataclass
class RefOrderBook:
    policy: str = "raise"  # or "count"
    orders: dict[int, RefOrder] = field(default_factory=dict)
    queues: dict[int, dict[int, deque[int]]] = field(default_factory=lambda: {BID: {}, ASK: {}})
    anomalies: dict[str, int] = field(default_factory=dict)

    # ------------------------------------------------------------ helpers

    def _anomaly(self, kind: str, order_id: int) -> bool:
        """Raises under "raise"; counts and returns False under "count"."""
        if self.policy == "raise":
            raise RefFeedError(kind, order_id)
        self.anomalies[kind] = self.anomalies.get(kind, 0) + 1
        return False

    def _level_total(self, side: int, price: int) -> int:
        return sum(self.orders[i].size for i in self.queues[side].get(price, ()))

    def _remove(self, order_id: int) -> None:
        o = self.orders.pop(order_id)
        q = self.queues[o.side][o.price]
        q.remove(order_id)
        if not q:
            del self.queues[o.side][o.price]

    def _append(self, order_id: int, o: RefOrder) -> None:
        self.orders[order_id] = o
        self.queues[o.side].setdefault(o.price, deque()).append(order_id)

    # ------------------------------------------------------------ feed operations

    def add(self, order_id: int, side: int, price: int, size: int, owner: int = 0) -> bool:
        if side not in (BID, ASK):
            return self._anomaly("invalid_side", order_id)
        if price < 0:
            return self._anomaly("negative_price", order_id)
        if size <= 0:
            return self._anomaly("non_positive_size", order_id)
        # The room check counts an order already resting under this id (it has not left yet).
        if self._level_total(side, price) + size > INT64_MAX:
            return self._anomaly("size_overflow", order_id)
        clean = True
        if order_id in self.orders:
            clean = self._anomaly("duplicate_order", order_id)
            self._remove(order_id)  # "count": the feed's latest word on an id wins
        self._append(order_id, RefOrder(side, price, size, owner))
        return clean

    def cancel(self, order_id: int, size: int | None = None) -> bool:
        if order_id not in self.orders:
            return self._anomaly("unknown_order", order_id)
        if size is None:
            self._remove(order_id)
            return True
        if size <= 0:
            return self._anomaly("non_positive_size", order_id)
        return self._reduce(order_id, size, "cancel_exceeds_size")

    def execute(self, order_id: int, size: int) -> bool:
        if order_id not in self.orders:
            return self._anomaly("unknown_order", order_id)
        if size <= 0:
            return self._anomaly("non_positive_size", order_id)
        return self._reduce(order_id, size, "execute_exceeds_size")

    def _reduce(self, order_id: int, size: int, too_big: str) -> bool:
        o = self.orders[order_id]
        if size < o.size:
            o.size -= size
            return True
        clean = size == o.size or self._anomaly(too_big, order_id)
        self._remove(order_id)  # clamped: the order leaves
        return clean

    def modify(self, order_id: int, price: int, size: int) -> bool:
        if order_id not in self.orders:
            return self._anomaly("unknown_order", order_id)
        if price < 0:
            return self._anomaly("negative_price", order_id)
        if size <= 0:
            return self._anomaly("non_positive_size", order_id)
        o = self.orders[order_id]
        if price == o.price and size <= o.size:
            o.size = size  # keeps its place
            return True
        others = self._level_total(o.side, price) - (o.size if price == o.price else 0)
        if others + size > INT64_MAX:
            return self._anomaly("size_overflow", order_id)
        self._remove(order_id)
        self._append(order_id, RefOrder(o.side, price, size, o.owner))  # back of the queue
        return True

    def clear(self, side: int | None = None) -> None:
        for s in (BID, ASK):
            if side in (None, s):
                for q in self.queues[s].values():
                    for i in q:
                        del self.orders[i]
                self.queues[s] = {}

    def apply_event(self, side: int, action: int, order_id: int, price: int, size: int) -> None:
        """One ORDER_EVENT, as OrderBook.apply reads it (adds carry owner 0)."""
        if action == ADD:
            self.add(order_id, side, price, size)
        elif action == MODIFY:
            self.modify(order_id, price, size)
        elif action == CANCEL:
            self.cancel(order_id, None if size == 0 else size)
        elif action == EXECUTE:
            self.execute(order_id, size)
        elif action == CLEAR:
            if side == 0:
                self.clear()
            elif side in (BID, ASK):
                self.clear(side)
            else:
                self._anomaly("invalid_side", order_id)
        else:
            self._anomaly("invalid_action", order_id)

    # ------------------------------------------------------------ queries

    def side_orders(self, side: int) -> list[tuple[int, int, int, int]]:
        """(order_id, price, size, owner) best level first, FIFO within a level."""
        out = []
        for price in sorted(self.queues[side], reverse=side == BID):
            for i in self.queues[side][price]:
                o = self.orders[i]
                out.append((i, price, o.size, o.owner))
        return out

    def side_levels(self, side: int) -> list[tuple[int, int, int]]:
        """(price, total size, order count) best first."""
        return [(p, self._level_total(side, p), len(self.queues[side][p]))
                for p in sorted(self.queues[side], reverse=side == BID)]

    def bbo(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        out = []
        for side in (BID, ASK):
            lv = self.side_levels(side)
            out.append((lv[0][0], lv[0][1]) if lv else None)
        return out[0], out[1]

    def queue_position(self, order_id: int) -> int | None:
        o = self.orders.get(order_id)
        if o is None:
            return None
        ahead = 0
        for i in self.queues[o.side][o.price]:
            if i == order_id:
                return ahead
            ahead += self.orders[i].size
        raise AssertionError("order missing from its own queue")

    def __len__(self) -> int:
        return len(self.orders)
