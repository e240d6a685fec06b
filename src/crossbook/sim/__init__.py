"""Execution simulator: what acting on the books would have earned, after latency and fees.

Design (milestone 1; the risk engine, example strategies, CLI and richer models come next):

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
  latency to configure is the order path alone.
* **Simulated venue** (``venue.hpp``), one per (venue, symbol): the recorded L2 book plus the
  strategy's own orders, which the recorded book never contains (no self-matching). A taker
  order walks the arrival-time book level by level at each level's price; what it took stays
  taken until the feed next sets that level. A resting order waits in a queue whose model the
  venue asks; a trade through its price fills all of it. Limit GTC/IOC/FOK, post-only, market,
  cancel, modify (a smaller open size at the same price keeps the place; anything else re-queues;
  a modify that would cross is refused). A venue whose book is not synced (LEVEL_EVENT rows with
  action SIM_UNSYNCED / SIM_SYNCED) refuses new orders and modifies with a reason; cancels pass.
* **Swappable models**, one C++ file each, asked by the venue and never inside it:
  ``latency_model.hpp`` (entry and response delay; constant now, a seeded distribution or a
  table later), ``fee_model.hpp`` (maker/taker centi-bps as in :mod:`crossbook.arb.fees`; each
  fill's fee is ``ceil(notional * cbps / 10**6)`` so rounding never favours the strategy),
  ``queue_model.hpp`` (conservative now; issue 11's linear/power/log models are new subclasses
  of ``QueueModel`` and exact FIFO is an L3-fed venue). The Python side names them in
  :class:`VenueConfig`.
* **Money** is exact: per venue, position (size mantissas), cash and fees (units of
  ``10**-(price_exp + size_exp)``, 128-bit: a padded exponent puts one BTC near 10**21);
  ``pnl = cash + position * mark - fees``. A fill's fee and a position are int64, overflow refused.

A strategy talks to the venues only through submit/cancel/modify/set_timer and its callbacks,
the surface a live execution client would also offer.
"""

from __future__ import annotations

from crossbook.sim.builtin import CrossArbParams, CrossArbTaker
from crossbook.sim.models import ConstantLatency, Fees, VenueConfig
from crossbook.sim.records import (
    Account,
    BookRow,
    EventKind,
    Liquidity,
    OrderStatus,
    Reason,
    Response,
    ResponseKind,
    SimResults,
    TimeInForce,
    TradeRow,
)
from crossbook.sim.simulator import Simulator
from crossbook.sim.strategy import Strategy

__all__ = [
    "Account",
    "BookRow",
    "ConstantLatency",
    "CrossArbParams",
    "CrossArbTaker",
    "EventKind",
    "Fees",
    "Liquidity",
    "OrderStatus",
    "Reason",
    "Response",
    "ResponseKind",
    "SimResults",
    "Simulator",
    "Strategy",
    "TimeInForce",
    "TradeRow",
    "VenueConfig",
]
