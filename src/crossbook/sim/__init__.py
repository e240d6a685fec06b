"""Execution simulator: what acting on the books would have earned, after latency and fees.

Around the core: :mod:`crossbook.sim.feeds` (captures of N venues into feed rows, in common
units), :mod:`crossbook.sim.strategies` (two documented examples), :mod:`crossbook.sim.backtest`
(a run over a time window), :mod:`crossbook.sim.report` (exact PnL, drawdown, slippage, the
JSON of ``crossbook backtest``), :mod:`crossbook.sim.walkforward` and :mod:`crossbook.sim.risk`
(limits, circuit breaker, kill switch, position sizing).

Design:

* **Event loop** (C++, ``cpp/include/crossbook/sim/simulator.hpp``). The recorded feeds of N
  venues (LEVEL_EVENT rows and TRADE_EVENT rows, each venue's in receive-time order) are
  merged by ``ts_recv_ns`` with the strategy's requests and the venues' answers in flight.
  Ties at one timestamp go: feed rows (by venue index; a venue's trades before its level rows;
  input order), then request arrivals, then answers, then timers, each in creation order. The
  loop is *pulled*: :meth:`Simulator.run` asks the core for the next event the strategy
  subscribed to (the callbacks it overrides) and the core runs without the GIL until then.
  ``Strategy.on_touch`` subscribes to touch changes only (a price or size at a venue's best
  bid or ask, or its sync), far fewer Python calls than ``on_book`` for a strategy that reads
  only the touch. :meth:`Simulator.run_builtin` runs a strategy compiled into the core
  (``"cross-arb"``, twin of :class:`CrossArbTaker`) with no Python call at all.
* **Two clocks per venue.** The feed clock: a row changes the venue's book at its receive time,
  which is when the strategy sees it (the recording's own exchange-to-receive delay is the feed
  latency). The order clock: a request decided at ``now`` reaches the venue after the entry
  latency and meets the book as received by then; acks, fills and cancel confirmations reach
  the strategy after the response latency. The venue book is the received book, so the entry
  latency to configure is the order path alone. Each venue is one connection on which nothing
  overtakes: a request arrives at ``max(decision + entry delay, previous arrival there)`` and
  an answer at ``max(sent + response delay, previous delivery from there)``, so a cancel sent
  after a submit never arrives first, and a fill is never heard before its ack.
* **Simulated venue** (``venue.hpp``), one per (venue, symbol): the recorded L2 book plus the
  strategy's own orders, which the recorded book never contains (no self-matching). A taker
  order walks the arrival-time book level by level at each level's price; what it took stays
  taken until the feed next sets that level. A resting order waits in a queue whose model the
  venue asks; a trade through its price fills all of it. Limit GTC/IOC/FOK, post-only, market,
  cancel, modify (a smaller open size at the same price keeps the place; anything else re-queues;
  a modify that would cross is refused). A venue whose book is not synced (LEVEL_EVENT rows with
  action SIM_UNSYNCED / SIM_SYNCED) refuses new orders and modifies with a reason; cancels pass.
* **Stop orders** (``submit(..., stop=trigger)``; stop-market without a price, stop-limit with
  one). At arrival a stop is refused like any order on an unsynced book, otherwise accepted
  (status OPEN) to wait at the venue; post-only stops are refused at submit. A recorded trade
  triggers a buy stop at or above its trigger and a sell stop at or below it (a trade exactly
  at the trigger triggers), whatever the trade's aggressor. Only trades received after the
  stop arrived count: a stop whose trigger the last trade already passed waits for the next
  trade, which triggers it if the market is still there. On the trigger the venue sends
  TRIGGERED and runs the order at that instant as a market order, or a limit order with its
  TIF, against the book as received then (after the trade's maker fills; the level rows of the
  same time, which come after trades, not yet applied); what it would refuse (FOK not
  fillable, a book not synced any more) cancels it with that reason. Several stops triggered
  by one trade run in id order. The strategy's own fills never trigger stops: only recorded
  trades do. Cancel works on a waiting stop; modify is refused (STOP_WAITING) until a
  stop-limit order has triggered and rests, and is then a limit order's modify.
* **Swappable models**, one C++ file each, asked by the venue and never inside it:
  ``latency_model.hpp`` (entry and response delay: constant, a seeded distribution over
  samples or a uniform range, or a table over time; random draws use splitmix64 and Lemire's
  unbiased bounded draw in integer arithmetic, so a seed gives the same delays everywhere),
  ``fee_model.hpp`` (maker/taker centi-bps as in :mod:`crossbook.arb.fees`; each fill's fee
  is ``ceil(notional * cbps / 10**6)`` so rounding never favours the strategy),
  ``queue_model.hpp`` (trades at its price advance a resting order; a level decrease the
  trades since the level's last row do not explain is split between the size ahead and
  behind by the model: ``conservative`` (the default: never ahead), ``linear``,
  ``power:N``, ``log``). The Python side names them in :class:`VenueConfig`.
* **Exact FIFO** on order-level data is :mod:`crossbook.sim.fifo`: passive orders in the
  real queue of an order book fed with L3 events, the truth the queue models are
  measured against (``benchmarks/validate_queue_models.py``).
* **Money** is exact: per venue, position (size mantissas), cash and fees (units of
  ``10**-(price_exp + size_exp)``, 128-bit: a padded exponent puts one BTC near 10**21);
  ``pnl = cash + position * mark - fees``. A fill's fee and a position are int64, overflow refused.

* **Risk engine** (``risk.hpp``, :mod:`crossbook.sim.risk`, whose docstring has the rules):
  per-venue limits (:class:`VenueRisk` in :class:`VenueConfig`) and run-wide ones
  (:class:`PortfolioRisk`), checked before every submit and modify; a loss or drawdown
  breach trips the circuit breaker or the kill switch, which the strategy or the user can
  also pull (:meth:`Simulator.kill`). Refusals carry a Reason and every state change is a
  SIM_RISK_EVENT row in :attr:`SimResults.risk_events`.

A strategy talks to the venues only through submit/cancel/modify/set_timer and its callbacks,
the surface a live execution client would also offer.
"""

from __future__ import annotations

from crossbook.sim.builtin import CrossArbParams, CrossArbTaker
from crossbook.sim.models import (
    ConstantLatency,
    EmpiricalLatency,
    Fees,
    Impact,
    Latency,
    TableLatency,
    UniformLatency,
    VenueConfig,
)
from crossbook.sim.records import (
    Account,
    BookRow,
    EventKind,
    Liquidity,
    OrderStatus,
    OrderType,
    Reason,
    Response,
    ResponseKind,
    RiskEventKind,
    SimResults,
    TimeInForce,
    TradeRow,
)
from crossbook.sim.risk import PortfolioRisk, VenueRisk, VolatilitySizer
from crossbook.sim.simulator import Simulator
from crossbook.sim.strategy import Strategy

__all__ = [
    "Account",
    "BookRow",
    "ConstantLatency",
    "CrossArbParams",
    "CrossArbTaker",
    "EmpiricalLatency",
    "EventKind",
    "Fees",
    "Latency",
    "Impact",
    "Liquidity",
    "OrderStatus",
    "OrderType",
    "PortfolioRisk",
    "Reason",
    "Response",
    "ResponseKind",
    "RiskEventKind",
    "SimResults",
    "Simulator",
    "Strategy",
    "TableLatency",
    "TimeInForce",
    "TradeRow",
    "UniformLatency",
    "VenueConfig",
    "VenueRisk",
    "VolatilitySizer",
]
