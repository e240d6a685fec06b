"""Lead-lag quoting: make a market on the secondary venue, leaning on the primary's order flow.

The strategy rests a post-only bid and ask on the ``secondary`` venue around its mid, shifted
by the order-flow imbalance of the ``primary`` venue (the one that leads: ``crossbook
leadlag`` finds it). The imbalance is the Cont-Kukanov-Stoikov OFI of the primary's best
levels (:func:`crossbook.analytics.series.ofi`), summed over the last ``window_ns``: buying
pressure on the leader moves both quotes up by ``skew_per_unit`` price units per size unit of
OFI (a Fraction, so the shift is exact), at most ``max_skew``, before the secondary follows.

Quotes are ``half_spread`` away from the skewed mid, rounded away from it to the tick, and
never cross the secondary's own touch (a bid stays below its best ask, an ask above its
best bid). Inventory limit: the side that would take the secondary's position past
``inventory_limit`` (size mantissa, as heard from fills) is not quoted, and cancelled if
resting. A quote whose wanted price changed is modified (cancel/replace in one request), at
most once per ``min_requote_ns`` per side. When either book stops being synced, both quotes
are cancelled; the imbalance restarts when the primary's book does.
"""

from __future__ import annotations

import math
from collections import deque
from fractions import Fraction

import numpy as np

from crossbook.analytics.series import ofi
from crossbook.sim.records import BookRow, OrderStatus, Response, ResponseKind
from crossbook.sim.simulator import Simulator
from crossbook.sim.strategies._base import LoggedStrategy

__all__ = ["LeadLagQuote"]

_BID, _ASK = 1, 2
_OVER = (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED)


class _Quote:
    __slots__ = ("busy", "order_id", "price", "size", "changed_ns")

    def __init__(self) -> None:
        self.order_id: int | None = None
        self.price = 0
        self.size = 0
        self.busy = False  # a request is in flight: wait for its answer
        self.changed_ns = -(1 << 62)


