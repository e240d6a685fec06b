"""Order-level (L3) books: every resting order, a FIFO queue per price level.

``OrderBook`` rebuilds a venue's book from an order-level feed; ``OrderBookView``
is the read-only face of a ``MatchingEngine``'s own book. Hot methods (``add``,
``cancel``, ``execute``, ``modify``, ``bbo``, ``apply``) are the compiled core's
own; these classes only add named records.
"""

from __future__ import annotations

from typing import NamedTuple

from crossbook import _core
from crossbook._side import Side

__all__ = ["OrderBook", "OrderBookView", "OrderInfo"]


class OrderInfo(NamedTuple):
    """A resting order: its side, price, open size and owner (0 when not given)."""

    side: Side
    price: int
    size: int
    owner: int


def _info(row: tuple[int, int, int, int] | None) -> OrderInfo | None:
    if row is None:
        return None
    side, price, size, owner = row
    return OrderInfo(Side(side), price, size, owner)


class OrderBook(_core.OrderBook):
    """An order-level book fed by a venue's order events; it never matches.

    ``on_anomaly`` says what bad feed input (an unknown or duplicate id, an
    execute or cancel larger than the order, a size <= 0, ...) does:
    ``"raise"`` raises InvalidInputError (with ``anomaly``, ``order_id`` and
    ``event_index`` attributes) and leaves the book unchanged; ``"count"``
    counts it in ``anomalies`` and skips or clamps it as documented in
    cpp/include/crossbook/order_book.hpp. With ``track_levels=True`` every
    level change is buffered as a LEVEL_EVENT, drained by ``level_events()``.
    """

    __slots__ = ()

    def order(self, order_id: int) -> OrderInfo | None:
        """The resting order, or None."""
        return _info(self._order(order_id))


class OrderBookView(_core.OrderBookView):
    """Read-only queries on a MatchingEngine's book; keeps the engine alive."""

    __slots__ = ()

    def order(self, order_id: int) -> OrderInfo | None:
        """The resting order, or None."""
        return _info(self._order(order_id))
