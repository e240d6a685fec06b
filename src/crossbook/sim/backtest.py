"""One backtest: feeds into simulated venues, a strategy run over a time window, the results.

The window is ``(start_ns, end_ns]`` on the receive clock: rows up to ``start_ns`` build the
books with no strategy listening (it never sees them), then the strategy runs to ``end_ns``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
import numpy as np
import numpy.typing as npt

from crossbook.arb.fees import DEFAULT_COSTS, DEFAULT_LATENCY_MS
from crossbook.sim.feeds import VenueFeed
from crossbook.sim.models import ConstantLatency, Fees, VenueConfig
from crossbook.sim.records import SimResults
from crossbook.sim.simulator import Simulator
from crossbook.sim.strategy import Strategy
from crossbook.timeutil import NS_PER_MS, NS_PER_S

__all__ = ["BacktestRun", "DEFAULT_LATENCY", "run_backtest", "venue_configs"]

#: Entry and response latency of a venue given none: the scanner's default expected latency.
DEFAULT_LATENCY = ConstantLatency(DEFAULT_LATENCY_MS * NS_PER_MS, DEFAULT_LATENCY_MS * NS_PER_MS)
_PROGRESS_STEP_NS = NS_PER_S


@dataclass(slots=True)
class BacktestRun:
    """What a run used and produced; ``crossbook.sim.report`` reads it."""

    feeds: list[VenueFeed]
    configs: list[VenueConfig]
    strategy: Strategy
    results: SimResults
    start_ns: int
    end_ns: int


def venue_configs(feeds: Sequence[VenueFeed], latency: Mapping[str, ConstantLatency] | None = None,
                  fees: Mapping[str, Fees] | None = None) -> list[VenueConfig]:
    """One VenueConfig per feed. Keys are venue names as crossbook names them; a venue not
    given gets DEFAULT_LATENCY and its default fees (crossbook.arb.fees.DEFAULT_COSTS; a
    KeyError naming it when it has none)."""
    latency, fees = latency or {}, fees or {}
    known = {f.venue for f in feeds}
    for what, given in (("latency", latency), ("fees", fees)):
        unknown = sorted(set(given) - known)
        if unknown:
            raise KeyError(f"{what} for {', '.join(unknown)}: no such venue in the captures "
                           f"(venues: {', '.join(sorted(known))})")
    return [f.config(latency.get(f.venue, DEFAULT_LATENCY), fees.get(f.venue) or _fees(f.venue))
            for f in feeds]


def _fees(venue: str) -> Fees:
    if venue not in DEFAULT_COSTS:
        raise KeyError(f"no fees known for venue {venue!r}: give them (Fees, or --fees "
                       f"{venue}=MAKER_BPS/TAKER_BPS)")
    return Fees.from_costs(DEFAULT_COSTS[venue])


def run_backtest(feeds: Sequence[VenueFeed], configs: Sequence[VenueConfig], strategy: Strategy,
                 *, start_ns: int | None = None, end_ns: int | None = None,
                 on_progress: Callable[[int], None] | None = None) -> BacktestRun:
    """Runs ``strategy`` over the feeds in ``(start_ns, end_ns]`` (default: all of them).

    ``on_progress(feed rows run so far)`` is called after each second of receive time."""
    if not feeds:
        raise ValueError("a backtest needs at least one venue feed")
    if len(configs) != len(feeds):
        raise ValueError(f"{len(feeds)} feeds but {len(configs)} venue configs")
    sim = Simulator(configs)
    stamps: list[npt.NDArray[np.int64]] = []  # receive times of every venue's rows
    for i, f in enumerate(feeds):
        levels, trades = f.levels, f.trades
        if end_ns is not None:
            levels = levels[: int(np.searchsorted(levels["ts_recv_ns"], end_ns, side="right"))]
            trades = trades[: int(np.searchsorted(trades["ts_recv_ns"], end_ns, side="right"))]
        sim.add_levels(i, levels)
        sim.add_trades(i, trades)
        stamps += [levels["ts_recv_ns"], trades["ts_recv_ns"]]
    present = [ts for ts in stamps if len(ts)]
    end = max((int(ts[-1]) for ts in present), default=0) if end_ns is None else end_ns
    if start_ns is None:
        start = min((int(ts[0]) for ts in present), default=1) - 1
    else:
        start = start_ns
        sim.advance(start_ns)
    strategy.on_start(sim)
    t = start
    while t < end:
        t = min(t + _PROGRESS_STEP_NS, end)
        sim.advance(t, strategy)
        if on_progress is not None:
            on_progress(sum(int(np.searchsorted(ts, t, side="right")) for ts in present))
    return BacktestRun(list(feeds), list(configs), strategy, sim.results(), start, end)