class LeadLagQuote(LoggedStrategy):
    """Quotes ``quote_size`` on both sides of ``secondary``, skewed by ``primary``'s OFI.

    Prices and sizes are mantissas of the venues' (common) exponents; ``tick`` is the
    secondary's price increment.
    """

    def __init__(self, primary: int, secondary: int, *, quote_size: int, inventory_limit: int,
                 tick: int = 1, half_spread: int = 0, skew_per_unit: Fraction = Fraction(0),
                 max_skew: int = 0, window_ns: int = 1_000_000_000,
                 min_requote_ns: int = 50_000_000) -> None:
        super().__init__()
        if primary == secondary:
            raise ValueError("the primary and secondary venues must differ")
        if quote_size <= 0 or inventory_limit < 0 or tick <= 0 or half_spread < 0 or max_skew < 0:
            raise ValueError("quote_size and tick must be > 0; inventory_limit, half_spread "
                             "and max_skew >= 0")
        self.primary, self.secondary = primary, secondary
        self.quote_size, self.inventory_limit, self.tick = quote_size, inventory_limit, tick
        self.half_spread, self.skew_per_unit, self.max_skew = half_spread, skew_per_unit, max_skew
        self.window_ns, self.min_requote_ns = window_ns, min_requote_ns
        self.position = 0
        self.quotes = {_BID: _Quote(), _ASK: _Quote()}
        self.flow: deque[tuple[int, int]] = deque()  # (ts_ns, ofi) of the primary
        self.flow_sum = 0
        self.last_top: tuple[int, int, int, int] | None = None

    # -- callbacks -------------------------------------------------------------------------
    def on_book(self, sim: Simulator, venue: int, row: BookRow) -> None:
        if venue == self.primary:
            self._primary(sim)
        elif venue != self.secondary:
            return
        if not (sim.synced(self.primary) and sim.synced(self.secondary)):
            for side in (_BID, _ASK):
                self._pull(sim, side)
            return
        self._requote(sim)

    def on_order(self, sim: Simulator, response: Response) -> None:
        q = self._quote_of(response.order_id)
        if q is None:
            return
        if response.kind in (ResponseKind.ACCEPTED, ResponseKind.MODIFIED,
                             ResponseKind.MODIFY_REJECTED, ResponseKind.CANCEL_REJECTED):
            q.busy = False
            q.price = response.price  # a refused modify leaves the old price
        if response.status in _OVER:
            self._clear(q)

    def on_fill(self, sim: Simulator, fill: Response) -> None:
        q = self._quote_of(fill.order_id)
        side = self.intents[fill.order_id].side
        self.position += fill.size if side == _BID else -fill.size
        if q is not None:
            q.size = fill.leaves
            if fill.status in _OVER:
                self._clear(q)

    # -- the signal ------------------------------------------------------------------------
    def _primary(self, sim: Simulator) -> None:
        bid, ask = sim.bbo(self.primary)
        if bid is None or ask is None or not sim.synced(self.primary):
            self._forget()
            return
        top = (bid[0], bid[1], ask[0], ask[1])
        if self.last_top is not None:
            pair = np.array([self.last_top, top], dtype=np.int64)
            e = int(ofi(pair[:, 0], pair[:, 1], pair[:, 2], pair[:, 3])[1])
            self.flow.append((sim.now, e))
            self.flow_sum += e
        self.last_top = top
        while self.flow and self.flow[0][0] <= sim.now - self.window_ns:
            self.flow_sum -= self.flow.popleft()[1]

    def _forget(self) -> None:
        self.flow.clear()
        self.flow_sum = 0
        self.last_top = None

    def skew(self) -> int:
        """The quotes' shift now, in price mantissas (floor of the exact product)."""
        s = math.floor(self.flow_sum * self.skew_per_unit)
        return max(-self.max_skew, min(self.max_skew, s))

    # -- quoting ---------------------------------------------------------------------------
    def wanted(self, sim: Simulator) -> dict[int, int | None]:
        """The price each side should rest at now, or None when it should not rest."""
        bid, ask = sim.bbo(self.secondary)
        if bid is None or ask is None:
            return {_BID: None, _ASK: None}
        t = self.tick
        fair2 = bid[0] + ask[0] + 2 * self.skew()  # twice the skewed mid: exact
        bid_q = ((fair2 - 2 * self.half_spread) // 2) // t * t
        ask_q = -((-(fair2 + 2 * self.half_spread) // 2) // t) * t
        bid_q = min(bid_q, ask[0] - t)
        ask_q = max(ask_q, bid[0] + t, bid_q + t)
        size = self.quote_size
        return {_BID: bid_q if bid_q > 0 and self.position + size <= self.inventory_limit else None,
                _ASK: ask_q if self.position - size >= -self.inventory_limit else None}

    def _requote(self, sim: Simulator) -> None:
        for side, price in self.wanted(sim).items():
            q = self.quotes[side]
            if q.busy:
                continue
            if price is None:
                self._pull(sim, side)
            elif q.order_id is None:
                q.order_id = self.submit(sim, self.secondary, side, self.quote_size, price,
                                         post_only=True, leg="bid" if side == _BID else "ask")
                q.price, q.size, q.busy, q.changed_ns = price, self.quote_size, True, sim.now
            elif price != q.price and sim.now - q.changed_ns >= self.min_requote_ns:
                self.modify(sim, q.order_id, price, q.size)
                q.price, q.busy, q.changed_ns = price, True, sim.now

    def _pull(self, sim: Simulator, side: int) -> None:
        q = self.quotes[side]
        if q.order_id is not None and not q.busy:
            self.cancel(sim, q.order_id)
            q.busy = True

    def _quote_of(self, order_id: int) -> _Quote | None:
        return next((q for q in self.quotes.values() if q.order_id == order_id), None)

    @staticmethod
    def _clear(q: _Quote) -> None:
        q.order_id, q.busy, q.size = None, False, 0
