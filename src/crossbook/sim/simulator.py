"""The Python face of the simulator core: configuration, requests, the run loop, results."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from crossbook import _core
from crossbook._side import Side
from crossbook.dtypes import DEPTH
from crossbook.sim.builtin import BUILTINS, CrossArbParams
from crossbook.sim.models import (
    EmpiricalLatency,
    Latency,
    TableLatency,
    UniformLatency,
    VenueConfig,
)
from crossbook.sim.records import (
    Account,
    BookRow,
    EventKind,
    OrderType,
    Response,
    SimResults,
    TimeInForce,
    TradeRow,
)
from crossbook.sim.risk import PortfolioRisk, core_risk_args
from crossbook.sim.strategy import Strategy

__all__ = ["Simulator"]

# Subscription bits of the core, by the callback that wants them.
_SUBSCRIPTIONS = {"on_book": 1, "on_trade": 2, "on_order": 4, "on_fill": 8, "on_timer": 16,
                  "on_touch": 32}
# Plain ints: compared once per event, faster than the IntEnum members.
_BOOK, _TRADE, _ORDER, _FILL = (int(k) for k in (EventKind.BOOK, EventKind.TRADE, EventKind.ORDER,
                                                 EventKind.FILL))


def _set_latency(core: _core.Simulator, venue: int, model: Latency) -> None:
    """Installs a latency model the core's constructor does not take."""
    if isinstance(model, EmpiricalLatency):
        core.set_empirical_latency(venue, list(model.entry_ns), list(model.response_ns), model.seed)
    elif isinstance(model, UniformLatency):
        core.set_uniform_latency(venue, *model.entry, *model.response, model.seed)
    elif isinstance(model, TableLatency):
        core.set_table_latency(venue, list(model.rows))


def _subscriptions(strategy: Strategy) -> int:
    cls = type(strategy)
    return sum(bit for name, bit in _SUBSCRIPTIONS.items()
               if getattr(cls, name) is not getattr(Strategy, name))


