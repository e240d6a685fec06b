"""Decimal text <-> integer mantissa, exactly.

``parse_fixed("61837.63000000", 2) == 6183763``: the real value is
``mantissa * 10**-exp``. A value with more significant decimals than ``exp``
allows is an error naming the value; nothing is ever rounded. Trailing zeros
beyond ``exp`` are fine (venues pad to a fixed width).

The hot functions come from the Cython module ``crossbook._fixedpoint``; the
``*_py`` functions here are their plain-Python twins, used as the test oracle
and the benchmark baseline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from crossbook._fixedpoint import parse_fixed, parse_levels

__all__ = ["parse_fixed", "parse_levels", "parse_fixed_py", "parse_levels_py", "format_fixed"]

_INT64_MAX = (1 << 63) - 1
_INT64_MIN = -(1 << 63)
_INT64_DIGITS = 19  # digits of the largest int64
_MAX_TEXT = 400  # no venue sends more; the Cython parser refuses longer text too


def parse_fixed_py(text: str | int, exp: int) -> int:
    """Plain-Python twin of :func:`parse_fixed`."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise TypeError(f"expected decimal text or int, got {type(text).__name__}: {text!r}")
    if isinstance(text, int):
        return _scaled(text, exp, str(text), exp)
    s = text
    if len(s) > _MAX_TEXT:
        raise ValueError(f"not a decimal number (over {_MAX_TEXT} characters): {text[:40]!r}...")
    body = s[1:] if s[:1] in "+-" else s
    mant, _, e_part = body.replace("E", "e").partition("e")
    int_part, dot, frac = mant.partition(".")
    if (
        not (int_part or frac)
        or not (int_part.isascii() and frac.isascii())
        or (int_part and not int_part.isdigit())
        or (frac and not frac.isdigit())
        or (dot and not int_part and not frac)
        or ("e" in body.lower() and not _is_int(e_part))
    ):
        raise ValueError(f"not a decimal number: {text!r}")
    shift = exp - len(frac) + (int(e_part) if e_part else 0)
    digits = int(int_part + frac)
    if s[:1] == "-":
        digits = -digits
    return _scaled(digits, shift, text, exp)


def _is_int(s: str) -> bool:
    t = s[1:] if s[:1] in "+-" else s
    return t.isascii() and t.isdigit()


def _scaled(digits: int, shift: int, text: str, exp: int) -> int:
    """``digits * 10**shift`` as an int64, exactly, or the error naming ``text``.

    The size of the result is judged from the digit count before any power of ten
    is built: "5e99999999" is refused at once, not after computing 10**(10**8)."""
    if digits == 0:
        return 0
    n = len(str(abs(digits)))
    if shift >= 0:
        if n + shift > _INT64_DIGITS:
            raise OverflowError(f"{text!r} does not fit an int64 mantissa")
        return _check_range(digits * 10**shift, text)
    if -shift >= n:  # 10**-shift exceeds |digits|: a remainder is certain
        raise ValueError(f"{text!r} has more decimals than exponent {exp} allows")
    return _check_range(_exact_div(digits, 10**-shift, text, exp), text)


def _exact_div(value: int, divisor: int, text: str, exp: int) -> int:
    q, r = divmod(value, divisor)
    if r:
        raise ValueError(f"{text!r} has more decimals than exponent {exp} allows")
    return q


def _check_range(value: int, text: str) -> int:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise OverflowError(f"{text!r} does not fit an int64 mantissa")
    return value


def parse_levels_py(
    rows: Sequence[Sequence[str | int]], price_exp: int, size_exp: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Plain-Python twin of :func:`parse_levels`."""
    prices = np.empty(len(rows), dtype=np.int64)
    sizes = np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        if len(row) < 2:
            raise ValueError(f"level row {i} needs a price and a size, got {row!r}")
        prices[i] = parse_fixed_py(row[0], price_exp)
        sizes[i] = parse_fixed_py(row[1], size_exp)
    return prices, sizes


def format_fixed(mantissa: int, exp: int) -> str:
    """Exact decimal text of ``mantissa * 10**-exp``: ``format_fixed(6183763, 2) == "61837.63"``."""
    sign = "-" if mantissa < 0 else ""
    digits = str(abs(mantissa))
    if exp <= 0:
        return sign + (digits + "0" * -exp if mantissa else "0")
    digits = digits.rjust(exp + 1, "0")
    return f"{sign}{digits[:-exp]}.{digits[-exp:]}"
