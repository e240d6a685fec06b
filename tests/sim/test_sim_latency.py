"""Latency models beside the constant one: seeded samples, a seeded uniform range, a table
over time; and the rule that nothing overtakes on a venue's connection. Hand-worked cases,
and the core against the plain-Python reference (tests/reference/ref_sim.py), whose
generator is checked against splitmix64's published output."""

from __future__ import annotations

import numpy as np
import pytest

from crossbook import InvalidInputError, _core
from crossbook.sim import (
    EmpiricalLatency,
    Latency,
    ResponseKind,
    SimResults,
    Simulator,
    TableLatency,
    TimeInForce,
    UniformLatency,
    VenueConfig,
)
from tests.reference.ref_latency import RefEmpirical, RefTable, RefUniform, SplitMix64
from tests.reference.ref_sim import RefSim, RefVenue
from tests.sim._util import as_dicts, level_rows

BID, ASK = 1, 2
ADD, F_LAST = 1, 1


def test_reference_generator_is_splitmix64() -> None:
    """The first outputs for seed 1234567 of Vigna's splitmix64.c."""
    g = SplitMix64(1234567)
    assert [g.next() for _ in range(5)] == [
        6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431,
        16408922859458223821,
    ]


def test_bounded_draw_redraws_the_biased_products_as_the_reference_does() -> None:
    """Range [0, 2**62 + 2**61]: about one draw in four falls in the biased low part and is
    drawn again. Seed 6's first two entry draws both do, so the delay comes from the third."""
    hi = 2**62 + 2**61
    sim = Simulator([VenueConfig(latency=UniformLatency((0, hi), (0, 0), seed=6))])
    sim.submit(0, BID, 1, 90)
    sim.advance(hi + 1)
    arrival = int(sim.results().orders["ts_arrival_ns"][0])
    assert arrival == RefUniform((0, hi), (0, 0), 6).delay(0, 0)
    root = SplitMix64(6)
    first = SplitMix64(root.next()).next()
    assert arrival != first * (hi + 1) >> 64  # what a draw without the redraw would give


def _resting_bids(sim: Simulator, venue: int, decisions: list[int]) -> list[tuple[int, int]]:
    """A GTC bid at 90 (nothing to take) decided at each time; its (arrival, ack delivery)."""
    for ts in decisions:
        sim.advance(ts)
        sim.submit(venue, BID, 1, 90)
    sim.advance(10_000)
    res = sim.results()
    acks = {r["order_id"]: r["ts_delivery_ns"] for r in as_dicts(res.responses)}
    return [(o["ts_arrival_ns"], acks[o["order_id"]]) for o in as_dicts(res.orders)
            if o["venue"] == venue]


TABLE = TableLatency([(100, 10, 1), (200, 50, 2), (300, 5, 3)])


def test_table_rows_apply_from_their_time_exactly_and_the_first_row_before_it() -> None:
    sim = Simulator([VenueConfig(latency=TABLE)])
    # Entry by decision time, response by the venue's send time (the arrival):
    # 0 -> first row (10; answer at 10 -> 1); 199 -> 10 (209 -> 2); 200 -> 50 (250 -> 2);
    # 299 -> 50 (349 -> 3).
    assert _resting_bids(sim, 0, [0, 199, 200, 299]) == [(10, 11), (209, 211), (250, 252),
                                                          (349, 352)]


def test_a_request_never_overtakes_an_earlier_one_to_the_same_venue() -> None:
    """Submitted at 299 (entry 50, arrives 349); cancelled at 300 (entry 5 would arrive at
    305, before the order): the cancel arrives at 349, after the order, and cancels it."""
    sim = Simulator([VenueConfig(latency=TABLE)])
    sim.advance(299)
    oid = sim.submit(0, BID, 1, 90)
    sim.advance(300)
    sim.cancel(oid)
    sim.advance(1_000)
    responses = as_dicts(sim.results().responses)
    answers = [(r["kind"], r["ts_venue_ns"], r["ts_delivery_ns"]) for r in responses]
    assert answers == [(ResponseKind.ACCEPTED, 349, 352), (ResponseKind.CANCELLED, 349, 352)]


def _run(latency: Latency, n: int = 30) -> SimResults:
    """IOC buys decided every 1000 ns against a deep ask; delays stay below 1000."""
    sim = Simulator([VenueConfig(latency=latency)])
    sim.add_levels(0, level_rows([(0, 1, 101, 10**6, 0, ASK, ADD, F_LAST)]))
    for i in range(n):
        sim.advance(1_000 * (i + 1))
        sim.submit(0, BID, 2 + i % 3, 101, tif=TimeInForce.IOC)
    sim.advance(1_000 * (n + 2))
    return sim.results()


