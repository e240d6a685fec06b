"""Exact JSON numbers, shared by the venues that send prices and sizes as JSON
numbers instead of decimal text (Kraken v2, Kraken Futures, Bitfinex).

Frames are decoded with ``float_hook=Decimal`` (or msgspec ``Decimal`` fields):
msgspec hands the hook the number's own text, so ``0.566`` stays exactly
0.566 and never passes through a binary float. Integers stay ``int``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import msgspec
import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook.fixedpoint import parse_fixed

__all__ = ["Number", "decimals", "decoder", "is_number", "level_array", "mantissa", "max_decimals"]

Number = Decimal | int

#: Untyped decoder keeping every JSON float as the exact Decimal of its text.
decoder = msgspec.json.Decoder(float_hook=Decimal)


def is_number(value: object) -> bool:
    """A JSON number as decoded by ``decoder`` (bool is an int in Python: not a number here)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, Decimal) and value.is_finite()
    )


def decimals(value: Number) -> int:
    """Digits after the point that the value needs.

    Trailing zeros do not count: a serialiser's ``20108.0`` is an integer, and
    JSON numbers carry no padding to a venue's precision anyway. The digits are
    read from the tuple, never through ``normalize()``, which would round to the
    context's 28 digits.
    """
    if isinstance(value, int):
        return 0
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    _, digits, exp = value.as_tuple()
    assert isinstance(exp, int)
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if trailing == len(digits):  # zero
        return 0
    return max(0, -(exp + trailing))


def max_decimals(values: Iterable[Number]) -> int:
    return max((decimals(v) for v in values), default=0)


def mantissa(value: object, exp: int) -> int:
    """The exact integer mantissa of a decoded JSON number at ``exp``.

    Raises ValueError naming the value when it is not a number or has more
    decimals than ``exp`` allows, OverflowError when it does not fit an int64.
    """
    if not is_number(value):
        raise ValueError(f"expected a number, got {value!r}")
    return parse_fixed(value if isinstance(value, int) else str(value), exp)


def level_array(
    rows: Sequence[tuple[int, int, int, int]],
    *,
    ts_exchange_ns: int = 0,
    ts_recv_ns: int = 0,
    snapshot: bool = False,
) -> npt.NDArray[np.void]:
    """LEVEL_EVENT rows from ``(side, price, size, count)`` tuples, in venue order."""
    out = np.zeros(len(rows), dtype=dtypes.LEVEL_EVENT)
    if rows:
        side, price, size, count = zip(*rows, strict=True)
        out["side"] = side
        out["price"] = price
        out["size"] = size
        out["count"] = count
    out["ts_exchange_ns"] = ts_exchange_ns
    out["ts_recv_ns"] = ts_recv_ns
    out["action"] = dtypes.UPDATE
    out["flags"] = dtypes.F_SNAPSHOT if snapshot else 0
    if len(out):
        out["flags"][-1] |= dtypes.F_LAST
    return out
