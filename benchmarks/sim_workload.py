"""The simulator benchmarks' data: the three bundled Binance slices (spot, USD-M and
COIN-M BTC, the same 90 seconds on one local clock) replayed through parsing and sync
into LEVEL_EVENT rows (with SIM_SYNCED/SIM_UNSYNCED rows where the sync starts or stops
trusting a book) and TRADE_EVENT rows, all three in one set of common units so that one
venue's prices compare with another's, as ``crossbook scan`` compares them.

Prepared once per process (parsing costs seconds; the simulator replays it in
milliseconds), outside every timed part. The package's own capture loader is being
written elsewhere; this copy only serves the benchmarks and their tests.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

import crossbook
from crossbook import Side, dtypes
from crossbook.arb.session import discover_instruments
from crossbook.arb.stream import Change, NormalizedFeed
from crossbook.arb.units import CommonUnits, UnitConverter, common_units, default_listing
from crossbook.messages import BookMessage, Message, Trade
from crossbook.replay import Replay, open_capture
from crossbook.sync import BookSync

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


class _Collector:
    """One capture's book and trades, converted to common units as they come."""

    def __init__(self, units: CommonUnits) -> None:
        self.units = units
        self.feed: NormalizedFeed | None = None
        self.levels: list[npt.NDArray[np.void]] = []
        self.trades: list[tuple[int, int, int, int, int]] = []
        self.conv: UnitConverter | None = None
        self.tick = 1

    def on_message(self, msg: Message, sync: BookSync | None) -> None:
        if sync is None:
            return
        if self.feed is None:
            inst = sync.instrument
            self.feed = NormalizedFeed(default_listing(inst), inst.price_exp, inst.size_exp,
                                       self.units)
            self.conv = self.feed.conv
        if isinstance(msg, BookMessage):
            self._book(msg, sync)
        elif isinstance(msg, Trade) and msg.aggressor is not None and self.conv is not None:
            size = self.conv.size(msg.price, msg.size)
            if size > 0:
                self.trades.append((msg.ts_exchange_ns or 0, msg.ts_recv_ns,
                                    self.conv.price(msg.price), size,
                                    1 if msg.aggressor is Side.BID else 2))

    def _book(self, msg: BookMessage, sync: BookSync) -> None:
        assert self.feed is not None
        change, levels = self.feed.update(msg, sync)
        self.tick = self.feed.conv.tick(sync.book.tick)
        if levels is not None:
            self.levels.append(levels)
        if change in (Change.SYNCED, Change.UNSYNCED):
            status = np.zeros(1, dtypes.LEVEL_EVENT)
            status["ts_recv_ns"] = msg.ts_recv_ns
            status["action"] = dtypes.SIM_SYNCED if change is Change.SYNCED else dtypes.SIM_UNSYNCED
            self.levels.append(status)

    def result(self, name: str) -> VenueFeed:
        trades = np.zeros(len(self.trades), dtypes.TRADE_EVENT)
        if self.trades:
            cols = np.array(self.trades, dtype=np.int64)
            for i, f in enumerate(("ts_exchange_ns", "ts_recv_ns", "price", "size", "side")):
                trades[f] = cols[:, i]
        return VenueFeed(name, np.concatenate(self.levels), trades, self.tick)


@functools.cache
def load_binance() -> SimWorkload:
    """The three slices, in common units (see the module docstring)."""
    if len(SLICES) != 3:
        raise FileNotFoundError("the three bundled Binance slices (src/crossbook/data) are missing")
    insts = []
    for path in SLICES:
        parser, records = open_capture(path)
        insts += discover_instruments(parser.venue, records)
    units = common_units((default_listing(i), i.price_exp, i.size_exp) for i in insts)
    venues = []
    for path in SLICES:
        parser, records = open_capture(path)
        col = _Collector(units)
        replay = Replay(parser, on_message=col.on_message)
        for rec in records:
            replay.feed(rec)
        venues.append(col.result(parser.venue))
    return SimWorkload(units, tuple(venues))
