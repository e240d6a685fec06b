"""Books in common units: prices and linear sizes exactly, inverse sizes rounded down."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crossbook import Side
from crossbook.arb.units import (
    CommonUnits,
    Listing,
    UnitConverter,
    asset_key,
    common_units,
    default_listing,
    normalize_book,
)
from crossbook.messages import Instrument
from crossbook.messages import level_events_py as level_events
from tests.arb._books import book

SPOT = Listing("binance", "BTCUSDT", "BTC/USD")
USDM = Listing("binance_usdm", "BTCUSDT", "BTC/USD", kind="perpetual")
COINM = Listing("binance_coinm", "BTCUSD_PERP", "BTC/USD", Fraction(100), True, "perpetual")
UNITS = CommonUnits(8, 8)


def test_linear_rescales_exactly() -> None:
    # USD-M: prices at 2 decimals, sizes at 3.
    b = book([(6178610, 118)], [(6178620, 4294)], 2, 3)
    n = normalize_book(b, USDM, UNITS)
    assert (n.price_exp, n.size_exp) == (8, 8)
    assert n.bbo() == ((6178610 * 10**6, 118 * 10**5), (6178620 * 10**6, 4294 * 10**5))


def test_linear_contract_size_multiplies() -> None:
    # 0.01 BTC contracts (OKX BTC-USDT-SWAP), size counted in whole contracts.
    li = Listing("okx", "BTC-USDT-SWAP", "BTC/USD", Fraction(1, 100), kind="perpetual")
    c = UnitConverter(li, 1, 0, CommonUnits(1, 2))
    assert c.size(617860, 37) == 37
    assert UnitConverter(li, 1, 0, CommonUnits(1, 4)).size(617860, 37) == 3700
    with pytest.raises(ValueError, match="does not fit common size exponent"):
        UnitConverter(li, 1, 0, CommonUnits(1, 1)).size(617860, 37)


def test_price_that_does_not_fit_is_an_error() -> None:
    c = UnitConverter(SPOT, 8, 8, CommonUnits(2, 8))
    assert c.price(6180964000000) == 6180964
    with pytest.raises(ValueError, match="does not fit common price exponent"):
        c.price(6180964000001)


def test_inverse_known_answer_rounds_down() -> None:
    # 2781 contracts of 100 USD at 61780.3 USD: 278100 / 61780.3 = 4.50143492... BTC.
    c = UnitConverter(COINM, 1, 0, UNITS)
    assert c.size(617803, 2781) == 450143492
    assert Fraction(2781 * 100) / Fraction(617803, 10) > Fraction(450143492, 10**8)
    # One contract at a price that divides evenly: exact.
    assert c.size(1000000, 1) == 100000  # 100 / 100000 = 0.001 BTC
    # Coarse common size exponent: 4.5014 -> 4.50, never 4.51.
    assert UnitConverter(COINM, 1, 0, CommonUnits(1, 2)).size(617803, 2781) == 450
    # A level worth less than one unit converts to 0 and is left out of the book.
    b = book([(617802, 1)], [(617803, 2781)], 1, 0)
    n = normalize_book(b, COINM, CommonUnits(1, 2))
    assert n.bbo() == (None, (617803, 450))


def test_inverse_needs_a_positive_price() -> None:
    with pytest.raises(ValueError, match="no base value"):
        UnitConverter(COINM, 1, 0, UNITS).size(0, 5)


levels = st.lists(st.tuples(st.integers(1, 10**7), st.integers(1, 10**6)), min_size=1,
                  max_size=30, unique_by=lambda t: t[0])


@settings(deadline=None)
@given(levels, st.integers(0, 10), st.sampled_from([1, 10, 100]), st.integers(0, 2))
@example(rows=[(1, 10**6), (7, 3)], size_exp=10, contract=100, price_exp=2)  # the flaky case
def test_inverse_depth_never_exceeds_true_depth(rows: list[tuple[int, int]], size_exp: int,
                                                contract: int, price_exp: int) -> None:
    li = Listing("v", "X", "X/USD", Fraction(contract), True, "perpetual")
    c = UnitConverter(li, price_exp, 0, CommonUnits(price_exp, size_exp))
    unit = Fraction(1, 10**size_exp)
    true_total = conv_total = Fraction(0)
    for p, s in rows:
        true = Fraction(s * contract) / Fraction(p, 10**price_exp)
        if true / unit >= 2**63:
            # Tiny prices at fine exponents make depths no int64 can hold: refused, never wrapped.
            with pytest.raises(ValueError, match="does not fit in int64"):
                c.size(p, s)
            continue
        conv = c.size(p, s) * unit
        assert conv <= true < conv + unit  # per level: round down, less than one unit lost
        true_total += true
        conv_total += conv
        assert conv_total <= true_total  # every prefix of levels too


@settings(deadline=None)
@given(levels, st.integers(0, 4), st.integers(0, 4))
def test_linear_depth_is_exact(rows: list[tuple[int, int]], pe: int, se: int) -> None:
    b = book(asks=rows, price_exp=pe, size_exp=se)
    n = normalize_book(b, SPOT, CommonUnits(pe + 2, se + 3))
    got = n.levels(Side.ASK)
    want = sorted(rows)
    assert [(int(r["price"]), int(r["size"])) for r in got] == [
        (p * 100, s * 1000) for p, s in want]


def test_level_events_convert_and_clear_passes_through() -> None:
    ev = level_events([["61780.2", "77"]], [["61780.3", "2781"]], 1, 0)
    c = UnitConverter(COINM, 1, 0, UNITS)
    out = c.level_events(ev)
    assert out["price"].tolist() == [6178020000000, 6178030000000]
    assert out["size"].tolist() == [c.size(617802, 77), 450143492]
    assert (out["side"] == ev["side"]).all() and (out["flags"] == ev["flags"]).all()
    ev["action"][0] = 4  # CLEAR rows keep their (meaningless) price and size
    assert c.level_events(ev)["price"][0] == ev["price"][0]


def test_identity_conversion_is_a_copy() -> None:
    c = UnitConverter(SPOT, 8, 8, UNITS)
    assert c.identity
    ev = level_events([["1", "2"]], [], 8, 8)
    out = c.level_events(ev)
    assert out is not ev and (out == ev).all()


def test_common_units() -> None:
    assert common_units([(SPOT, 8, 8), (USDM, 2, 3), (COINM, 1, 0)]) == CommonUnits(8, 8)
    assert common_units([(USDM, 2, 3), (COINM, 1, 0)]) == CommonUnits(2, 8)
    okx = Listing("okx", "BTC-USDT-SWAP", "BTC/USD", Fraction(1, 100), kind="perpetual")
    assert common_units([(USDM, 2, 3), (okx, 1, 0)]) == CommonUnits(2, 3)


@pytest.mark.parametrize(("symbol", "key"), [
    ("BTCUSDT", "BTC/USD"), ("BTC-USDT", "BTC/USD"), ("BTCUSD_PERP", "BTC/USD"),
    ("XBTUSD", "BTC/USD"), ("BTC-USD-SWAP", "BTC/USD"), ("BTCUSD_240927", "BTC/USD"),
    ("ETHBTC", "ETH/BTC"), ("ETH-USDC", "ETH/USD"), ("tBTCUSD", "BTC/USD"), ("WEIRD", "WEIRD"),
])
def test_asset_key(symbol: str, key: str) -> None:
    assert asset_key(symbol) == key


def test_default_listings_of_the_bundled_venues() -> None:
    assert default_listing(Instrument("binance_coinm", "BTCUSD_PERP", 1, 0)) == COINM
    eth = default_listing(Instrument("binance_coinm", "ETHUSD_240927", 2, 0))
    assert (eth.contract_size, eth.inverse, eth.kind) == (10, True, "future")
    assert default_listing(Instrument("binance_usdm", "BTCUSDT", 2, 3)) == USDM
    assert default_listing(Instrument("binance", "BTCUSDT", 8, 8)) == SPOT


@pytest.mark.parametrize(("venue", "symbol", "asset", "inverse", "kind"), [
    ("bitmex", "XBTUSD", "BTC/USD", True, "perpetual"),
    ("bitmex", "XBTZ24", "BTC/USD", True, "future"),
    ("deribit", "BTC-PERPETUAL", "BTC/USD", True, "perpetual"),
    ("deribit", "ETH-27SEP24", "ETH/USD", True, "future"),
    ("kraken_futures", "PI_XBTUSD", "BTC/USD", True, "perpetual"),
    ("kraken_futures", "PF_XBTUSD", "BTC/USD", False, "perpetual"),
    ("bybit_legacy", "BTCUSD", "BTC/USD", True, "perpetual"),
    ("bybit_legacy", "BTCUSDT", "BTC/USD", False, "perpetual"),
    ("dydx_v4", "ETH-USD", "ETH/USD", False, "perpetual"),
    ("coinbase", "BTC-USD", "BTC/USD", False, "spot"),
])
def test_default_listings_of_other_venues(venue: str, symbol: str, asset: str, inverse: bool,
                                          kind: str) -> None:
    li = default_listing(Instrument(venue, symbol, 1, 0))
    assert (li.asset, li.inverse, li.kind) == (asset, inverse, kind)
    if inverse:
        assert li.contract_size == 1  # these books count USD


def test_listing_validates() -> None:
    with pytest.raises(ValueError):
        Listing("v", "X", "X", Fraction(0))
    with pytest.raises(ValueError):
        Listing("v", "X", "X", kind="option")
    with pytest.raises(TypeError):
        Listing("v", "X", "X", 0.01)  # type: ignore[arg-type]
    assert Listing("v", "X", "X", "0.01").contract_size == Fraction(1, 100)  # type: ignore[arg-type]
