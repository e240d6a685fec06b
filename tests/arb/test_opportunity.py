"""best_opportunity: known answers on hand-built books and properties.

Every test runs against the active implementation (the compiled walk when the
core has one, else the Python twin) and checks it against the Python twin.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crossbook import L2Book, Side, _core
from crossbook.arb.opportunity import (
    Opportunity,
    best_opportunity,
    best_opportunity_cbps,
    best_opportunity_py,
    compiled_walk,
)
from tests.arb._books import Levels, book, exact_pnl
from tests.conftest import require_compiled

D = 1_000_000


def best(buy: L2Book, sell: L2Book, fb: object, fs: object,
         max_size: int | None = None) -> Opportunity | None:
    """The active implementation, checked against the Python twin on every call."""
    got = best_opportunity(buy, sell, fb, fs, max_size)  # type: ignore[arg-type]
    assert got == best_opportunity_py(buy, sell, fb, fs, max_size)  # type: ignore[arg-type]
    return got


ASKS = [(100, 5), (101, 5)]
BIDS = [(103, 3), (102, 10)]


def test_walks_levels_on_both_sides() -> None:
    o = best(book(asks=ASKS), book(bids=BIDS), 0, 0)
    assert o is not None
    assert (o.size, o.buy_notional, o.sell_notional) == (10, 1005, 1023)
    assert (o.buy_price, o.sell_price) == (101, 102)
    assert o.pnl == 18 and o.pnl_num == 18 * D
    assert o.buy_vwap == Fraction(1005, 10) and o.sell_vwap == Fraction(1023, 10)
    assert o.edge == Fraction(18 * 10_000, 1005) and o.edge_bps == pytest.approx(179.104477)
    assert o.pnl_float == 18.0 and o.buy_vwap_float == 100.5


def test_buy_fee_stops_the_walk() -> None:
    # 1% on the buy: an ask of 100 costs 101, of 101 costs 102.01 > bid 102.
    o = best(book(asks=ASKS), book(bids=BIDS), 100, 0)
    assert o is not None and o.size == 5
    assert o.pnl == 3 * 2 + 2 * 1 and (o.buy_price, o.sell_price) == (100, 102)


def test_sell_fee_stops_the_walk() -> None:
    # 1% on the sell: a bid of 103 returns 101.97, of 102 returns 100.98.
    o = best(book(asks=ASKS), book(bids=BIDS), 0, 100)
    assert o is not None and o.size == 5
    assert o.pnl == Fraction(3 * 197 + 2 * 98, 100)


def test_both_fees_in_fractions_of_a_bp() -> None:
    # 61800.00 x 1.5 offered, 61810.00 x 0.5 bid, 0.5 bp each side.
    buy = book(asks=[(6180000, 1500)], price_exp=2, size_exp=3)
    sell = book(bids=[(6181000, 500)], price_exp=2, size_exp=3)
    o = best(buy, sell, "0.5", Fraction(1, 2))
    assert o is not None and o.size == 500
    assert o.pnl == Fraction("0.5") * (Fraction("61810") * Fraction("0.99995")
                                       - Fraction("61800") * Fraction("1.00005"))
    assert o.pnl == Fraction("1.90975")
    assert o.size_real == Fraction(1, 2)
    # One bp each side eats it.
    assert best(buy, sell, 1, 1) is None


def test_exact_break_even_is_not_taken() -> None:
    # 2% buy fee: the ask of 100 costs exactly the bid of 102.
    assert best(book(asks=[(100, 5)]), book(bids=[(102, 5)]), 200, 0) is None
    o = best(book(asks=[(100, 5)]), book(bids=[(102, 5)]), "199.99", 0)
    assert o is not None and o.size == 5 and o.pnl == 5 * 100 * Fraction(1, 10**6)  # 0.01 bp


def test_rebate_counts() -> None:
    # Bid equal to ask: only a negative (rebate) fee makes it pay.
    assert best(book(asks=[(100, 5)]), book(bids=[(100, 5)]), 0, 0) is None
    o = best(book(asks=[(100, 5)]), book(bids=[(100, 5)]), -1, 0)
    assert o is not None and o.pnl == Fraction(5 * 100, 10_000)


def test_depth_caps_the_size() -> None:
    o = best(book(asks=[(100, 2)]), book(bids=[(110, 1000)]), 0, 0)
    assert o is not None and o.size == 2
    o = best(book(asks=[(100, 1000)]), book(bids=[(110, 3)]), 0, 0)
    assert o is not None and o.size == 3


def test_max_size() -> None:
    o = best(book(asks=ASKS), book(bids=BIDS), 0, 0, max_size=4)
    assert o is not None and (o.size, o.pnl, o.buy_price, o.sell_price) == (4, 11, 100, 102)
    assert o.edge == Fraction(11 * 10_000, 400)
    assert best(book(asks=ASKS), book(bids=BIDS), 0, 0, max_size=0) is None
    o = best(book(asks=ASKS), book(bids=BIDS), 0, 0, max_size=10**30)
    assert o is not None and o.size == 10


def test_nothing_to_trade() -> None:
    assert best(book(), book(bids=BIDS), 0, 0) is None
    assert best(book(asks=ASKS), book(), 0, 0) is None
    assert best(book(asks=[(104, 1)]), book(bids=BIDS), 0, 0) is None
    # The buy book's own bids and the sell book's own asks play no part.
    buy, sell = book(bids=[(200, 1)], asks=[(104, 1)]), book(bids=BIDS, asks=[(50, 9)])
    assert best(buy, sell, 0, 0) is None


def test_bad_arguments() -> None:
    b = book(asks=ASKS)
    with pytest.raises(ValueError, match="share exponents"):
        best_opportunity(b, book(bids=BIDS, price_exp=1), 0, 0)
    with pytest.raises(TypeError):
        best_opportunity(b, "book", 0, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        best_opportunity(b, book(bids=BIDS), 0, 0, max_size=-1)
    with pytest.raises(TypeError):
        best_opportunity(b, book(bids=BIDS), 0, 0, max_size=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        best_opportunity(b, book(bids=BIDS), "0.001", 0)
    with pytest.raises(ValueError):
        best_opportunity(b, book(bids=BIDS), 10_000, 0)


def test_as_dict_is_json_ready() -> None:
    o = best(book(asks=ASKS, price_exp=1, size_exp=2), book(bids=BIDS, price_exp=1, size_exp=2),
             0, 0)
    assert o is not None
    d = o.as_dict()
    assert d["size_real"] == "0.10" and d["pnl_exact"] == "9/500" and d["edge_bps"] > 0


# -- properties ------------------------------------------------------------------------

levels = st.lists(st.tuples(st.integers(90, 110), st.integers(1, 50)), max_size=8,
                  unique_by=lambda t: t[0])
fees = st.integers(-50, 300)


def _side(b: L2Book, side: Side) -> Levels:
    rows = b.levels(side)
    return list(zip(rows["price"].tolist(), rows["size"].tolist(), strict=True))


@settings(max_examples=400, deadline=None)
@given(levels, levels, fees, fees, st.none() | st.integers(0, 120))
@example([(100, 5), (101, 5)], [(103, 3), (102, 10)], 0, 0, None)
def test_properties(asks: Levels, bids: Levels, fb: int, fs: int, max_size: int | None) -> None:
    buy, sell = book(asks=asks), book(bids=bids)
    o = best_opportunity_cbps(buy, sell, fb, fs, max_size)
    py = best_opportunity_py(buy, sell, Fraction(fb, 100), Fraction(fs, 100), max_size)
    assert o == py
    a, b = _side(buy, Side.ASK), _side(sell, Side.BID)
    crossed = bool(a and b) and b[0][0] * (D - fs) > a[0][0] * (D + fb)
    if not crossed or max_size == 0:
        assert o is None  # no opportunity when the touch is not crossed after fees
        return
    assert o is not None and o.size > 0
    assert o.size <= sum(s for _, s in a) and o.size <= sum(s for _, s in b)
    if max_size is not None:
        assert o.size <= max_size
    pnl = exact_pnl(a, b, o.size, fb, fs, 0, 0)
    assert o.pnl == pnl > 0
    assert o.buy_vwap * o.size == sum(Fraction(x) for x in [o.buy_notional])
    # Largest profitable size: one unit less earns strictly less, one more (if there
    # is depth and no cap) earns no more.
    if o.size > 1:
        assert exact_pnl(a, b, o.size - 1, fb, fs, 0, 0) < pnl
    room = min(sum(s for _, s in a), sum(s for _, s in b))
    if o.size < room and (max_size is None or o.size < max_size):
        assert exact_pnl(a, b, o.size + 1, fb, fs, 0, 0) <= pnl


@settings(max_examples=300, deadline=None)
@given(levels, levels, fees, fees, st.integers(1, 150), st.integers(1, 150))
def test_cutting_max_size_never_raises_the_edge(asks: Levels, bids: Levels, fb: int, fs: int,
                                                m1: int, m2: int) -> None:
    lo, hi = sorted((m1, m2))
    buy, sell = book(asks=asks), book(bids=bids)
    small = best_opportunity_cbps(buy, sell, fb, fs, lo)
    big = best_opportunity_cbps(buy, sell, fb, fs, hi)
    assert (small is None) == (big is None)
    if small is not None and big is not None:
        assert small.edge >= big.edge
        assert small.edge_bps >= big.edge_bps
        assert small.pnl <= big.pnl


def test_the_compiled_walk_is_built() -> None:
    """Without it every test here checks the Python twin against itself."""
    require_compiled(compiled_walk() is not None, "crossbook._core has no best_opportunity")


@settings(max_examples=300, deadline=None)
@given(levels, levels, fees, fees, st.none() | st.integers(0, 120))
def test_compiled_walk_equals_the_python_twin(asks: Levels, bids: Levels, fb: int, fs: int,
                                              max_size: int | None) -> None:
    require_compiled(compiled_walk() is not None, "crossbook._core has no best_opportunity")
    buy, sell = book(asks=asks), book(bids=bids)
    raw = _core.best_opportunity(buy, sell, fb, fs, max_size)  # type: ignore[attr-defined]
    py = best_opportunity_py(buy, sell, Fraction(fb, 100), Fraction(fs, 100), max_size)
    assert best_opportunity_cbps(buy, sell, fb, fs, max_size) == py
    assert (raw is None) == (py is None)
    edge = raw[6] if isinstance(raw, tuple) and len(raw) > 6 else getattr(raw, "edge_bps", None)
    if py is not None and edge is not None:  # the core's double: the exact ratio, rounded
        assert edge == pytest.approx(py.edge_bps, rel=1e-15)
