"""Triangular cycles: known answers and the walk against a direct simulation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossbook import L2Book, Side
from crossbook.arb.triangular import Market, find_cycles, walk_cycle
from tests.arb._books import book

K = Fraction(999, 1000)  # what a 10 bp fee leaves


def markets(fee: int = 0) -> list[Market]:
    # 1 BTC = 100 USDT; 1 ETH = 0.05 BTC; 1 ETH sells for 6 USDT (8 of them), then 5.
    return [
        Market("A BTCUSDT", book(bids=[(99, 2)], asks=[(100, 2)]), "BTC", "USDT", fee),
        Market("A ETHBTC", book(bids=[(4, 10)], asks=[(5, 10)], price_exp=2), "ETH", "BTC", fee),
        Market("A ETHUSDT", book(bids=[(6, 8), (5, 100)], asks=[(7, 50)]), "ETH", "USDT", fee),
    ]


def test_known_answer_without_fees() -> None:
    m = markets()
    c = walk_cycle(m, "USDT")
    assert c is not None
    # The third book's 8 ETH at 6 bound it: 40 USDT -> 0.4 BTC -> 8 ETH -> 48 USDT;
    # after that ETH sells at 5, which only breaks even, so the walk stops.
    assert (c.start_amount, c.end_amount, c.pnl) == (40, 48, 8)
    assert c.edge_bps == 2000.0 and c.path == "USDT -> BTC -> ETH -> USDT"
    buy_btc, buy_eth, sell_eth = c.legs
    assert (buy_btc.side, buy_btc.amount_in, buy_btc.amount_out) == (Side.ASK, 40, Fraction(2, 5))
    assert (buy_eth.side, buy_eth.amount_out, buy_eth.vwap) == (Side.ASK, 8, Fraction(1, 20))
    assert (sell_eth.side, sell_eth.base_size, sell_eth.vwap, sell_eth.worst_price) == (
        Side.BID, 8, 6, 6)
    assert all(leg.fee == 0 for leg in c.legs)


def test_known_answer_with_fees() -> None:
    c = walk_cycle(markets(fee=1000), "USDT")  # 10 bp per leg, charged on what it receives
    assert c is not None
    start = 8 / (Fraction(1, 100) * K * 20 * K)  # what buys exactly 8 ETH after two fees
    assert c.start_amount == start
    assert c.end_amount == 8 * 6 * K
    assert c.pnl == 8 * 6 * K - start
    assert c.legs[0].fee == start / 100 * (1 - K)
    assert c.legs[2].amount_in == 8


def test_fees_can_kill_a_cycle() -> None:
    assert walk_cycle(markets(fee=700_000), "USDT") is None  # 70% per leg


def test_max_start() -> None:
    c = walk_cycle(markets(), "USDT", max_start="10")
    assert c is not None and (c.start_amount, c.end_amount) == (10, 12)
    assert walk_cycle(markets(), "USDT", max_start=0) is None


def test_find_cycles_both_directions_and_across_venues() -> None:
    m = markets()
    # Venue B sells BTC cheaper (90): the best cycle buys BTC there.
    m.append(Market("B BTCUSDT", book(bids=[(80, 1)], asks=[(90, 1)]), "BTC", "USDT", 0))
    found = find_cycles(m, "USDT")
    assert [c.legs[0].market for c in found][:2] == ["B BTCUSDT", "A BTCUSDT"]
    best = found[0]
    # At 90 even ETH sold at 5 profits (1/90 * 20 * 5 > 1): the walk runs until the
    # ETH/BTC book's 10 ETH are gone: 45 USDT -> 0.5 BTC -> 10 ETH -> 8 @ 6 + 2 @ 5 = 58.
    assert (best.start_amount, best.end_amount) == (45, 58)
    assert best.legs[2].worst_price == 5
    # The other direction (buy ETH at 7, sell for BTC at 0.04, sell BTC at 99 or 80) loses.
    assert all(c.legs[0].market != "A ETHUSDT" for c in found)


def test_market_from_listing() -> None:
    from crossbook.arb.units import Listing

    m = Market.from_listing(Listing("okx", "ETH-BTC", "ETH/BTC"), book(), 800)
    assert (m.name, m.base, m.quote, m.taker_cbps) == ("okx ETH-BTC", "ETH", "BTC", 800)
    with pytest.raises(ValueError, match="BASE/QUOTE"):
        Market.from_listing(Listing("v", "X", "WEIRD"), book())


def test_markets_must_close_the_cycle() -> None:
    m = markets()
    with pytest.raises(ValueError, match="lead back"):
        walk_cycle([m[0], m[1]], "USDT")
    with pytest.raises(ValueError, match="does not trade"):
        walk_cycle([m[1], m[0], m[2]], "USDT")
    with pytest.raises(ValueError):
        Market("x", book(), "BTC", "BTC")


# -- the walk against a direct simulation -------------------------------------------------

def convert(b: L2Book, side: Side, amount: Fraction, fee_cbps: int) -> Fraction | None:
    """What ``amount`` becomes through one book, taking ``side``; None if too thin."""
    rows = b.levels(side)
    out, left = Fraction(0), amount
    for p, s in zip(rows["price"].tolist(), rows["size"].tolist(), strict=True):
        price = Fraction(p, 10**b.price_exp)
        size = Fraction(s, 10**b.size_exp)
        cap = price * size if side is Side.ASK else size
        take = min(cap, left)
        out += take / price if side is Side.ASK else take * price
        left -= take
        if left == 0:
            return out * (1 - Fraction(fee_cbps, 1_000_000))
    return None


def simulate(ms: list[Market], start: str, amount: Fraction) -> Fraction | None:
    asset, x = start, amount
    for m in ms:
        side = m.side_from(asset)
        assert side is not None
        y = convert(m.book, side, x, m.taker_cbps)
        if y is None:
            return None
        asset, x = m.other(asset), y
    return x


lv = st.lists(st.tuples(st.integers(1, 40), st.integers(1, 20)), min_size=1, max_size=5,
              unique_by=lambda t: t[0])


@settings(max_examples=200, deadline=None)
@given(lv, lv, lv, st.integers(0, 500))
def test_walk_matches_simulation_and_is_the_best_size(a1: list[tuple[int, int]],
                                                      a2: list[tuple[int, int]],
                                                      b3: list[tuple[int, int]], fee: int) -> None:
    ms = [Market("m1", book(asks=[(p + 80, s) for p, s in a1]), "BTC", "USDT", fee),
          Market("m2", book(asks=a2, price_exp=2), "ETH", "BTC", fee),
          Market("m3", book(bids=b3), "ETH", "USDT", fee)]
    c = walk_cycle(ms, "USDT")
    if c is None:
        tiny = simulate(ms, "USDT", Fraction(1, 10**9))
        assert tiny is None or tiny <= Fraction(1, 10**9)  # not even a first unit profits
        return
    assert c.pnl > 0
    assert simulate(ms, "USDT", c.start_amount) == c.end_amount
    for leg, m in zip(c.legs, ms, strict=True):
        assert leg.market == m.name
    eps = c.start_amount / 1000
    less = simulate(ms, "USDT", c.start_amount - eps)
    assert less is not None and less - (c.start_amount - eps) < c.pnl
    more = simulate(ms, "USDT", c.start_amount + eps)
    assert more is None or more - (c.start_amount + eps) <= c.pnl
