"""Execution simulator throughput: the three bundled Binance slices (spot, USD-M and
COIN-M BTC, 90 s on one clock, benchmarks/sim_workload.py) merged in one simulation
with three venues, in feed rows (level, status and trade rows) per second.

Three ways to run it, each timed on a fresh simulator (building it is not timed):

* no strategy at all: the event loop and the books alone;
* the cross-venue taker as a Python strategy, called only when a touch changes
  (``CrossArbTaker.on_touch``; issue 10's target: 2 M rows/s);
* the same rule compiled into the core, ``run_builtin("cross-arb")``: no Python call
  during the run (target: 10 M rows/s).

The strategy counts no fees (``taker_cbps=(0, 0, 0)``) so that it trades, a few
thousand pairs in the full slices; the venues charge theirs. Each run asserts its
results: the compiled run's orders, fills, answers and accounts equal the Python run's.
CROSSBOOK_BENCH_N limits the rows (the first N by receive time); CROSSBOOK_BENCH_ROUNDS
the rounds (default 5).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from benchmarks.sim_workload import SimWorkload, load_binance
from crossbook.sim import (
    ConstantLatency,
    CrossArbParams,
    CrossArbTaker,
    Fees,
    SimResults,
    Simulator,
    VenueConfig,
)

N = int(os.environ.get("CROSSBOOK_BENCH_N", "1000000"))
ROUNDS = int(os.environ.get("CROSSBOOK_BENCH_ROUNDS", "5"))
TARGETS = {"python_touch": 2_000_000, "compiled": 10_000_000}  # rows/s, from the issue
ENTRY_NS, RESPONSE_NS = 2_000_000, 3_000_000
VENUE_FEES = Fees(maker_cbps=100, taker_cbps=400)  # 1 bp maker, 4 bps taker
PARAMS = CrossArbParams(max_size=1_000_000, cooldown_ns=50_000_000, taker_cbps=(0, 0, 0))


@pytest.fixture(scope="module")
def workload() -> SimWorkload:
    try:
        return load_binance().first(N)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


def make_sim(w: SimWorkload) -> Simulator:
    sim = Simulator([VenueConfig(w.units.price_exp, w.units.size_exp,
                                 ConstantLatency(ENTRY_NS, RESPONSE_NS), VENUE_FEES, tick=v.tick,
                                 synced=False, name=v.name) for v in w.venues])
    for i, v in enumerate(w.venues):
        sim.add_levels(i, v.levels)
        sim.add_trades(i, v.trades)
    return sim


def no_callback(sim: Simulator, end_ns: int) -> SimResults:
    sim.advance(end_ns)
    return sim.results()


def python_touch(sim: Simulator, end_ns: int) -> SimResults:
    return sim.run(CrossArbTaker(PARAMS), until_ns=end_ns)


def compiled(sim: Simulator, end_ns: int) -> SimResults:
    return sim.run_builtin("cross-arb", PARAMS, until_ns=end_ns)


def run_measured(benchmark: Any, run: Callable[[Simulator, int], SimResults], w: SimWorkload,
                 goal: str | None) -> SimResults:
    """benchmark.pedantic on fresh simulators, plus rows/s in extra_info (timed here
    too, so that a disabled run still reports a rate)."""
    seconds: list[float] = []

    def timed(sim: Simulator) -> SimResults:
        t0 = time.perf_counter()
        out = run(sim, w.end_ns)
        seconds.append(time.perf_counter() - t0)
        return out

    result: SimResults = benchmark.pedantic(
        timed, setup=lambda: ((make_sim(w),), {}), rounds=ROUNDS,
        warmup_rounds=1 if ROUNDS > 1 else 0)
    median = benchmark.stats.stats.median if benchmark.enabled else statistics.median(seconds)
    benchmark.extra_info.update(rows=w.rows, median_s=median, rows_per_s=w.rows / median)
    if goal is not None:
        benchmark.extra_info.update(target_rows_per_s=TARGETS[goal],
                                    meets_target=w.rows / median >= TARGETS[goal])
    return result


def assert_same(a: SimResults, b: SimResults) -> None:
    for name in SimResults._fields:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_sim_no_callback(benchmark: Any, workload: SimWorkload) -> None:
    res = run_measured(benchmark, no_callback, workload, None)
    assert len(res.orders) == 0 and not res.accounts["volume"].any()


def test_sim_python_touch(benchmark: Any, workload: SimWorkload) -> None:
    res = run_measured(benchmark, python_touch, workload, "python_touch")
    assert_same(res, compiled(make_sim(workload), workload.end_ns))
    if workload.rows > 100_000:
        assert len(res.fills) > 100


def test_sim_compiled(benchmark: Any, workload: SimWorkload) -> None:
    res = run_measured(benchmark, compiled, workload, "compiled")
    assert_same(res, python_touch(make_sim(workload), workload.end_ns))
