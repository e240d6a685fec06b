"""A venue that matches: price-time priority with the safety controls exchanges run.

The rules (fills at the resting order's price, oldest first; GTC/IOC/FOK;
post-only; self-trade prevention; size, notional and price-band limits; the
volatility halt; the kill switch) are documented once, in
cpp/include/crossbook/matching_engine.hpp.

Per-call use::

    engine = MatchingEngine(price_exp=2, stp=StpMode.CANCEL_NEWEST)
    n_fills = engine.submit(order_id=1, owner=7, side=Side.BID, price=10_050, size=3)
    fills, rejects = engine.take_fills(), engine.take_rejects()  # FILL / REJECT arrays

Batch use: ``fills, rejects = engine.submit_batch(requests)`` with an
ORDER_REQUEST array (one C++ loop, GIL released). Every rejection carries a
``RejectReason``.
"""

from __future__ import annotations

from crossbook import _core
from crossbook.order_book import OrderBookView
from crossbook.order_types import StpMode

__all__ = ["MatchingEngine"]


class MatchingEngine(_core.MatchingEngine):
    """Price-time matching over its own order book.

    Limits are off when None. ``halt_move_bps`` and ``halt_window_ns`` go
    together: when trades within the window move the price by more than that
    many basis points of the window's low, the engine halts (cancels only)
    until ``resume()``. ``stp`` is the self-trade mode of requests that say
    ``StpMode.DEFAULT``.

    Per-call ``submit``/``cancel``/``modify``/``kill`` append to internal
    buffers drained by ``take_fills()`` and ``take_rejects()``; drain them
    regularly. ``submit_batch`` returns its own arrays and leaves those
    buffers alone.
    """

    __slots__ = ()

    @property
    def stp(self) -> StpMode:
        """Self-trade prevention mode of requests that say StpMode.DEFAULT."""
        return StpMode(self._stp)

    @property
    def book(self) -> OrderBookView:
        """Read-only view of the resting orders (bbo, depth, order, orders, ...)."""
        return OrderBookView(self)
