"""Cross-venue taker arbitrage on the scanner's opportunities, with a stated leg-risk policy.

When venue A's ask is below venue B's bid by more than both taker fees plus a threshold, the
strategy buys on A and sells on B at once, both legs IOC limit orders at the worst price the
scanner's walk (:func:`crossbook.arb.opportunity.best_opportunity_cbps`) would take, for the
walk's size capped by ``max_size``. The walk is the scanner's own rule with the threshold
added to the buy fee: a unit is taken while ``bid * (1 - fee_B) > ask * (1 + fee_A +
threshold)``.

Both legs travel with each venue's latency and meet the book as it is on arrival, so either
may fill less than planned. Once both have answered, the unmatched exposure (bought minus
sold) is repaired by a market order, by the ``policy``:

* ``hedge``: the missing size is taken on the venue of the leg that filled less (the arb is
  completed at whatever price is there);
* ``unwind``: the excess is closed on the venue of the leg that filled more (the arb is
  abandoned).

A repair that does not fill completely is tried again on that venue's next book update until
the exposure is gone. Every repair order is logged with the price the missed leg planned to
trade at, so the report's "leg risk" line (slippage from that price plus the repair's fees)
is exactly what the misses cost against the plan.

Only synced books fresher than ``max_age_ns`` are compared; one attempt is in flight at a
time, with ``cooldown_ns`` after each; ``max_position`` (size mantissa) caps each venue's
position as the strategy has heard it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from crossbook import L2Book
from crossbook.arb.fees import FEE_DENOMINATOR
from crossbook.arb.opportunity import best_opportunity_cbps
from crossbook.sim.records import BookRow, OrderStatus, Response, TimeInForce
from crossbook.sim.simulator import Simulator
from crossbook.sim.strategies._base import LoggedStrategy

__all__ = ["POLICIES", "CrossArb"]

POLICIES = ("hedge", "unwind")
_BUY, _SELL = 1, 2
_DONE = (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED)


@dataclass(slots=True)
class _Attempt:
    buy: int  # order ids
    sell: int
    buy_venue: int
    sell_venue: int
    buy_price: int  # the touch when deciding: what each leg planned to trade at
    sell_price: int
    filled: dict[int, int] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)


@dataclass(slots=True)
class _Repair:
    venue: int
    side: int
    size: int
    planned_price: int  # the missed leg's decision price
    leg: str
    order_id: int | None = None


class CrossArb(LoggedStrategy):
    """Two-legged taker arbitrage between every pair of ``venues``.

    ``taker_cbps[i]``: the taker fee the strategy assumes on venue i (centi-bps, as
    crossbook.arb.fees); ``threshold_cbps``: the edge required beyond both fees;
    ``max_size``: cap on each attempt's size (common size mantissa).
    """

    def __init__(self, taker_cbps: Sequence[int], *, max_size: int, threshold_cbps: int = 0,
                 policy: str = "hedge", venues: Sequence[int] | None = None,
                 max_position: int | None = None, cooldown_ns: int = 100_000_000,
                 max_age_ns: int = 1_000_000_000, depth_levels: int = 20) -> None:
        super().__init__()
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
        if max_size <= 0:
            raise ValueError(f"max_size must be > 0, got {max_size}")
        self.taker_cbps = list(taker_cbps)
        self.venues = list(range(len(self.taker_cbps)) if venues is None else venues)
        self.max_size, self.threshold_cbps, self.policy = max_size, threshold_cbps, policy
        self.max_position = max_position
        self.cooldown_ns, self.max_age_ns, self.depth_levels = cooldown_ns, max_age_ns, depth_levels
        self.positions = dict.fromkeys(self.venues, 0)
        self.last_book_ns: dict[int, int] = {}
        self.attempt: _Attempt | None = None
        self.repair: _Repair | None = None
        self.quiet_until_ns = 0
        self.attempts = 0
        self.misses = 0

    # -- callbacks -------------------------------------------------------------------------
    def on_book(self, sim: Simulator, venue: int, row: BookRow) -> None:
        if venue not in self.positions:
            return
        self.last_book_ns[venue] = sim.now
        if self.repair is not None:
            if self.repair.order_id is None and self.repair.venue == venue and sim.synced(venue):
                self._send_repair(sim)
            return
        if self.attempt is None and sim.now >= self.quiet_until_ns and sim.synced(venue):
            for other in self.venues:
                if other != venue and self._usable(sim, other):
                    if self._try(sim, venue, other) or self._try(sim, other, venue):
                        return

    def on_order(self, sim: Simulator, response: Response) -> None:
        self._answer(sim, response)

    def on_fill(self, sim: Simulator, fill: Response) -> None:
        sign = 1 if self.intents[fill.order_id].side == _BUY else -1
        self.positions[fill.venue] = self.positions.get(fill.venue, 0) + sign * fill.size
        a = self.attempt
        if a is not None and fill.order_id in (a.buy, a.sell):
            a.filled[fill.order_id] = a.filled.get(fill.order_id, 0) + fill.size
        elif self.repair is not None and fill.order_id == self.repair.order_id:
            self.repair.size -= fill.size
        self._answer(sim, fill)

    # -- decisions -------------------------------------------------------------------------
    def _usable(self, sim: Simulator, venue: int) -> bool:
        seen = self.last_book_ns.get(venue)
        return seen is not None and sim.now - seen <= self.max_age_ns and sim.synced(venue)

    def _try(self, sim: Simulator, buy: int, sell: int) -> bool:
        (_, ask), (bid, _) = sim.bbo(buy), sim.bbo(sell)
        if ask is None or bid is None:
            return False
        fee_buy = self.taker_cbps[buy] + self.threshold_cbps
        d = FEE_DENOMINATOR
        if bid[0] * (d - self.taker_cbps[sell]) <= ask[0] * (d + fee_buy):
            return False  # the touch does not pay: no need to read the depth
        cap = self._room(buy, sell)
        if cap <= 0:
            return False
        opp = best_opportunity_cbps(self._book(sim, buy), self._book(sim, sell), fee_buy,
                                    self.taker_cbps[sell], cap)
        if opp is None:
            return False
        self.attempts += 1
        b = self.submit(sim, buy, _BUY, opp.size, opp.buy_price, tif=TimeInForce.IOC, leg="buy",
                        decision_price=ask[0])
        s = self.submit(sim, sell, _SELL, opp.size, opp.sell_price, tif=TimeInForce.IOC,
                        leg="sell", decision_price=bid[0])
        self.attempt = _Attempt(b, s, buy, sell, ask[0], bid[0])
        return True

    def _room(self, buy: int, sell: int) -> int:
        if self.max_position is None:
            return self.max_size
        return min(self.max_size, self.max_position - self.positions[buy],
                   self.max_position + self.positions[sell])

    def _book(self, sim: Simulator, venue: int) -> L2Book:
        cfg = sim.venues[venue]
        book = L2Book(cfg.price_exp, cfg.size_exp)
        book.load_snapshot(*sim.depth(venue, self.depth_levels))
        return book

    def _answer(self, sim: Simulator, r: Response) -> None:
        if r.status not in _DONE:
            return
        a = self.attempt
        if a is not None and r.order_id in (a.buy, a.sell):
            a.done.add(r.order_id)
            if len(a.done) == 2:
                self._settle(sim, a)
        elif self.repair is not None and r.order_id == self.repair.order_id:
            self.repair.order_id = None
            if self.repair.size <= 0:
                self.repair = None
            # else: the rest goes on the venue's next book update (a book with nothing on
            # that side would otherwise be hit again at every round trip)

    def _settle(self, sim: Simulator, a: _Attempt) -> None:
        self.attempt = None
        self.quiet_until_ns = sim.now + self.cooldown_ns
        net = a.filled.get(a.buy, 0) - a.filled.get(a.sell, 0)
        if net == 0:
            return
        self.misses += 1
        side = _SELL if net > 0 else _BUY
        planned = a.sell_price if net > 0 else a.buy_price
        if self.policy == "hedge":
            venue = a.sell_venue if net > 0 else a.buy_venue
        else:
            venue = a.buy_venue if net > 0 else a.sell_venue
        self.repair = _Repair(venue, side, abs(net), planned, self.policy)
        if sim.synced(venue):
            self._send_repair(sim)

    def _send_repair(self, sim: Simulator) -> None:
        r = self.repair
        assert r is not None
        r.order_id = self.submit(sim, r.venue, r.side, r.size, None, leg=r.leg,
                                 decision_price=r.planned_price)
