"""Spot/perpetual (or dated future) basis over time.

The basis is the derivative's price over the spot price, in bps of spot:
``(derivative - spot) / spot * 1e4``. From mids it says where the two markets
sit; from executable prices for a size it says what a trade would lock in:

- ``sell_perp_bps``: sell the derivative at its bid VWAP, buy spot at its ask
  VWAP (entering a cash-and-carry when the derivative is rich);
- ``buy_perp_bps``: buy the derivative at its ask VWAP, sell spot at its bid VWAP.

``sell_perp_bps <= buy_perp_bps`` whenever neither book is crossed: the gap is
the two spreads plus the depth walked. Funding payments (perpetuals) and the
time to expiry (futures) decide whether a basis is worth trading; both are left
to the user (see ``annualized_bps`` for a dated future).

Both books must be in common units (``normalize_book``, or a Scanner's books):
sizes in base units, prices at one exponent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from crossbook import L2Book, Side
from crossbook.arb.stream import BookNormalizer
from crossbook.arb.units import CommonUnits, Listing
from crossbook.messages import BookMessage, Message
from crossbook.sync import BookSync

__all__ = ["BASIS_SAMPLE", "BasisCollector", "BasisSeries", "annualized_bps"]

#: One basis sample; executable columns are NaN when a book cannot fill the size
#: (or no size was asked for).
BASIS_SAMPLE = np.dtype([
    ("ts_recv_ns", "<i8"),
    ("spot_mid", "<f8"),
    ("perp_mid", "<f8"),
    ("basis_bps", "<f8"),
    ("sell_perp_bps", "<f8"),
    ("buy_perp_bps", "<f8"),
])

_NS_PER_YEAR = 365 * 86_400 * 10**9


@dataclass(frozen=True, slots=True)
class BasisSeries:
    """The samples of one spot/derivative pair, one row per update of either book."""

    spot: str
    perp: str
    size: int | None  # the executable size, in common size units
    size_exp: int
    samples: npt.NDArray[np.void]

    def __len__(self) -> int:
        return len(self.samples)

    def column(self, name: str) -> npt.NDArray[Any]:
        return np.ascontiguousarray(self.samples[name])

    def stats(self) -> dict[str, float | int | None]:
        """Count, mean, min, max and last of the mid basis and of both executable
        bases (None where there is no sample), and the time-weighted mean of the
        mid basis (each sample held until the next)."""
        out: dict[str, float | int | None] = {"samples": len(self)}
        for col in ("basis_bps", "sell_perp_bps", "buy_perp_bps"):
            v = self.samples[col]
            v = v[~np.isnan(v)]
            for stat, f in (("mean", np.mean), ("min", np.min), ("max", np.max)):
                out[f"{col}_{stat}"] = float(f(v)) if len(v) else None
            out[f"{col}_last"] = float(v[-1]) if len(v) else None
        out["basis_bps_time_mean"] = _time_mean(self.samples)
        return out


def _time_mean(s: npt.NDArray[np.void]) -> float | None:
    if len(s) < 2:
        return float(s["basis_bps"][0]) if len(s) else None
    dt = np.diff(s["ts_recv_ns"]).astype(np.float64)
    if dt.sum() <= 0:
        return float(np.mean(s["basis_bps"]))
    return float(np.sum(s["basis_bps"][:-1] * dt) / dt.sum())


class BasisCollector:
    """Samples the basis between a spot book and a derivative book during a replay.

    Call ``sample(ts_recv_ns, spot_book, perp_book)`` after each update of either
    (a Scanner's ``on_update`` hook does it); a sample is taken when both books
    have two sides. ``size`` (common size mantissa) adds the executable bases.
    """

    def __init__(self, spot: str, perp: str, size: int | None = None, size_exp: int = 0,
                 capacity: int = 4096) -> None:
        if size is not None and size <= 0:
            raise ValueError(f"size must be > 0, got {size}")
        self.spot, self.perp, self.size, self.size_exp = spot, perp, size, size_exp
        self._rows = np.zeros(capacity, dtype=BASIS_SAMPLE)
        self._n = 0

    def sample(self, ts_recv_ns: int, spot_book: L2Book | None, perp_book: L2Book | None) -> bool:
        if spot_book is None or perp_book is None:
            return False
        if spot_book.price_exp != perp_book.price_exp:
            raise ValueError("spot and derivative books must share a price exponent")
        spot_mid, perp_mid = spot_book.mid(), perp_book.mid()
        if spot_mid is None or perp_mid is None:
            return False
        scale = 10.0 ** -spot_book.price_exp
        sell = buy = math.nan
        if self.size is not None:
            sell = _exec_bps(perp_book, Side.BID, spot_book, Side.ASK, self.size)
            buy = _exec_bps(perp_book, Side.ASK, spot_book, Side.BID, self.size)
        if self._n == len(self._rows):
            self._rows = np.concatenate([self._rows, np.zeros_like(self._rows)])
        self._rows[self._n] = (ts_recv_ns, spot_mid * scale, perp_mid * scale,
                               (perp_mid - spot_mid) / spot_mid * 1e4, sell, buy)
        self._n += 1
        return True

    def result(self) -> BasisSeries:
        return BasisSeries(self.spot, self.perp, self.size, self.size_exp,
                           self._rows[: self._n].copy())


class BasisMonitor:
    """A spot listing and a derivative listing followed straight from a replay: pass
    ``on_message`` as the Replay's callback (one Replay per venue, or a wrapper that
    calls several). Each listing's book is converted to ``units`` as it changes; a
    sample is taken after every message of either book while both are synced.

    ``exps`` gives each listing's venue (price_exp, size_exp); ``size`` is in base
    units at ``units.size_exp`` (None: mids only).
    """

    def __init__(self, spot: Listing, perp: Listing, units: CommonUnits,
                 exps: dict[str, tuple[int, int]], size: int | None = None) -> None:
        self._books = {(li.venue, li.symbol): BookNormalizer(li, *exps[li.name], units)
                       for li in (spot, perp)}
        self._spot, self._perp = (spot.venue, spot.symbol), (perp.venue, perp.symbol)
        self.collector = BasisCollector(spot.name, perp.name, size, units.size_exp)

    def on_message(self, msg: Message, sync: BookSync | None) -> None:
        if not isinstance(msg, BookMessage) or sync is None:
            return
        norm = self._books.get((msg.venue, msg.symbol))
        if norm is None:
            return
        norm.on_message(msg, sync)
        spot, perp = self._books[self._spot], self._books[self._perp]
        if spot.synced and perp.synced:
            self.collector.sample(msg.ts_recv_ns, spot.book, perp.book)

    def result(self) -> BasisSeries:
        return self.collector.result()


def _exec_bps(perp: L2Book, perp_side: Side, spot: L2Book, spot_side: Side, size: int) -> float:
    """(derivative VWAP - spot VWAP) / spot VWAP in bps for ``size`` taken on the given
    sides; NaN when either side is too thin. Exact up to the final division."""
    # The core's own walk (L2Book.cost_to_fill without its wrapper, which a book copied
    # out of the compiled scanner, a plain core L2Book, does not have).
    p_filled, p_notional, _ = perp._cost_to_fill(perp_side, size)
    s_filled, s_notional, _ = spot._cost_to_fill(spot_side, size)
    if p_filled < size or s_filled < size or s_notional == 0:
        return math.nan
    # Same size on both legs: the VWAP ratio is the notional ratio.
    return float((p_notional - s_notional) / s_notional * 1e4)


def annualized_bps(basis_bps: npt.ArrayLike, ts_recv_ns: npt.ArrayLike,
                   expiry_ns: int) -> npt.NDArray[np.float64]:
    """A dated future's basis as a simple yearly rate (bps per year) to its expiry;
    NaN at or after expiry."""
    b = np.asarray(basis_bps, dtype=np.float64)
    left = (expiry_ns - np.asarray(ts_recv_ns, dtype=np.int64)).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(left > 0, b * _NS_PER_YEAR / left, np.nan)
