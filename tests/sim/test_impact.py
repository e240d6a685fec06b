"""Market impact of the strategy's own taker fills (VenueConfig.impact), by hand.

Asks 101 x 5 and 102 x 5, bids 99 x 5; Impact(price_step=1, size_unit=1, decay_ns=100):
a taker fill of q shifts the book by q price units, decaying linearly over 100 ns.
"""

from __future__ import annotations

import pytest

from crossbook import dtypes
from crossbook.sim import Impact, OrderStatus, Simulator, TimeInForce, VenueConfig
from tests.sim._util import level_rows

BID, ASK = 1, 2
IMPACT = Impact(price_step=1, size_unit=1, decay_ns=100)


def _sim(impact: Impact | None = IMPACT) -> Simulator:
    sim = Simulator([VenueConfig(impact=impact), VenueConfig()])
    book: list[tuple[int, ...]] = [(0, 1, 101, 5, 0, ASK, dtypes.ADD, 0), (0, 1, 102, 5, 0, ASK, dtypes.ADD, 0),
            (0, 1, 99, 5, 0, BID, dtypes.ADD, dtypes.F_LAST)]
    sim.add_levels(0, level_rows(book))
    sim.add_levels(1, level_rows(book))
    return sim


def _at(sim: Simulator, ts: int, venue: int, side: int, size: int, price: int | None, *,
        tif: TimeInForce = TimeInForce.GTC, post_only: bool = False) -> int:
    sim.advance(ts)
    oid = sim.submit(venue, side, size, price, tif=tif, post_only=post_only)
    sim.advance(ts)
    return oid


def _fills(sim: Simulator, oid: int) -> list[tuple[int, int]]:
    f = sim.results().fills
    return [(int(r["price"]), int(r["size"])) for r in f[f["order_id"] == oid]]


def test_a_taker_fill_shifts_what_later_orders_meet_and_the_shift_decays() -> None:
    sim = _sim()
    first = _at(sim, 10, 0, BID, 3, None)
    assert _fills(sim, first) == [(101, 3)]  # no impact before the first fill
    # Shift 3 at once: the 2 left at 101 are met at 104.
    second = _at(sim, 10, 0, BID, 2, 104, tif=TimeInForce.IOC)
    assert _fills(sim, second) == [(104, 2)]
    # 50 ns on: trunc(3 * 50 / 100) + trunc(2 * 50 / 100) = 2; a sell meets the bid at 101.
    sell = _at(sim, 60, 0, ASK, 1, None)
    assert _fills(sim, sell) == [(101, 1)]
    # 101 is all taken; once every kick has decayed, 102 is met at 102.
    late = _at(sim, 200, 0, BID, 1, 102, tif=TimeInForce.IOC)
    assert _fills(sim, late) == [(102, 1)]


def test_limits_and_post_only_see_the_shifted_book() -> None:
    sim = _sim()
    _at(sim, 10, 0, BID, 3, None)
    # Shift 3: the asks are met at 104 and 105, so a post-only bid at 102 rests...
    rests = _at(sim, 10, 0, BID, 1, 102, post_only=True)
    # ...and an IOC bid at 103 finds nothing.
    nothing = _at(sim, 10, 0, BID, 1, 103, tif=TimeInForce.IOC)
    orders = sim.results().orders
    assert orders["status"][rests - 1] == OrderStatus.OPEN
    assert orders["status"][nothing - 1] == OrderStatus.CANCELLED and not _fills(sim, nothing)


def test_impact_is_off_by_default_and_per_venue() -> None:
    sim = _sim(None)
    _at(sim, 10, 0, BID, 3, None)
    assert _fills(sim, _at(sim, 10, 0, BID, 2, 104, tif=TimeInForce.IOC)) == [(101, 2)]
    sim = _sim()
    _at(sim, 10, 0, BID, 3, None)
    assert _fills(sim, _at(sim, 10, 1, BID, 2, 104, tif=TimeInForce.IOC)) == [(101, 2)]


def test_the_kick_grows_with_the_size_and_rounds_toward_zero() -> None:
    sim = _sim(Impact(price_step=1, size_unit=2, decay_ns=100))
    _at(sim, 10, 0, ASK, 3, None)  # sells 3 at 99: kick trunc(-3 / 2) = -1
    assert _fills(sim, _at(sim, 10, 0, BID, 1, 100, tif=TimeInForce.IOC)) == [(100, 1)]


@pytest.mark.parametrize("bad", [dict(price_step=-1), dict(size_unit=0), dict(decay_ns=0)])
def test_bad_parameters_are_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Impact(**{"price_step": 1, "size_unit": 1, "decay_ns": 1, **bad})


def test_a_shifted_price_stays_at_least_one() -> None:
    sim = _sim(Impact(price_step=1000, size_unit=1, decay_ns=100))
    _at(sim, 10, 0, ASK, 3, None)  # kick -3000: the bids at 99 would be met below zero
    assert _fills(sim, _at(sim, 10, 0, ASK, 1, None)) == [(1, 1)]
