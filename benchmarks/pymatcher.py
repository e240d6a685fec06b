"""Plain-Python price-time matcher on sortedcontainers: the L3 benchmarks' baseline.

What a Python user writes without crossbook: each side is a SortedDict from
price to a level (open size, live order count, FIFO deque of orders), and a
dict maps order id to its order. Limit orders (GTC) and market orders match
oldest first at each price, at the resting order's price; what a limit order
leaves rests, what a market order leaves expires. Cancels are full. No time in
force but GTC, no self-trade prevention, no venue controls: the workload in
``l3_workload`` needs none of them.

A cancel marks its order dead (size 0) and leaves it in the deque, where
matching skips it (a deque cannot drop an element from its middle in O(1));
the level is dropped when its last live order goes, and a deque that holds more
dead orders than live ones is compacted. The per-call API is MatchingEngine's,
so ``l3_workload.submit_per_call`` drives both: ``submit(order_id, owner, side,
price, size, type=LIMIT)`` returns the fills it made, ``cancel(order_id,
owner)`` returns whether it cancelled. The reads (``bbo``, ``depth``,
``orders``) have crossbook's shapes as plain Python.

This is the baseline, not the oracle: ``tests/reference/ref_matching_engine.py``
is the reference matcher the engine is property-tested against, and
``agrees_with_oracle`` checks this one against it on a slice of the workload.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sortedcontainers import SortedDict

__all__ = ["PyMatcher", "agrees_with_oracle"]

BID, ASK = 1, 2
LIMIT, MARKET, CANCEL = 1, 2, 3
# crossbook.RejectReason values for the two rejections this matcher can make.
DUPLICATE_ORDER_ID, UNKNOWN_ORDER, EXPIRED = 8, 9, 19

# An order is a list [order_id, owner, size, side, price]; a level a list [size, count, deque].
_ID, _OWNER, _SIZE, _SIDE, _PRICE = range(5)
_TOTAL, _COUNT, _QUEUE = range(3)

Fill = tuple[int, int, int, int]  # taker_id, maker_id, price, size
Level = tuple[int, int, int]  # price, open size, order count
Bbo = tuple[tuple[int, int] | None, tuple[int, int] | None]


class PyMatcher:
    __slots__ = ("_asks", "_bids", "_orders", "fills", "rejects", "trade_count", "traded_volume")

    def __init__(self) -> None:
        # Both sides keyed by price ascending: the best bid is the last key, the best ask the first.
        self._bids: SortedDict = SortedDict()
        self._asks: SortedDict = SortedDict()
        self._orders: dict[int, list[int]] = {}
        self.fills: list[Fill] = []
        self.rejects: list[tuple[int, int, int]] = []  # order_id, size, reason
        self.trade_count = 0
        self.traded_volume = 0

    # -- requests ---------------------------------------------------------------

    def submit(
        self, order_id: int, owner: int, side: int, price: int, size: int, type: int = LIMIT
    ) -> int:
        """A limit (GTC) or market order; returns the number of fills it made."""
        fills, orders = self.fills, self._orders
        if order_id in orders:
            self.rejects.append((order_id, size, DUPLICATE_ORDER_ID))
            return 0
        n0 = len(fills)
        remaining = size
        market = type == MARKET
        if side == BID:
            opp, best, sign = self._asks, 0, 1
        else:
            opp, best, sign = self._bids, -1, -1
        while remaining and opp:
            level_price, level = opp.peekitem(best)
            if not market and sign * (level_price - price) > 0:  # beyond the limit
                break
            queue = level[_QUEUE]
            while remaining and level[_COUNT]:
                maker = queue[0]
                open_size = maker[_SIZE]
                if open_size == 0:  # cancelled: skip it
                    queue.popleft()
                    continue
                q = min(open_size, remaining)
                fills.append((order_id, maker[_ID], level_price, q))
                remaining -= q
                level[_TOTAL] -= q
                self.traded_volume += q
                if q == open_size:
                    queue.popleft()
                    level[_COUNT] -= 1
                    del orders[maker[_ID]]
                    maker[_SIZE] = 0
                else:
                    maker[_SIZE] = open_size - q
            if not level[_COUNT]:
                del opp[level_price]
        n = len(fills) - n0
        if n:
            self.trade_count += n
        if remaining:
            if market:
                self.rejects.append((order_id, remaining, EXPIRED))
                return n
            o = [order_id, owner, remaining, side, price]
            orders[order_id] = o
            levels = self._bids if side == BID else self._asks
            level = levels.get(price)
            if level is None:
                levels[price] = [remaining, 1, deque((o,))]
            else:
                level[_TOTAL] += remaining
                level[_COUNT] += 1
                level[_QUEUE].append(o)
        return n

    def cancel(self, order_id: int, owner: int = 0) -> bool:
        """Cancels the whole open size; False (and a rejection) for an unknown id."""
        o = self._orders.pop(order_id, None)
        if o is None:
            self.rejects.append((order_id, 0, UNKNOWN_ORDER))
            return False
        levels = self._bids if o[_SIDE] == BID else self._asks
        price = o[_PRICE]
        level = levels[price]
        level[_TOTAL] -= o[_SIZE]
        level[_COUNT] -= 1
        o[_SIZE] = 0
        if not level[_COUNT]:
            del levels[price]
        elif len(level[_QUEUE]) > 2 * level[_COUNT] + 16:  # mostly dead: compact
            level[_QUEUE] = deque(x for x in level[_QUEUE] if x[_SIZE])
        return True

    # -- reads ------------------------------------------------------------------

    def bbo(self) -> Bbo:
        bid = ask = None
        if self._bids:
            price, level = self._bids.peekitem(-1)
            bid = (price, level[_TOTAL])
        if self._asks:
            price, level = self._asks.peekitem(0)
            ask = (price, level[_TOTAL])
        return bid, ask

    def depth(self, n: int) -> tuple[list[Level], list[Level]]:
        """Up to n levels per side, best first, as (price, size, count)."""
        return self.levels(BID, n), self.levels(ASK, n)

    def levels(self, side: int, n: int | None = None) -> list[Level]:
        levels = self._bids if side == BID else self._asks
        k = len(levels) if n is None else min(n, len(levels))
        prices = (
            levels.islice(len(levels) - k, reverse=True) if side == BID else levels.islice(0, k)
        )
        return [(p, levels[p][_TOTAL], levels[p][_COUNT]) for p in prices]

    def orders(self, side: int) -> list[tuple[int, int, int, int]]:
        """Every resting order of one side as (order_id, price, size, owner), in priority order."""
        levels = self._bids if side == BID else self._asks
        prices = reversed(levels) if side == BID else iter(levels)
        return [
            (o[_ID], p, o[_SIZE], o[_OWNER]) for p in prices for o in levels[p][_QUEUE] if o[_SIZE]
        ]

    def __len__(self) -> int:
        return len(self._orders)


def agrees_with_oracle(initial: Any, requests: Any) -> int:
    """Runs ORDER_REQUEST arrays through PyMatcher and the reference matcher in
    tests/reference and raises AssertionError at the first fill, rejection, return
    value or book that differs; returns the number of fills compared. The
    reference searches its book linearly: keep ``requests`` to a few thousand."""
    from tests.reference.ref_matching_engine import RefMatchingEngine, Request

    ref = RefMatchingEngine()
    mine = PyMatcher()
    for r in initial.tolist() if hasattr(initial, "tolist") else initial:
        _ts, oid, owner, price, size, side, otype = r[:7]
        mine.submit(oid, owner, side, price, size, otype)
        # Straight into the reference's book: its linear duplicate search makes
        # ten thousand submits take minutes, and resting orders that do not cross
        # are what a submit would leave.
        assert otype == LIMIT and not ref.would_take(side, price)
        ref.book[side].setdefault(price, deque()).append(_ref_order(oid, owner, size))
    for k, r in enumerate(requests.tolist() if hasattr(requests, "tolist") else requests):
        ts, oid, owner, price, size, side, otype, tif = r[:8]
        n_fills, n_rejects = len(ref.fills), len(ref.rejects)
        my_n_fills, my_n_rejects = len(mine.fills), len(mine.rejects)
        if otype == CANCEL:
            got = mine.cancel(oid, owner)
            want = ref.submit(Request(oid, owner, type=CANCEL, size=0, ts_ns=ts))
        else:
            got = mine.submit(oid, owner, side, price, size, otype)
            ref.submit(Request(oid, owner, side, price, size, otype, tif, ts_ns=ts))
            want = len(ref.fills) - n_fills
        ref_fills = [(f[1], f[2], f[3], f[4]) for f in ref.fills[n_fills:]]
        ref_rejects = [(x[1], x[2], x[3]) for x in ref.rejects[n_rejects:]]
        my_fills, my_rejects = mine.fills[my_n_fills:], mine.rejects[my_n_rejects:]
        if (got, my_fills, my_rejects) != (want, ref_fills, ref_rejects):
            raise AssertionError(
                f"request {k} ({r}): PyMatcher returned {got}, fills {my_fills}, rejections "
                f"{my_rejects}; the reference {want}, {ref_fills}, {ref_rejects}"
            )
    for side in (BID, ASK):
        if mine.orders(side) != ref.side_orders(side):
            raise AssertionError(f"books differ on side {side} after {len(requests)} requests")
    if (mine.trade_count, mine.traded_volume) != (ref.trade_count, ref.traded_volume):
        raise AssertionError("trade counts or traded volumes differ")
    return len(ref.fills)


def _ref_order(order_id: int, owner: int, size: int) -> Any:
    from tests.reference.ref_matching_engine import ROrder

    return ROrder(order_id, owner, size)
