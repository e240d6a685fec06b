"""crossbook.sim.report: exact money, FIFO realized pnl, the equity curve and its drawdown."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossbook import dtypes
from crossbook.sim import ConstantLatency, Fees, Simulator, TimeInForce
from crossbook.sim.backtest import run_backtest, venue_configs
from crossbook.sim.feeds import VenueFeed, feed_from_arrays
from crossbook.sim.report import build_report, decimal_text
from crossbook.sim.records import BookRow
from crossbook.sim.strategies import LoggedStrategy
from tests.sim._util import level_rows

BID, ASK = 1, 2
ADD, DELETE, LAST = dtypes.ADD, dtypes.DELETE, dtypes.F_LAST


@given(st.integers(-10**30, 10**30), st.integers(0, 12), st.integers(0, 12))
def test_decimal_text_is_exact(n: int, twos: int, fives: int) -> None:
    v = Fraction(n, 2**twos * 5**fives)
    text = decimal_text(v)
    assert Fraction(text) == v
    assert "." not in text or not text.endswith("0")


def test_decimal_text_refuses_what_has_no_finite_expansion() -> None:
    with pytest.raises(ValueError, match="finite"):
        decimal_text(Fraction(1, 3))


class Script(LoggedStrategy):
    """Sends the given IOC orders on the book updates at the given times."""

    def __init__(self, orders: dict[int, list[tuple[int, int, int]]]) -> None:
        super().__init__()
        self.orders = orders

    def on_book(self, sim: Simulator, venue: int, row: BookRow) -> None:
        for side, size, price in self.orders.pop(sim.now, []):
            self.submit(sim, venue, side, size, price, tif=TimeInForce.IOC, leg="x",
                        decision_price=price)


def _moving_book() -> VenueFeed:
    """One venue (price_exp 1, size_exp 2): bid/ask 99/101, 109/111 at 20, 89/91 at 30,
    99/101 at 40."""
    rows, old = [], None
    for ts, bid, ask in ((10, 990, 1010), (20, 1090, 1110), (30, 890, 910), (40, 990, 1010)):
        if old is not None:
            rows += [(0, ts, old[0], 0, 0, BID, DELETE, 0), (0, ts, old[1], 0, 0, ASK, DELETE, 0)]
        rows += [(0, ts, bid, 500, 0, BID, ADD, 0), (0, ts, ask, 500, 0, ASK, ADD, LAST)]
        old = (bid, ask)
    return feed_from_arrays("v", "BTCUSDT", level_rows(rows), price_exp=1, size_exp=2)


def test_fifo_realized_unrealized_fees_and_drawdown_are_exact() -> None:
    feed = _moving_book()
    # Buy 3 at 101.0 (t 10), buy 1 at 111.0 (t 20), sell 2 at 89.0 (t 30): FIFO closes two
    # of the first lot: realized 2 x (89 - 101) = -24.
    script = Script({10: [(BID, 300, 1010)], 20: [(BID, 100, 1110)], 30: [(ASK, 200, 890)]})
    configs = venue_configs([feed], {"v": ConstantLatency(0, 0)}, {"v": Fees(0, 1000)})
    run = run_backtest([feed], configs, script)
    s = build_report(run).summary
    assert s["positions"] == {"v": {"BTCUSDT": "2"}}
    fees = Fraction(3 * 101 + 111 + 2 * 89, 1000)  # 10 bp, exact here
    assert Fraction(s["fees"]) == fees and s["fees_paid"] == s["fees"] and s["rebates"] == "0"
    assert s["realized"] == "-24"
    # Open: 1 at 101 and 1 at 111, marked at the last mid 100: -1 - 11.
    assert s["unrealized"] == "-12" and s["marks"] == {"v": {"BTCUSDT": "100"}}
    assert Fraction(s["pnl"]) == -24 - 12 - fees
    assert s["turnover"] == decimal_text(Fraction(3 * 101 + 111 + 2 * 89))
    assert s["legs"]["x"]["slippage"] == "0"
    # Equity after each event: the peak is long 3 marked at 110 (t 20, before the buy), the
    # low long 2 marked at 90 after the sell (t 30).
    high = -303 + 3 * 110 - Fraction(303, 1000)
    low = -303 - 111 + 178 + 2 * 90 - Fraction(303 + 111 + 178, 1000)
    assert Fraction(s["max_drawdown"]) == high - low == Fraction("83.289")
    assert [i["BTCUSDT"] for i in s["inventory"].values()][0] == [[10, "3"], [20, "4"], [30, "2"]]


def test_feeds_quoting_several_currencies_are_refused() -> None:
    rows = level_rows([(0, 10, 99, 5, 0, BID, ADD, 0), (0, 10, 101, 5, 0, ASK, ADD, LAST)])
    feeds = [feed_from_arrays("v", "BTCUSDT", rows, price_exp=0, size_exp=0),
             feed_from_arrays("w", "ETHBTC", rows, price_exp=0, size_exp=0)]
    run = run_backtest(feeds, [f.config(ConstantLatency(0, 0), Fees(0, 0)) for f in feeds],
                       Script({}))
    with pytest.raises(ValueError, match="BTC, USD"):
        build_report(run)


def test_venue_settings_for_a_venue_not_in_the_feeds_are_refused_naming_it() -> None:
    feed = _moving_book()
    with pytest.raises(KeyError, match="kraken"):
        venue_configs([feed], {"kraken": ConstantLatency(1, 1)})
    with pytest.raises(KeyError, match="no fees known for venue 'v'"):
        venue_configs([feed])
