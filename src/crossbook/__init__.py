"""crossbook: limit order books at C++ speed, for Python.

Prices and sizes are integer mantissas with a per-instrument decimal exponent:
the real value is ``mantissa * 10**-exp``. See README.md for the concepts.
"""

from __future__ import annotations

from typing import NamedTuple

try:
    from crossbook import _core
except ImportError as exc:  # pragma: no cover - only when the package was not built
    raise ImportError(
        "crossbook's compiled core (crossbook._core) is missing: install the package with "
        "`pip install .` (it builds the C++ extension) instead of importing it from the source tree"
    ) from exc

from crossbook import dtypes
from crossbook._side import Side
from crossbook.fixedpoint import format_fixed, parse_fixed
from crossbook.matching_engine import MatchingEngine
from crossbook.order_book import OrderBook, OrderBookView, OrderInfo
from crossbook.order_types import OrderAction, OrderType, RejectReason, StpMode, TimeInForce

InvalidInputError = _core.InvalidInputError
InvariantViolation = _core.InvariantViolation
BusyError = _core.BusyError


class FillEstimate(NamedTuple):
    """What taking ``size`` from one side of a book would get.

    ``notional`` is the exact sum of price * size mantissas (a Python int, in
    units of 10**-(price_exp + size_exp)); ``worst_price`` is None when the side
    is empty.
    """

    filled: int
    notional: int
    worst_price: int | None


class L2Book(_core.L2Book):
    """A price-level book: levels are set to absolute sizes, size 0 removes one.

    ``price_exp`` and ``size_exp`` must lie in [-18, 18] (InvalidInputError
    otherwise): an int64 mantissa holds 18 full digits. An empty book holds no
    ladder; the first level allocates it.

    Hot methods (``update``, ``bbo``, ``depth``, ``apply``) are the compiled
    core's own; this class only adds conveniences that are not on a hot path.
    """

    __slots__ = ()

    def cost_to_fill(self, side: Side, size: int) -> FillEstimate:
        """Walk ``side`` of the book from the touch for ``size`` (ASK to buy, BID to sell)."""
        return FillEstimate(*self._cost_to_fill(side, size))


__all__ = [
    "L2Book",
    "OrderBook",
    "OrderBookView",
    "OrderInfo",
    "MatchingEngine",
    "OrderAction",
    "OrderType",
    "TimeInForce",
    "StpMode",
    "RejectReason",
    "Side",
    "FillEstimate",
    "InvalidInputError",
    "InvariantViolation",
    "BusyError",
    "dtypes",
    "parse_fixed",
    "format_fixed",
]
__version__ = "0.1.0"
