"""Walk-forward: choose parameters on one stretch of time, judge them on the next.

The first risk of a backtest is overfitting: parameters picked on the whole run look better
than they would have been. :func:`windows` splits a run's time range into consecutive
(in-sample, out-of-sample) windows; :func:`walk_forward` runs a strategy factory over a
parameter grid in each in-sample window, keeps the best by ``score`` (PnL by default; the
first of equal scores), and runs that choice alone on the out-of-sample window that follows.
Only the out-of-sample results say what the procedure would have earned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

from crossbook.sim.backtest import run_backtest
from crossbook.sim.feeds import VenueFeed
from crossbook.sim.models import VenueConfig
from crossbook.sim.report import BacktestReport, build_report
from crossbook.sim.strategy import Strategy

__all__ = ["Window", "WalkForwardStep", "pnl_score", "walk_forward", "windows"]

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Window:
    """In-sample ``(in_start_ns, split_ns]``, then out-of-sample ``(split_ns, out_end_ns]``."""

    in_start_ns: int
    split_ns: int
    out_end_ns: int


def windows(start_ns: int, end_ns: int, *, in_sample_ns: int, out_sample_ns: int,
            step_ns: int | None = None) -> list[Window]:
    """Consecutive windows over ``(start_ns, end_ns]``: the k-th in-sample period starts
    ``k * step_ns`` after ``start_ns`` (default step: the out-of-sample length, so the
    out-of-sample periods tile the range without overlap); windows that would pass
    ``end_ns`` are left out."""
    step = out_sample_ns if step_ns is None else step_ns
    if in_sample_ns <= 0 or out_sample_ns <= 0 or step <= 0:
        raise ValueError("in-sample, out-of-sample and step lengths must be > 0")
    out = []
    t = start_ns
    while t + in_sample_ns + out_sample_ns <= end_ns:
        out.append(Window(t, t + in_sample_ns, t + in_sample_ns + out_sample_ns))
        t += step
    return out


def pnl_score(report: BacktestReport) -> Fraction:
    return Fraction(report.summary["pnl"])


@dataclass(slots=True)
class WalkForwardStep(Generic[P]):
    window: Window
    chosen: P
    in_sample_scores: list[Fraction]  # one per grid entry, in grid order
    out_of_sample: BacktestReport


def walk_forward(feeds: Sequence[VenueFeed], configs: Sequence[VenueConfig],
                 factory: Callable[[P], Strategy], grid: Sequence[P], wins: Sequence[Window],
                 score: Callable[[BacktestReport], Fraction] = pnl_score,
                 ) -> list[WalkForwardStep[P]]:
    """For each window: every grid entry in-sample, the best one out-of-sample."""
    if not grid:
        raise ValueError("walk_forward needs at least one parameter set")
    steps = []
    for w in wins:
        scores = [score(build_report(run_backtest(feeds, configs, factory(p),
                                                  start_ns=w.in_start_ns, end_ns=w.split_ns)))
                  for p in grid]
        best = grid[max(range(len(grid)), key=lambda i: (scores[i], -i))]
        out = build_report(run_backtest(feeds, configs, factory(best), start_ns=w.split_ns,
                                        end_ns=w.out_end_ns))
        steps.append(WalkForwardStep(w, best, scores, out))
    return steps