def _same(a: SimResults, b: SimResults) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def _entry_delays(res: SimResults) -> list[int]:
    orders = res.orders
    return [int(a) - int(d) for a, d in zip(orders["ts_arrival_ns"], orders["ts_decision_ns"])]


def test_empirical_draws_its_samples_the_same_for_a_seed_and_differently_for_another() -> None:
    model = EmpiricalLatency([1, 5, 9, 13], [2, 4, 8], seed=7)
    a, b = _run(model), _run(EmpiricalLatency([1, 5, 9, 13], [2, 4, 8], seed=7))
    assert _same(a, b)
    delays = _entry_delays(a)
    assert set(delays) == {1, 5, 9, 13}
    ref = RefEmpirical([1, 5, 9, 13], [2, 4, 8], 7)
    assert delays == [ref.delay(0, 0) for _ in delays]
    other = _run(EmpiricalLatency([1, 5, 9, 13], [2, 4, 8], seed=8))
    assert _entry_delays(other) != delays


def test_uniform_draws_within_its_range_both_ends_included() -> None:
    delays = _entry_delays(_run(UniformLatency((3, 6), (0, 9), seed=11), n=60))
    assert set(delays) == {3, 4, 5, 6}
    assert _entry_delays(_run(UniformLatency((4, 4), (0, 0), seed=11))) == [4] * 30


@pytest.mark.parametrize("latency, ref", [
    (EmpiricalLatency([1, 5, 9, 13], [0, 300, 40], seed=3),
     RefEmpirical([1, 5, 9, 13], [0, 300, 40], 3)),
    (UniformLatency((0, 400), (0, 900), seed=99), RefUniform((0, 400), (0, 900), 99)),
    (TableLatency([(0, 3, 700), (5_000, 800, 1), (9_000, 0, 0)]),
     RefTable([(0, 3, 700), (5_000, 800, 1), (9_000, 0, 0)])),
], ids=["empirical", "uniform", "table"])
def test_core_matches_the_reference_and_answers_never_overtake(
        latency: Latency, ref: RefEmpirical | RefUniform | RefTable) -> None:
    res = _run(latency)
    r = RefSim([RefVenue(0, 0, 0, 0, latency=ref)])
    r.venues[0].levels = [(0, 1, 101, 10**6, 0, ASK, ADD, F_LAST)]
    for i in range(30):
        r.advance(1_000 * (i + 1))
        r.submit(0, BID, 1, TimeInForce.IOC, 101, 2 + i % 3, False)
    r.advance(1_000 * 32)
    assert as_dicts(res.orders) == [r.orders[i] for i in sorted(r.orders)]
    assert as_dicts(res.responses) == r.responses
    delivery = res.responses["ts_delivery_ns"].tolist()
    assert delivery == sorted(delivery)


def test_models_refuse_bad_parameters() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        EmpiricalLatency([], [1], seed=1)
    with pytest.raises(ValueError, match="response_ns"):
        EmpiricalLatency([1], [-1], seed=1)
    with pytest.raises(ValueError, match="seed"):
        EmpiricalLatency([1], [1], seed=2**64)
    with pytest.raises(ValueError, match="entry high"):
        UniformLatency((5, 4), (0, 1), seed=1)
    with pytest.raises(ValueError, match="not after"):
        TableLatency([(10, 1, 1), (10, 2, 2)])
    with pytest.raises(ValueError, match="at least one row"):
        TableLatency([])
    with pytest.raises(TypeError, match="entry_ns must be an int"):
        TableLatency([(0, 1.5, 1)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="must be an int"):
        EmpiricalLatency([1.0], [1], seed=1)  # type: ignore[list-item]
    # Measured latencies often come as numpy integers: taken exactly.
    measured = EmpiricalLatency(list(np.array([3, 4], dtype=np.int64)), list(np.array([5])), seed=1)
    assert measured.entry_ns == (3, 4) and type(measured.entry_ns[0]) is int


def test_the_core_refuses_bad_parameters_too() -> None:
    """What the Python records check, the core checks again (it is callable directly)."""
    core = _core.Simulator([VenueConfig().core_args()])
    with pytest.raises(InvalidInputError, match="samples are empty"):
        core.set_empirical_latency(0, [], [1], 1)
    with pytest.raises(InvalidInputError, match="0 <= lo <= hi"):
        core.set_uniform_latency(0, 2, 1, 0, 0, 1)
    with pytest.raises(InvalidInputError, match="not after"):
        core.set_table_latency(0, [(5, 1, 1), (4, 1, 1)])
    with pytest.raises(IndexError):
        core.set_table_latency(3, [(5, 1, 1)])
