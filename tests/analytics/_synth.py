"""Synthetic series for known-answer tests: hand-made top of book, books and trades."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook.analytics import BookSeries, TopSeries, TradeSeries, VenueSeries

PRICE_EXP, SIZE_EXP = 2, 3


def top(ts: npt.ArrayLike, bid: npt.ArrayLike, ask: npt.ArrayLike, bid_size: npt.ArrayLike = 1000,
        ask_size: npt.ArrayLike = 1000, *, name: str = "v", segment: npt.ArrayLike = 0) -> TopSeries:
    t = np.asarray(ts, dtype=np.int64)

    def col(v: npt.ArrayLike) -> npt.NDArray[np.int64]:
        return np.broadcast_to(np.asarray(v, dtype=np.int64), t.shape).copy()

    return TopSeries(name, "SYM", PRICE_EXP, SIZE_EXP, t, np.zeros_like(t), col(bid), col(bid_size),
                     col(ask), col(ask_size), col(segment))


def empty_book(name: str = "v", levels: int = 5) -> BookSeries:
    z = np.zeros(0, dtype=np.int64)
    lv = np.zeros((0, levels), dtype=dtypes.DEPTH)
    return BookSeries(name, "SYM", PRICE_EXP, SIZE_EXP, z, z, z, z, z, z, z, lv, lv.copy())


def trades(ts: npt.ArrayLike = (), price: npt.ArrayLike = (), size: npt.ArrayLike = (),
           side: npt.ArrayLike = (), *, name: str = "v", ts_exchange: npt.ArrayLike | None = None
           ) -> TradeSeries:
    t = np.asarray(ts, dtype=np.int64)
    te = np.zeros_like(t) if ts_exchange is None else np.asarray(ts_exchange, dtype=np.int64)
    return TradeSeries(name, "SYM", PRICE_EXP, SIZE_EXP, t, te, np.asarray(price, dtype=np.int64),
                       np.asarray(size, dtype=np.int64), np.asarray(side, dtype=np.uint8))


def venue(quotes: TopSeries, *, book: BookSeries | None = None,
          trade_series: TradeSeries | None = None) -> VenueSeries:
    name = quotes.venue
    return VenueSeries(name, "SYM", PRICE_EXP, SIZE_EXP, 1, False,
                       book if book is not None else empty_book(name),
                       quotes, trade_series if trade_series is not None else trades(name=name))


def poisson_times(rng: np.random.Generator, rate_per_s: float, duration_s: float) -> npt.NDArray[np.int64]:
    """Sorted, distinct event times (ns) of a Poisson clock."""
    n = rng.poisson(rate_per_s * duration_s)
    return np.unique(rng.integers(0, int(duration_s * 1e9), size=n))
