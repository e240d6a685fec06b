"""The simulator benchmarks' data: the three bundled Binance slices (spot, USD-M and
COIN-M BTC, the same 90 seconds on one local clock) replayed through parsing and sync
into LEVEL_EVENT rows (with SIM_SYNCED/SIM_UNSYNCED rows where the sync starts or stops
trusting a book) and TRADE_EVENT rows, all three in one set of common units so that one
venue's prices compare with another's, as ``crossbook scan`` compares them.

Prepared once per process (parsing costs seconds; the simulator replays it in
milliseconds), outside every timed part, by the package's loader (crossbook.sim.feeds).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

import crossbook
from crossbook.arb.units import CommonUnits
from crossbook.sim.feeds import load_captures

SLICES = tuple(sorted((Path(crossbook.__file__).parent / "data").glob("binance_*.cap.gz")))


@dataclass(frozen=True)
class VenueFeed:
    name: str
    levels: npt.NDArray[np.void]  # LEVEL_EVENT, common units
    trades: npt.NDArray[np.void]  # TRADE_EVENT, common units
    tick: int  # the book's grid at the common price exponent: a speed hint (VenueConfig.tick)


@dataclass(frozen=True)
class SimWorkload:
    units: CommonUnits
    venues: tuple[VenueFeed, ...]

    @property
    def level_rows(self) -> int:
        return sum(len(v.levels) for v in self.venues)

    @property
    def rows(self) -> int:
        """Every feed row the simulator processes: level, status and trade rows."""
        return sum(len(v.levels) + len(v.trades) for v in self.venues)

    @property
    def end_ns(self) -> int:
        return max(int(a["ts_recv_ns"][-1]) for v in self.venues for a in (v.levels, v.trades)
                   if len(a))

    def first(self, n: int) -> SimWorkload:
        """The rows received before the time by which ``n`` rows (of all venues) were
        received: a shorter run of the same feeds, whole messages only."""
        if n >= self.rows:
            return self
        ts = np.sort(np.concatenate([a["ts_recv_ns"] for v in self.venues
                                     for a in (v.levels, v.trades)]))
        cut = int(ts[n])
        return SimWorkload(self.units, tuple(
            VenueFeed(v.name, v.levels[v.levels["ts_recv_ns"] < cut],
                      v.trades[v.trades["ts_recv_ns"] < cut], v.tick) for v in self.venues))


@functools.cache
def load_binance() -> SimWorkload:
    """The three slices, in common units (see the module docstring)."""
    if len(SLICES) != 3:
        raise FileNotFoundError("the three bundled Binance slices (src/crossbook/data) are missing")
    feeds = load_captures(list(SLICES))
    first = feeds.venues[0]
    return SimWorkload(CommonUnits(first.price_exp, first.size_exp),
                       tuple(VenueFeed(f.venue, f.levels, f.trades, f.tick) for f in feeds.venues))
