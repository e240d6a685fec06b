"""Pinned regressions of the unit-conversion property tests (tests/arb/test_units.py).

Each test replays one shrunk failing input deterministically, so it keeps being
checked whatever the generators draw. A new shrunk failure of a property test is
pinned here (or, for a state machine, in the machine's own *_regressions.py).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from crossbook.arb.units import CommonUnits, Listing, UnitConverter

_INT64_MAX = (1 << 63) - 1


def _inverse(contract: int, price_exp: int, size_exp: int) -> UnitConverter:
    li = Listing("v", "X", "X/USD", Fraction(contract), True, "perpetual")
    return UnitConverter(li, price_exp, 0, CommonUnits(price_exp, size_exp))


def test_inverse_depth_beyond_int64_is_refused_not_wrapped() -> None:
    """test_inverse_depth_never_exceeds_true_depth, shrunk failure (--hypothesis-seed=15,
    about 1 run in 50): rows=[(1, 92234)], size_exp=10, contract=100, price_exp=2.

    92234 contracts of 100 USD at 0.01 USD are 922,340,000 units of base: 9.2234e18 at
    exponent 10, past int64. The converter must refuse with a typed error naming the
    exponent (never wrap or clip); one contract fewer fits and converts exactly."""
    c = _inverse(100, 2, 10)
    assert Fraction(92234 * 100) / Fraction(1, 100) * 10**10 > _INT64_MAX
    with pytest.raises(ValueError, match="does not fit in int64 at common size exponent 10"):
        c.size(1, 92234)
    assert c.size(1, 92233) == 92233 * 100 * 100 * 10**10 <= _INT64_MAX
