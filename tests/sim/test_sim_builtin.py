"""The compiled cross-venue taker (run_builtin("cross-arb")) against its Python twin
(CrossArbTaker): the same orders, fills, answers and accounts, on the bundled Binance
slices and at the edges of its rule (fees, size cap, cooldown, sync)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from benchmarks.sim_workload import load_binance
from crossbook import dtypes
from crossbook.sim import (
    ConstantLatency,
    CrossArbParams,
    CrossArbTaker,
    Fees,
    SimResults,
    Simulator,
    TimeInForce,
    VenueConfig,
)
from tests.sim._util import as_dicts, level_rows

BID, ASK = 1, 2


def both(make: Callable[[], Simulator], params: CrossArbParams) -> SimResults:
    """Runs the compiled rule and its Python twin on two simulators from ``make``; they
    must agree on everything. Returns the results."""
    compiled = make().run_builtin("cross-arb", params)
    twin = CrossArbTaker(params)
    python = make().run(twin)
    for name in SimResults._fields:
        assert np.array_equal(getattr(compiled, name), getattr(python, name)), name
    return python


def binance_sim() -> Simulator:
    w = load_binance()
    sim = Simulator([VenueConfig(w.units.price_exp, w.units.size_exp,
                                 ConstantLatency(2_000_000, 3_000_000), Fees(100, 400),
                                 tick=v.tick, synced=False) for v in w.venues])
    for i, v in enumerate(w.venues):
        sim.add_levels(i, v.levels)
        sim.add_trades(i, v.trades)
    return sim


def test_compiled_cross_arb_equals_the_python_strategy_on_the_binance_slices() -> None:
    try:
        load_binance()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    res = both(binance_sim, CrossArbParams(max_size=1_000_000, cooldown_ns=50_000_000,
                                           taker_cbps=(0, 0, 0)))
    fills = as_dicts(res.fills)
    assert len(res.orders) > 1_000 and len(fills) > 1_000
    assert {f["venue"] for f in fills} == {0, 1, 2}
    assert all(o["tif"] == TimeInForce.IOC and o["size"] <= 1_000_000 for o in as_dicts(res.orders))


def quotes(ask0: int, bid1: int, *, ask_size: int = 5, bid_size: int = 7,
           entry_ns: int = 0) -> Simulator:
    """Venue 0 asks ``ask0``, venue 1 bids ``bid1``, each message's book again at 100, 200
    and 300 (a touch event each time: the sizes change by one)."""
    sim = Simulator([VenueConfig(latency=ConstantLatency(entry_ns, 0)) for _ in range(2)])
    for t, extra in ((100, 0), (200, 1), (300, 2)):
        sim.add_levels(0, level_rows([(t, t, ask0, ask_size + extra, 0, ASK, dtypes.UPDATE,
                                       dtypes.F_LAST)]))
        sim.add_levels(1, level_rows([(t, t, bid1, bid_size + extra, 0, BID, dtypes.UPDATE,
                                       dtypes.F_LAST)]))
    return sim


def legs(res: SimResults) -> list[tuple[int, int, int, int, int]]:
    return [(o["ts_decision_ns"], o["venue"], o["side"], o["price"], o["size"])
            for o in as_dicts(res.orders)]


@pytest.mark.parametrize(("bid1", "trades"), [(100, False), (101, False), (102, True)])
def test_the_edge_must_beat_both_fees_strictly(bid1: int, trades: bool) -> None:
    # ask 100 plus 1% (10,000 cbps) costs 101; the bid at 101 breaks even, 102 earns.
    params = CrossArbParams(max_size=3, cooldown_ns=10**9, taker_cbps=(10_000, 0))
    res = both(lambda: quotes(100, bid1), params)
    assert legs(res) == ([(100, 0, BID, 100, 3), (100, 1, ASK, bid1, 3)] if trades else [])


def test_each_leg_is_the_smaller_touch_size_capped_and_a_pair_waits_out_its_cooldown() -> None:
    # Touch events at 100 (venue 0, then venue 1: the first with both sides), 200 and 300.
    res = both(lambda: quotes(100, 101, ask_size=5, bid_size=4),
               CrossArbParams(max_size=10, cooldown_ns=200, taker_cbps=(0, 0)))
    assert legs(res) == [(100, 0, BID, 100, 4), (100, 1, ASK, 101, 4),
                         (300, 0, BID, 100, 5), (300, 1, ASK, 101, 5)]
    res = both(lambda: quotes(100, 101, ask_size=5, bid_size=4),
               CrossArbParams(max_size=2, cooldown_ns=201, taker_cbps=(0, 0)))
    assert legs(res) == [(100, 0, BID, 100, 2), (100, 1, ASK, 101, 2)]
    assert [(f["venue"], f["size"]) for f in as_dicts(res.fills)] == [(0, 2), (1, 2)]


def test_an_unsynced_venue_takes_no_part() -> None:
    def make() -> Simulator:
        sim = Simulator([VenueConfig(), VenueConfig(synced=False)])
        sim.add_levels(0, level_rows([(100, 100, 100, 5, 0, ASK, dtypes.UPDATE, dtypes.F_LAST)]))
        sim.add_levels(1, level_rows([(100, 100, 102, 5, 0, BID, dtypes.UPDATE, dtypes.F_LAST),
                                      (200, 200, 0, 0, 0, 0, dtypes.SIM_SYNCED, 0)]))
        return sim

    res = both(make, CrossArbParams(max_size=1, taker_cbps=(0, 0)))
    assert legs(res) == [(200, 0, BID, 100, 1), (200, 1, ASK, 102, 1)]


def test_parameters_are_checked() -> None:
    sim = quotes(100, 101)
    with pytest.raises(ValueError, match="one taker fee per venue"):
        sim.run_builtin("cross-arb", CrossArbParams(max_size=1, taker_cbps=(0,)))
    with pytest.raises(ValueError, match="unknown built-in"):
        sim.run_builtin("market-make", CrossArbParams(max_size=1))
    with pytest.raises(ValueError, match="max_size"):
        CrossArbParams(max_size=0)
    with pytest.raises(ValueError, match="cooldown_ns"):
        CrossArbParams(max_size=1, cooldown_ns=-1)
    with pytest.raises(TypeError, match="taker_cbps"):
        CrossArbParams(max_size=1, taker_cbps=(1.5,))  # type: ignore[arg-type]
