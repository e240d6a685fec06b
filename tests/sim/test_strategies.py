"""The example strategies on hand-made books: what each one sends, and what its report says."""

from __future__ import annotations

from collections.abc import Sequence

from fractions import Fraction

import pytest

from crossbook import dtypes
from crossbook.sim import ConstantLatency, Fees, VenueConfig
from crossbook.sim.backtest import run_backtest
from crossbook.sim.feeds import VenueFeed, feed_from_arrays
from crossbook.sim.report import build_report
from crossbook.sim.strategies import CrossArb, LeadLagQuote
from tests.sim._util import level_rows, trade_rows

BID, ASK = 1, 2
ADD, UPDATE, DELETE, LAST = dtypes.ADD, dtypes.UPDATE, dtypes.DELETE, dtypes.F_LAST
LATENCY = ConstantLatency(10, 5)


def _feed(name: str, levels: Sequence[tuple[int, ...]],
          trades: list[tuple[int, ...]] | None = None) -> VenueFeed:
    return feed_from_arrays(name, "BTCUSDT", level_rows(levels), trade_rows(trades or []),
                            price_exp=0, size_exp=0)


def _configs(feeds: list[VenueFeed], fees: Fees = Fees(0, 0)) -> list[VenueConfig]:
    return [f.config(LATENCY, fees) for f in feeds]


def _arb_feeds(bid_moves: bool) -> list[VenueFeed]:
    """A asks 100 (5), bids 98 (9); B bids 103 (3), asks 105. With ``bid_moves``, B's bid
    at 103 goes at 105 (before the sell leg arrives at 110) and B bids 101 instead."""
    a = _feed("a", [(0, 90, 98, 9, 0, BID, ADD, 0), (0, 90, 100, 5, 0, ASK, ADD, LAST),
                    (0, 300, 80, 1, 0, BID, ADD, LAST)])
    b_rows = [(0, 100, 103, 3, 0, BID, ADD, 0), (0, 100, 105, 9, 0, ASK, ADD, LAST)]
    if bid_moves:
        b_rows += [(0, 105, 103, 0, 0, BID, DELETE, 0), (0, 105, 101, 10, 0, BID, ADD, LAST)]
    return [a, _feed("b", b_rows)]


def test_cross_arb_takes_the_walk_s_size_on_both_venues_at_once() -> None:
    feeds = _arb_feeds(bid_moves=False)
    strat = CrossArb([0, 0], max_size=10)
    run = run_backtest(feeds, _configs(feeds), strat)
    sent = [(r.ts_ns, r.venue, r.side, r.price, r.size, r.tif) for r in strat.requests]
    assert sent == [(100, 0, BID, 100, 3, 2), (100, 1, ASK, 103, 3, 2)]
    s = build_report(run).summary
    assert s["positions"] == {"a": {"BTCUSDT": "3"}, "b": {"BTCUSDT": "-3"}}
    assert s["realized"] == "0" and s["leg_risk_cost"] == "0" and strat.misses == 0
    # Marked at the mids (a: 99, b: 104): 3 * (99 - 100) + 3 * (103 - 104).
    assert s["pnl"] == "-6"


@pytest.mark.parametrize(("policy", "venue", "price", "cost"), [("hedge", 1, 101, "6"),
                                                                ("unwind", 0, 98, "15")])
def test_a_missed_leg_is_repaired_by_the_policy_and_its_cost_reported(
        policy: str, venue: int, price: int, cost: str) -> None:
    feeds = _arb_feeds(bid_moves=True)
    strat = CrossArb([0, 0], max_size=10, policy=policy)
    run = run_backtest(feeds, _configs(feeds), strat)
    repair = strat.requests[2]
    assert (repair.ts_ns, repair.venue, repair.side, repair.price, repair.size) == (
        115, venue, ASK, None, 3)
    assert strat.intents[repair.order_id] == (policy, 103, ASK)
    fills = run.results.fills
    assert [(int(f["venue"]), int(f["price"]), int(f["size"])) for f in fills[-1:]] == [
        (venue, price, 3)]
    s = build_report(run).summary
    # Planned to sell 3 at 103; sold them at `price` instead.
    assert s["leg_risk_cost"] == cost and s["legs"][policy]["slippage"] == cost
    assert sum(Fraction(p) for v in s["positions"].values() for p in v.values()) == 0


def test_cross_arb_checks_its_settings() -> None:
    with pytest.raises(ValueError, match="policy"):
        CrossArb([0, 0], max_size=1, policy="pray")
    with pytest.raises(ValueError, match="max_size"):
        CrossArb([0, 0], max_size=0)


def _quote_feeds() -> list[VenueFeed]:
    """Primary: 100/102, then bids grow (buying pressure). Secondary: 100/102; at 400 a
    sell of 10 trades through 99."""
    primary = _feed("p", [(0, 100, 100, 5, 0, BID, ADD, 0), (0, 100, 102, 5, 0, ASK, ADD, LAST),
                          (0, 200, 100, 25, 0, BID, UPDATE, LAST)])
    secondary = _feed("s", [(0, 100, 100, 4, 0, BID, ADD, 0), (0, 100, 102, 4, 0, ASK, ADD, LAST),
                            (0, 500, 90, 1, 0, BID, ADD, LAST)],
                      [(0, 400, 99, 10, ASK)])
    return [primary, secondary]


def test_leadlag_quote_skews_by_the_primary_s_flow_and_stops_at_its_inventory_limit() -> None:
    feeds = _quote_feeds()
    strat = LeadLagQuote(0, 1, quote_size=2, inventory_limit=2, half_spread=1,
                         skew_per_unit=Fraction(1, 20), max_skew=3, min_requote_ns=0)
    run = run_backtest(feeds, _configs(feeds, Fees(-100, 500)), strat)
    sent = [(r.ts_ns, r.kind, r.side, r.price, r.size) for r in strat.requests]
    # At 100: mid 101, half spread 1 -> bid 100, ask 102. At 200 the primary's bid grew by
    # 20: skew floor(20 / 20) = 1 -> bid 101, ask 103. At 400 the bid at 101 fills (a trade
    # through it): position 2 = the limit, so no bid is quoted again.
    assert sent == [(100, "submit", BID, 100, 2), (100, "submit", ASK, 102, 2),
                    (200, "modify", 0, 101, 2), (200, "modify", 0, 103, 2)]
    assert strat.position == 2
    fills = run.results.fills
    assert [(int(f["price"]), int(f["size"]), int(f["liquidity"])) for f in fills] == [
        (101, 2, dtypes.SIM_MAKER)]
    s = build_report(run).summary
    # A maker rebate of 1 bp on 202: ceil(-0.0202) = 0 in price x size units.
    assert s["fees"] == "0" and s["positions"]["s"] == {"BTCUSDT": "2"}
    assert s["legs"]["bid"]["slippage"] == "0"


def test_leadlag_quote_checks_its_settings() -> None:
    with pytest.raises(ValueError, match="differ"):
        LeadLagQuote(1, 1, quote_size=1, inventory_limit=1)
    with pytest.raises(ValueError, match="quote_size"):
        LeadLagQuote(0, 1, quote_size=0, inventory_limit=1)
