"""The best trade between two books of one instrument: buy on one, sell on the other.

``best_opportunity`` walks the asks of the buy book and the bids of the sell book
level by level while the next unit still profits after both taker fees::

    bid * (1 - fee_sell) > ask * (1 + fee_buy)

and stops at the first unit that does not (a unit that exactly breaks even is
not taken). Greedy is optimal: asks rise and bids fall along the walk, so the
margin of the next unit never grows; the pnl is concave in size and the walk
ends at the largest size that maximises it.

The walk runs in the compiled core when it has one (``crossbook._core.best_opportunity``);
``best_opportunity_py`` is its plain-Python twin in exact integer arithmetic, the
test oracle. Both give the same raw integers and this module derives everything
else from them, so the two give equal ``Opportunity`` values.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from crossbook import L2Book, Side, _core
from crossbook.arb.fees import FEE_DENOMINATOR, FeeInput, bps_to_cbps

__all__ = [
    "Opportunity",
    "best_opportunity",
    "best_opportunity_cbps",
    "best_opportunity_py",
    "compiled_walk",
]

_D = FEE_DENOMINATOR
_INT64_MAX = (1 << 63) - 1


@dataclass(frozen=True, slots=True)
class Opportunity:
    """Buying ``size`` on the buy book's asks and selling it on the sell book's bids.

    The fields are the walk's exact integers: ``size`` and the worst prices taken
    are mantissas at the books' exponents; notionals are sums of price * size
    mantissas (units of ``10**-(price_exp + size_exp)`` quote currency); the pnl
    after both fees is ``pnl_num / FEE_DENOMINATOR`` in those same units. The
    properties give real values, exact (Fraction) or as floats (``*_float``).
    """

    size: int
    buy_notional: int
    sell_notional: int
    buy_price: int  # worst (highest) ask taken
    sell_price: int  # worst (lowest) bid taken
    pnl_num: int
    price_exp: int
    size_exp: int

    @property
    def pnl(self) -> Fraction:
        """Quote currency gained after both fees, exactly."""
        return Fraction(self.pnl_num, _D * 10 ** (self.price_exp + self.size_exp))

    @property
    def size_real(self) -> Fraction:
        return Fraction(self.size, 10**self.size_exp)

    @property
    def buy_vwap(self) -> Fraction:
        """Average price paid, in quote units per base unit, before fees."""
        return Fraction(self.buy_notional, self.size * 10**self.price_exp)

    @property
    def sell_vwap(self) -> Fraction:
        return Fraction(self.sell_notional, self.size * 10**self.price_exp)

    @property
    def edge(self) -> Fraction:
        """pnl over the amount paid for the buy (before fees), in bps, exactly; the
        C++ scanner's ``edge_bps`` is this ratio rounded to a double."""
        if self.buy_notional == 0:
            raise ZeroDivisionError("edge of an opportunity bought at price 0")
        return Fraction(self.pnl_num, 100 * self.buy_notional)

    @property
    def edge_bps(self) -> float:
        return math.inf if self.buy_notional == 0 else float(self.edge)

    @property
    def pnl_float(self) -> float:
        return float(self.pnl)

    @property
    def buy_vwap_float(self) -> float:
        return float(self.buy_vwap)

    @property
    def sell_vwap_float(self) -> float:
        return float(self.sell_vwap)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly: mantissas as ints, exact values as text, floats for reading."""
        return {
            "size": self.size, "size_real": str(_decimal(self.size, self.size_exp)),
            "buy_price": self.buy_price, "sell_price": self.sell_price,
            "buy_vwap": self.buy_vwap_float, "sell_vwap": self.sell_vwap_float,
            "edge_bps": self.edge_bps, "pnl": self.pnl_float, "pnl_exact": str(self.pnl),
            "price_exp": self.price_exp, "size_exp": self.size_exp,
        }


def _decimal(mantissa: int, exp: int) -> str:
    from crossbook import format_fixed

    return format_fixed(mantissa, exp)


def _check_books(buy_book: object, sell_book: object) -> None:
    for name, b in (("buy_book", buy_book), ("sell_book", sell_book)):
        if not isinstance(b, _core.L2Book):
            raise TypeError(f"{name} must be an L2Book, got {type(b).__name__}")
    assert isinstance(buy_book, _core.L2Book) and isinstance(sell_book, _core.L2Book)
    if (buy_book.price_exp, buy_book.size_exp) != (sell_book.price_exp, sell_book.size_exp):
        raise ValueError(
            f"books must share exponents: buy book has price_exp {buy_book.price_exp}, size_exp "
            f"{buy_book.size_exp}; sell book has price_exp {sell_book.price_exp}, size_exp "
            f"{sell_book.size_exp} (convert them with crossbook.arb.normalize_book)")


def _check_max_size(max_size: int | None) -> int | None:
    if max_size is None:
        return None
    if isinstance(max_size, bool) or not isinstance(max_size, int):
        raise TypeError(f"max_size must be an int mantissa or None, got {max_size!r}")
    if max_size < 0:
        raise ValueError(f"max_size must be >= 0, got {max_size}")
    return min(max_size, _INT64_MAX)


def _levels(book: L2Book, side: Side) -> Iterator[tuple[int, int]]:
    """The side's levels, best first, read in growing chunks: a walk usually stops
    within a few levels, and copying a whole side of thousands would dominate it."""
    col = 0 if side is Side.BID else 1
    n, done = 8, 0
    while True:
        rows = book.depth(n)[col]
        yield from zip(rows["price"][done:].tolist(), rows["size"][done:].tolist(), strict=True)
        if len(rows) < n:
            return
        done, n = n, n * 8


def _walk_py(buy_book: L2Book, sell_book: L2Book, fee_buy: int, fee_sell: int,
             cap: int) -> tuple[int, int, int, int, int, int] | None:
    """(size, buy_notional, sell_notional, buy_price, sell_price, pnl_num), or None."""
    kb, ks = _D + fee_buy, _D - fee_sell
    asks, bids = _levels(buy_book, Side.ASK), _levels(sell_book, Side.BID)
    ask, bid = next(asks, None), next(bids, None)
    if ask is None or bid is None or cap <= 0:
        return None
    ask_left, bid_left = ask[1], bid[1]
    size = buy_n = sell_n = pnl_num = 0
    buy_price = sell_price = 0
    while True:
        margin = bid[0] * ks - ask[0] * kb
        if margin <= 0:
            break
        take = min(ask_left, bid_left, cap - size)
        size += take
        buy_n += ask[0] * take
        sell_n += bid[0] * take
        pnl_num += margin * take
        buy_price, sell_price = ask[0], bid[0]
        ask_left -= take
        bid_left -= take
        if size == cap:
            break
        if ask_left == 0:
            if (ask := next(asks, None)) is None:
                break
            ask_left = ask[1]
        if bid_left == 0:
            if (bid := next(bids, None)) is None:
                break
            bid_left = bid[1]
    if size == 0:
        return None
    return size, buy_n, sell_n, buy_price, sell_price, pnl_num


def best_opportunity_py(buy_book: L2Book, sell_book: L2Book, buy_fee_bps: FeeInput,
                        sell_fee_bps: FeeInput, max_size: int | None = None) -> Opportunity | None:
    """Plain-Python twin of :func:`best_opportunity`, in exact integer arithmetic."""
    fb, fs = bps_to_cbps(buy_fee_bps, "buy fee"), bps_to_cbps(sell_fee_bps, "sell fee")
    return _best_py_cbps(buy_book, sell_book, fb, fs, max_size)


def _best_py_cbps(buy_book: L2Book, sell_book: L2Book, fb: int, fs: int,
                  max_size: int | None) -> Opportunity | None:
    _check_books(buy_book, sell_book)
    cap = _check_max_size(max_size)
    raw = _walk_py(buy_book, sell_book, fb, fs, _INT64_MAX if cap is None else cap)
    if raw is None:
        return None
    return Opportunity(*raw, buy_book.price_exp, buy_book.size_exp)


def compiled_walk() -> Any | None:
    """The compiled walk, when the core has one.

    Contract it must keep: ``_core.best_opportunity(buy_book, sell_book,
    buy_fee_cbps, sell_fee_cbps, max_size)`` (max_size None or int >= 0) returns
    None or an object with attributes, or a tuple in this order, ``size,
    buy_notional, sell_notional, buy_price, sell_price, pnl_num`` (Python ints;
    more trailing items such as the C++ edge_bps are ignored)."""
    return getattr(_core, "best_opportunity", None)


_RAW_FIELDS = ("size", "buy_notional", "sell_notional", "buy_price", "sell_price", "pnl_num")


def _from_compiled(raw: Any, price_exp: int, size_exp: int) -> Opportunity:
    if isinstance(raw, tuple):
        vals = raw[: len(_RAW_FIELDS)]
    else:
        vals = tuple(getattr(raw, f) for f in _RAW_FIELDS)
    size, buy_n, sell_n, buy_p, sell_p, pnl_num = (int(v) for v in vals)
    return Opportunity(size, buy_n, sell_n, buy_p, sell_p, pnl_num, price_exp, size_exp)


def best_opportunity_cbps(buy_book: L2Book, sell_book: L2Book, buy_fee_cbps: int,
                          sell_fee_cbps: int, max_size: int | None = None) -> Opportunity | None:
    """:func:`best_opportunity` with fees already in centi-bps (the scanner's hot path)."""
    walk = compiled_walk()
    if walk is None:
        return _best_py_cbps(buy_book, sell_book, buy_fee_cbps, sell_fee_cbps, max_size)
    _check_books(buy_book, sell_book)
    cap = _check_max_size(max_size)
    raw = walk(buy_book, sell_book, buy_fee_cbps, sell_fee_cbps, cap)
    return None if raw is None else _from_compiled(raw, buy_book.price_exp, buy_book.size_exp)


def best_opportunity(buy_book: L2Book, sell_book: L2Book, buy_fee_bps: FeeInput,
                     sell_fee_bps: FeeInput, max_size: int | None = None) -> Opportunity | None:
    """The most profitable trade buying on ``buy_book`` and selling on ``sell_book``
    after both taker fees (in bps, exact: int, decimal text, Decimal, Fraction), or
    None when not even one unit profits.

    ``size`` is the largest profitable size (a size mantissa), capped by ``max_size``;
    it never exceeds either side's displayed depth. Both books must share their
    price and size exponents (TypeError for a non-book, ValueError otherwise):
    convert books of different venues with :func:`crossbook.arb.normalize_book`.
    Cost: O(levels crossed) in the compiled core; the Python twin also copies
    both sides' levels.
    """
    fb, fs = bps_to_cbps(buy_fee_bps, "buy fee"), bps_to_cbps(sell_fee_bps, "sell fee")
    return best_opportunity_cbps(buy_book, sell_book, fb, fs, max_size)
