"""Exact numbers for venues that send JSON numbers (Deribit, BitMEX, Huobi,
Bybit legacy) or mix numbers and text, and level arrays built from them.

JSON numbers are decoded as ``decimal.Decimal`` (msgspec keeps their digits),
never as float; a value converts to a mantissa only when it is exact at the
instrument's exponent. Negative prices or sizes are refused here because the
core would refuse them later, outside the parser's error contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook.fixedpoint import parse_fixed
from crossbook.messages import Instrument
from crossbook.timeutil import iso_ns
from crossbook.venues.base import InstrumentTable, wire_decimals

__all__ = ["Num", "build_levels", "decimals", "iso_ns", "resolve", "to_mantissa"]

Num = Decimal | int | str

_INT64_MAX = (1 << 63) - 1
_INT32_MAX = (1 << 31) - 1
_MAX_DIGITS = 40  # far beyond any int64 mantissa; stops 1E+999999 from allocating


def to_mantissa(value: object, exp: int) -> int:
    """``value * 10**exp`` as an int, exactly; ValueError names a value that does not fit."""
    if isinstance(value, str):
        m = parse_fixed(value, exp)
    elif isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")
    elif isinstance(value, int):
        if abs(value) > _INT64_MAX:
            raise ValueError(f"{value} does not fit an int64 mantissa")
        m = value * 10**exp
    elif value.is_finite() and len(value.as_tuple().digits) <= _MAX_DIGITS:
        # str() of a Decimal is its exact text: the Cython parser reads it ~20x faster
        # than the tuple arithmetic below, with the same exactness and errors.
        m = parse_fixed(str(value), exp)
    else:
        m = _decimal_mantissa(value, exp)
    if m < 0:
        raise ValueError(f"negative value {value}")
    if m > _INT64_MAX:
        raise ValueError(f"{value} does not fit an int64 mantissa at exponent {exp}")
    return m


def _decimal_mantissa(value: Decimal, exp: int) -> int:
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    sign, digits, e = value.as_tuple()
    assert isinstance(e, int)
    n = int("".join(map(str, digits)) or "0")
    shift = e + exp
    if n == 0:
        return 0
    if shift >= 0:
        if len(digits) + shift > _MAX_DIGITS:
            raise ValueError(f"{value} does not fit an int64 mantissa at exponent {exp}")
        m: int = n * 10**shift
    else:
        if -shift > _MAX_DIGITS:
            raise ValueError(f"{value} has more decimals than exponent {exp} allows")
        m, r = divmod(n, int(10**-shift))
        if r:
            raise ValueError(f"{value} has more decimals than exponent {exp} allows")
    return -m if sign else m


def decimals(values: Iterable[object]) -> int:
    """Most digits after the point in any value (text as written, Decimal as decoded)."""
    best = 0
    texts: list[str] = []
    for v in values:
        if isinstance(v, Decimal) and v.is_finite():
            e = v.as_tuple().exponent
            assert isinstance(e, int)
            best = max(best, -e)
        elif isinstance(v, str):
            texts.append(v)
    return max(best, wire_decimals(texts)) if texts else best


def resolve(table: InstrumentTable, symbol: str, prices: Iterable[object],
            sizes: Iterable[object], *, min_price_exp: int = 0, min_size_exp: int = 0) -> Instrument:
    """The symbol's instrument, inferred on first sight from the values' decimals.

    JSON numbers come in shortest form (0.002, not 0.0020), so their digits
    understate the venue's precision: a venue passes floors from its tick and
    lot sizes, and a later finer value is a ParseError naming it, as for text.
    Decimal text has its twin, InstrumentTable.resolve, which reads the text's width.
    """
    inst = table.get(symbol)
    if inst is None:
        inst = Instrument(table.venue, symbol,
                          price_exp=max(min_price_exp, decimals(prices)),
                          size_exp=max(min_size_exp, decimals(sizes)))
        table.add(inst)
    return inst


def build_levels(sides: Sequence[int], prices: Sequence[object], sizes: Sequence[object],
                 inst: Instrument, *, actions: Sequence[int] | None = None,
                 counts: Sequence[int] | None = None, ts_exchange_ns: int = 0,
                 ts_recv_ns: int = 0, snapshot: bool = False) -> npt.NDArray[np.void]:
    """A LEVEL_EVENT array, rows in the given order; ValueError names a value that
    does not fit. Default action UPDATE with the absolute size (0 removes)."""
    n = len(sides)
    out = np.zeros(n, dtype=dtypes.LEVEL_EVENT)
    out["ts_exchange_ns"] = ts_exchange_ns
    out["ts_recv_ns"] = ts_recv_ns
    out["side"] = sides
    out["price"] = [to_mantissa(p, inst.price_exp) for p in prices]
    out["size"] = [to_mantissa(s, inst.size_exp) for s in sizes]
    if counts is not None:
        for c in counts:
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= _INT32_MAX:
                raise ValueError(f"order count {c!r} is not a non-negative int32")
        out["count"] = counts
    out["action"] = dtypes.UPDATE if actions is None else actions
    out["flags"] = dtypes.F_SNAPSHOT if snapshot else 0
    if n:
        out["flags"][-1] |= dtypes.F_LAST
    return out