class Simulator:
    """N simulated venues fed with recorded rows, and one strategy.

    Feed each venue with :meth:`add_levels` (LEVEL_EVENT) and :meth:`add_trades`
    (TRADE_EVENT), in receive-time order, then :meth:`run` a strategy; or drive it by
    hand with :meth:`advance` and the request methods (as the tests do).
    """

    def __init__(self, venues: Sequence[VenueConfig], risk: PortfolioRisk | None = None) -> None:
        """``risk``: the limits over all venues (each venue's own are in its VenueConfig)."""
        if not venues:
            raise ValueError("a simulation needs at least one venue")
        self.venues = tuple(venues)
        self.risk = risk
        self._core = _core.Simulator([v.core_args() for v in self.venues])
        for i, v in enumerate(self.venues):
            _set_latency(self._core, i, v.latency)
            if v.impact is not None:
                self._core.set_impact(i, v.impact.price_step, v.impact.size_unit,
                                      v.impact.decay_ns)
        self._core.configure_risk(*core_risk_args([(v.risk, v.asset) for v in self.venues], risk))
        self._last_input_ns: int | None = None

    # -- input ---------------------------------------------------------------------------
    def add_levels(self, venue: int, rows: npt.NDArray[np.void]) -> None:
        self._core.add_levels(venue, rows)
        self._note_input(rows)

    def add_trades(self, venue: int, rows: npt.NDArray[np.void]) -> None:
        self._core.add_trades(venue, rows)
        self._note_input(rows)

    def _note_input(self, rows: npt.NDArray[np.void]) -> None:
        if len(rows):
            last = int(rows["ts_recv_ns"][-1])
            self._last_input_ns = last if self._last_input_ns is None else max(self._last_input_ns, last)

    # -- requests (decided at now) ---------------------------------------------------------
    def submit(self, venue: int, side: Side | int, size: int, price: int | None = None, *,
               stop: int | None = None, tif: TimeInForce | int = TimeInForce.GTC,
               post_only: bool = False) -> int:
        """A limit order at ``price``, or a market order when ``price`` is None; returns its id.

        With ``stop``, a stop order that waits at the venue for a recorded trade at or
        beyond ``stop`` (a buy at or above it, a sell at or below it; a trade already
        received when the stop arrives does not count) and then acts as the market
        order (``price`` None) or the limit order at ``price`` with ``tif``, against the
        book as received at that trade. Cancel works on a waiting stop; modify is
        refused (Reason.STOP_WAITING) until a stop-limit order has triggered and rests.
        """
        if stop is None:
            kind = OrderType.MARKET if price is None else OrderType.LIMIT
        else:
            kind = OrderType.STOP if price is None else OrderType.STOP_LIMIT
        return self._core.submit(venue, int(side), int(kind), int(tif),
                                 0 if price is None else price, size, post_only,
                                 0 if stop is None else stop)

    def cancel(self, order_id: int) -> None:
        self._core.cancel(order_id)

    def modify(self, order_id: int, price: int, leaves: int) -> None:
        """New price and open size of a resting limit order (or triggered stop-limit order)."""
        self._core.modify(order_id, price, leaves)

    def set_timer(self, ts_ns: int) -> int:
        return self._core.set_timer(ts_ns)

    def kill(self, flatten: bool = False) -> None:
        """The kill switch, from a callback or from outside the run: every later submit and
        modify is refused, every open or in-flight order is cancelled (after the entry
        latency), and with ``flatten`` each venue's position is closed at market. See
        crossbook.sim.risk for the rules."""
        self._core.kill(flatten)

    # -- what the strategy may read --------------------------------------------------------
    @property
    def now(self) -> int:
        return self._core.now

    def bbo(self, venue: int) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        return self._core.bbo(venue)

    def depth(self, venue: int, n: int) -> tuple[npt.NDArray[np.void], npt.NDArray[np.void]]:
        bids, asks = self._core.depth(venue, n)
        return bids.view(DEPTH), asks.view(DEPTH)

    def synced(self, venue: int) -> bool:
        return self._core.synced(venue)

    def queue_ahead(self, order_id: int) -> int | None:
        """The queue model's size ahead of a resting order; None when it is not resting."""
        return self._core.queue_ahead(order_id)

    def queue_progress(self, order_id: int) -> float | None:
        """How far a resting order has moved up its queue by the model's estimate:
        ``1 - ahead / ahead_at_arrival`` (1.0 when nothing was ahead), from 0.0 when it
        joined to 1.0 at the front, where the next trade at its price fills it. It is
        the model's position estimate as a ratio, not a calibrated probability of a fill
        (``benchmarks/validate_queue_models.py`` measures how often orders at a given
        progress fill). None when the order is not resting."""
        state = self._core.queue_state(order_id)
        if state is None:
            return None
        ahead, at_arrival = state
        return 1.0 if at_arrival == 0 else 1.0 - ahead / at_arrival

    def taken(self, venue: int, side: Side | int, price: int) -> int:
        return self._core.taken(venue, int(side), price)

    def account(self, venue: int) -> Account:
        """Position, cash, fees and volume of ``venue``, exactly (cash and fees may pass int64)."""
        return Account(*self._core.account(venue))

    def pnl(self, venue: int, mark_price: int) -> int:
        """cash + position * mark_price - fees, exactly, in units of 10**-(price_exp + size_exp)."""
        return self._core.pnl(venue, mark_price)

    # -- the loop ----------------------------------------------------------------------------
    def advance(self, until_ns: int, strategy: Strategy | None = None) -> None:
        """Processes every event up to ``until_ns``, calling ``strategy`` for its subscribed
        events; now becomes at least ``until_ns``."""
        core = self._core
        if strategy is None:
            core.set_subscriptions(0)
            core.advance(until_ns)  # stops at no event: runs to until_ns
            return
        core.set_subscriptions(_subscriptions(strategy))
        step, dispatch = core.advance, self._dispatch
        while (ev := step(until_ns)) is not None:
            dispatch(strategy, ev)

    def run(self, strategy: Strategy, until_ns: int | None = None) -> SimResults:
        """Runs ``strategy`` over the feeds, up to ``until_ns`` (default: the last row added)."""
        strategy.on_start(self)
        end = self._last_input_ns if until_ns is None else until_ns
        if end is not None:
            self.advance(end, strategy)
        return self.results()

    def run_builtin(self, name: str, params: CrossArbParams,
                    until_ns: int | None = None) -> SimResults:
        """Runs a strategy compiled into the core, up to ``until_ns`` (default: the last row
        added), with no call into Python at all. Known: ``"cross-arb"``, the cross-venue
        taker of :class:`crossbook.sim.builtin.CrossArbTaker` (same decisions, same
        results), parametrised by :class:`CrossArbParams`."""
        if name not in BUILTINS:
            raise ValueError(f"unknown built-in strategy {name!r} (known: {', '.join(BUILTINS)})")
        end = self._last_input_ns if until_ns is None else until_ns
        if end is not None:
            self._core.run_cross_arb(list(params.fees_for(self.venues)), params.max_size,
                                     params.cooldown_ns, end)
        return self.results()

    def _dispatch(self, strategy: Strategy, ev: _core._SimEvent) -> None:
        if len(ev) == 6:
            strategy.on_touch(self, ev[2], ev[4], ev[5])
            return
        kind, _, venue, index = ev
        if kind == _BOOK:
            strategy.on_book(self, venue, BookRow(*self._core.level_row(venue, index)))
        elif kind == _TRADE:
            strategy.on_trade(self, venue, TradeRow(*self._core.trade_row(venue, index)))
        elif kind == _ORDER:
            strategy.on_order(self, Response(*self._core.response(index)))
        elif kind == _FILL:
            strategy.on_fill(self, Response(*self._core.response(index)))
        else:
            strategy.on_timer(self, index)

    def results(self) -> SimResults:
        c = self._core
        return SimResults(c.orders(), c.fills(), c.responses(), c.accounts(), c.risk_events())
