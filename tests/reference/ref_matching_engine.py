"""Plain-Python reference matching engine: the oracle the C++ MatchingEngine is checked against.

Written from the semantics in cpp/include/crossbook/matching_engine.hpp and
order_types.hpp, one rule at a time, in the order the header lists the
checks: a list of (price, deque) per side searched linearly, FOK decided by
running the match on a copy of the book, the halt window as a plain list of
trades. Obviously right rather than fast.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, field

BID, ASK = 1, 2
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
LIMIT, MARKET, CANCEL, MODIFY = 1, 2, 3, 4
GTC, IOC, FOK = 1, 2, 3
STP_DEFAULT, STP_NONE, STP_CANCEL_NEWEST, STP_CANCEL_OLDEST, STP_CANCEL_BOTH, STP_DECREMENT = range(6)
POST_ONLY = 1

# RejectReason values.
(INVALID_TYPE, INVALID_SIDE, INVALID_TIF, INVALID_STP, INVALID_FLAGS, INVALID_PRICE, INVALID_SIZE,
 DUPLICATE_ORDER_ID, UNKNOWN_ORDER, OWNER_MISMATCH, MAX_ORDER_SIZE, MAX_NOTIONAL, PRICE_BAND, HALTED,
 KILL_SWITCH, POST_ONLY_WOULD_TAKE, FOK_NOT_FILLABLE, SELF_TRADE, EXPIRED) = range(1, 20)  # fmt: skip

Fill = tuple[int, int, int, int, int, int]  # ts_ns, taker_id, maker_id, price, size, taker_side
Reject = tuple[int, int, int, int]  # ts_ns, order_id, size, reason


@dataclass
class Request:
    order_id: int
    owner: int
    side: int = BID
    price: int = 0
    size: int = 1
    type: int = LIMIT
    tif: int = GTC
    stp: int = STP_DEFAULT
    flags: int = 0
    ts_ns: int = 0


@dataclass
class ROrder:
    order_id: int
    owner: int
    size: int


@dataclass
class RefMatchingEngine:
    stp: int = STP_NONE
    max_order_size: int = 0  # 0 = no limit, as in the core's config
    max_notional: int = 0
    band_bps: int = 0
    reference_price: int | None = None
    reference_follows_trades: bool = False
    halt_move_bps: int = 0
    halt_window_ns: int = 0
    book: dict[int, dict[int, deque[ROrder]]] = field(default_factory=lambda: {BID: {}, ASK: {}})
    halted: bool = False
    killed: set[int] = field(default_factory=set)
    window: list[tuple[int, int]] = field(default_factory=list)  # (ts_ns, price) since resume
    _trade_clock: int = -(1 << 63)
    last_trade_price: int | None = None
    trade_count: int = 0
    traded_volume: int = 0
    fills: list[Fill] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    _halt_pending: bool = False
    _traded: bool = False

    # ------------------------------------------------------------ book helpers

    def prices(self, side: int) -> list[int]:
        """Prices of one side, best first."""
        return sorted(self.book[side], reverse=side == BID)

    def find(self, order_id: int) -> tuple[int, int, ROrder] | None:
        for side in (BID, ASK):
            for price, q in self.book[side].items():
                for o in q:
                    if o.order_id == order_id:
                        return side, price, o
        return None

    def remove(self, side: int, price: int, o: ROrder) -> None:
        q = self.book[side][price]
        q.remove(o)
        if not q:
            del self.book[side][price]

    def level_total(self, side: int, price: int) -> int:
        return sum(o.size for o in self.book[side].get(price, ()))

    @staticmethod
    def crosses(side: int, limit: int, resting: int) -> bool:
        return resting <= limit if side == BID else resting >= limit

    def band(self) -> tuple[int, int] | None:
        if self.band_bps <= 0 or self.reference_price is None:
            return None
        ref = self.reference_price
        off = ref * self.band_bps // 10_000  # rounded down: the band never widens
        return max(0, ref - off), min(INT64_MAX, ref + off)

    def reject(self, r: Request, reason: int) -> bool:
        self.rejects.append((r.ts_ns, r.order_id, r.size, reason))
        return False

    def would_take(self, side: int, limit: int) -> bool:
        opp = self.prices(3 - side)
        return bool(opp) and self.crosses(side, limit, opp[0])

    # ------------------------------------------------------------ requests

    def submit(self, r: Request) -> bool:
        if r.type in (LIMIT, MARKET):
            ok = self.submit_new(r)
        elif r.type == CANCEL:
            ok = self.cancel(r)
        elif r.type == MODIFY:
            ok = self.modify(r)
        else:
            ok = self.reject(r, INVALID_TYPE)
        if self._halt_pending:  # the halt takes effect once the request is done
            self.halted, self._halt_pending = True, False
        if self._traded and self.reference_follows_trades:
            self.reference_price = self.last_trade_price
        self._traded = False
        return ok

    def limits(self, market: bool, price: int, size: int) -> int:
        """First failing size/band/notional check, or 0."""
        band = self.band()
        if self.max_order_size > 0 and size > self.max_order_size:
            return MAX_ORDER_SIZE
        if not market and band is not None and not band[0] <= price <= band[1]:
            return PRICE_BAND
        if self.max_notional > 0 and (not market or band is not None):
            worst = band[1] if market and band is not None else price  # a market order: the band top
            if worst * size > self.max_notional:
                return MAX_NOTIONAL
        return 0

    def fields_error(self, r: Request) -> int:
        post_only = bool(r.flags & POST_ONLY)
        if r.side not in (BID, ASK):
            return INVALID_SIDE
        if r.tif not in (GTC, IOC, FOK):
            return INVALID_TIF
        if r.stp > STP_DECREMENT:
            return INVALID_STP
        if r.flags & ~POST_ONLY or (post_only and (r.type != LIMIT or r.tif != GTC)):
            return INVALID_FLAGS
        if r.size <= 0:
            return INVALID_SIZE
        if r.type == LIMIT and r.price < 0:
            return INVALID_PRICE
        return 0

    def submit_new(self, r: Request) -> bool:
        if self.halted:
            return self.reject(r, HALTED)
        if r.owner in self.killed:
            return self.reject(r, KILL_SWITCH)
        market = r.type == MARKET
        why = self.fields_error(r) or self.limits(market, r.price, r.size)
        if why:
            return self.reject(r, why)
        if self.find(r.order_id) is not None:
            return self.reject(r, DUPLICATE_ORDER_ID)
        if not market and self.level_total(r.side, r.price) + r.size > INT64_MAX:
            return self.reject(r, INVALID_SIZE)
        limit = r.price
        if market:
            band = self.band()
            if r.side == BID:
                limit = band[1] if band else INT64_MAX
            else:
                limit = band[0] if band else INT64_MIN
        stp = self.stp if r.stp == STP_DEFAULT else r.stp
        if r.flags & POST_ONLY and self.would_take(r.side, limit):
            return self.reject(r, POST_ONLY_WOULD_TAKE)
        if r.tif == FOK and not self.fok_fillable(r, limit, stp):
            return self.reject(r, FOK_NOT_FILLABLE)
        remaining = self.match(r.order_id, r.owner, r.side, limit, r.size, stp, r.ts_ns)
        if remaining == 0:
            return True
        if not market and r.tif == GTC:
            self.book[r.side].setdefault(limit, deque()).append(ROrder(r.order_id, r.owner, remaining))
            return True
        # What stopped it: an empty side, its own limit, or (market) the band edge.
        band_stop = market and bool(self.book[3 - r.side])
        self.rejects.append((r.ts_ns, r.order_id, remaining, PRICE_BAND if band_stop else EXPIRED))
        return True

    def fok_fillable(self, r: Request, limit: int, stp: int) -> bool:
        """Runs the match on a copy: fillable when it trades the whole size."""
        trial = copy.deepcopy(self)
        trial.fills, trial.rejects = [], []
        trial.match(r.order_id, r.owner, r.side, limit, r.size, stp, r.ts_ns)
        return sum(f[4] for f in trial.fills) == r.size

    def cancel(self, r: Request) -> bool:
        found = self.find(r.order_id)
        if found is None:
            return self.reject(r, UNKNOWN_ORDER)
        side, price, o = found
        if o.owner != r.owner:
            return self.reject(r, OWNER_MISMATCH)
        if r.size < 0:
            return self.reject(r, INVALID_SIZE)
        if r.size == 0 or r.size >= o.size:
            self.remove(side, price, o)
        else:
            o.size -= r.size  # keeps its place
        return True

    def modify(self, r: Request) -> bool:
        if self.halted:
            return self.reject(r, HALTED)
        found = self.find(r.order_id)
        if found is None:
            return self.reject(r, UNKNOWN_ORDER)
        side, price, o = found
        if o.owner != r.owner:
            return self.reject(r, OWNER_MISMATCH)
        if r.stp > STP_DECREMENT:
            return self.reject(r, INVALID_STP)
        if r.flags & ~POST_ONLY:
            return self.reject(r, INVALID_FLAGS)
        if r.size <= 0:
            return self.reject(r, INVALID_SIZE)
        if r.price < 0:
            return self.reject(r, INVALID_PRICE)
        why = self.limits(False, r.price, r.size)
        if why:
            return self.reject(r, why)
        if r.price == price and r.size <= o.size:
            o.size = r.size  # keeps its place
            return True
        others = self.level_total(side, r.price) - (o.size if r.price == price else 0)
        if others + r.size > INT64_MAX:
            return self.reject(r, INVALID_SIZE)
        takes = self.would_take(side, r.price)
        if takes and r.flags & POST_ONLY:
            return self.reject(r, POST_ONLY_WOULD_TAKE)
        self.remove(side, price, o)
        remaining = r.size
        if takes:  # cancel/replace: the new order may match, as a GTC limit
            stp = self.stp if r.stp == STP_DEFAULT else r.stp
            remaining = self.match(r.order_id, o.owner, side, r.price, r.size, stp, r.ts_ns)
        if remaining > 0:
            self.book[side].setdefault(r.price, deque()).append(ROrder(r.order_id, o.owner, remaining))
        return True

    # ------------------------------------------------------------ matching

    def match(self, taker: int, owner: int, side: int, limit: int, size: int, stp: int, ts: int) -> int:
        """Matches oldest first at the best price; returns the size left."""
        remaining = size
        opp = 3 - side
        while remaining > 0:
            prices = self.prices(opp)
            if not prices or not self.crosses(side, limit, prices[0]):
                break
            price = prices[0]
            m = self.book[opp][price][0]
            if stp != STP_NONE and m.owner == owner:
                remaining = self.self_trade(taker, remaining, opp, price, m, stp, ts)
                continue
            q = min(remaining, m.size)
            self.fills.append((ts, taker, m.order_id, price, q, side))
            self.record_trade(ts, price, q)
            remaining -= q
            m.size -= q
            if m.size == 0:
                self.remove(opp, price, m)
        return remaining

    def self_trade(self, taker: int, remaining: int, opp: int, price: int, m: ROrder, stp: int,
                   ts: int) -> int:
        if stp == STP_CANCEL_NEWEST:
            self.rejects.append((ts, taker, remaining, SELF_TRADE))
            return 0
        if stp == STP_CANCEL_OLDEST:
            self.rejects.append((ts, m.order_id, m.size, SELF_TRADE))
            self.remove(opp, price, m)
            return remaining
        if stp == STP_CANCEL_BOTH:
            self.rejects.append((ts, m.order_id, m.size, SELF_TRADE))
            self.remove(opp, price, m)
            self.rejects.append((ts, taker, remaining, SELF_TRADE))
            return 0
        assert stp == STP_DECREMENT
        d = min(remaining, m.size)
        self.rejects.append((ts, m.order_id, d, SELF_TRADE))
        self.rejects.append((ts, taker, d, SELF_TRADE))
        m.size -= d
        if m.size == 0:
            self.remove(opp, price, m)
        return remaining - d

    def record_trade(self, ts: int, price: int, size: int) -> None:
        self.trade_count += 1
        self.traded_volume += size
        self.last_trade_price = price
        self._traded = True
        if self.halt_move_bps <= 0:
            return
        # The window's clock never goes back: an earlier-stamped request trades "now".
        self._trade_clock = ts = max(ts, self._trade_clock)
        self.window.append((ts, price))
        in_window = [p for t, p in self.window if t >= ts - self.halt_window_ns]
        lo, hi = min(in_window), max(in_window)
        if (hi - lo) * 10_000 > self.halt_move_bps * lo:
            self._halt_pending = True

    # ------------------------------------------------------------ controls

    def resume(self) -> None:
        self.halted = False
        self._halt_pending = False
        self.window = []

    def kill(self, owner: int, ts: int) -> int:
        self.killed.add(owner)
        doomed = [(side, price, o) for side in (BID, ASK) for price in self.prices(side)
                  for o in self.book[side][price] if o.owner == owner]
        for side, price, o in doomed:
            self.rejects.append((ts, o.order_id, o.size, KILL_SWITCH))
            self.remove(side, price, o)
        return len(doomed)

    def clear(self) -> None:
        self.book = {BID: {}, ASK: {}}

    # ------------------------------------------------------------ queries

    def side_orders(self, side: int) -> list[tuple[int, int, int, int]]:
        """(order_id, price, size, owner) best level first, FIFO within a level."""
        return [(o.order_id, p, o.size, o.owner) for p in self.prices(side) for o in self.book[side][p]]

    def side_levels(self, side: int) -> list[tuple[int, int, int]]:
        return [(p, self.level_total(side, p), len(self.book[side][p])) for p in self.prices(side)]

    def bbo(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        out = []
        for side in (BID, ASK):
            lv = self.side_levels(side)
            out.append((lv[0][0], lv[0][1]) if lv else None)
        return out[0], out[1]
