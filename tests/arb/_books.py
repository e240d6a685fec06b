"""Hand-built books for the arbitrage tests."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from crossbook import L2Book, dtypes

Levels = Sequence[tuple[int, int]]


def book(bids: Levels = (), asks: Levels = (), price_exp: int = 0, size_exp: int = 0,
         tick: int = 1) -> L2Book:
    b = L2Book(price_exp, size_exp, tick)
    for p, s in bids:
        b.update(1, p, s)
    for p, s in asks:
        b.update(2, p, s)
    return b


def depth_rows(levels: Levels) -> np.ndarray:
    out = np.zeros(len(levels), dtype=dtypes.DEPTH)
    for i, (p, s) in enumerate(levels):
        out[i] = (p, s, 0)
    return out


def exact_pnl(asks: Levels, bids: Levels, size: int, fee_buy_cbps: int, fee_sell_cbps: int,
              price_exp: int, size_exp: int) -> Fraction:
    """An independent re-computation: buy ``size`` on the asks, sell it on the bids
    (both best first), pay both fees; real quote units, as a Fraction."""
    def notional(levels: Levels, n: int) -> Fraction:
        total, left = Fraction(0), n
        for p, s in levels:
            take = min(s, left)
            total += Fraction(p, 10**price_exp) * Fraction(take, 10**size_exp)
            left -= take
            if left == 0:
                break
        assert left == 0, "not enough depth"
        return total

    cost = notional(asks, size) * (1 + Fraction(fee_buy_cbps, 1_000_000))
    proceeds = notional(bids, size) * (1 - Fraction(fee_sell_cbps, 1_000_000))
    return proceeds - cost
