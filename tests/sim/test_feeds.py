"""crossbook.sim.feeds: captures of N venues into per-venue rows in common units, and arrays."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import crossbook
from crossbook import dtypes
from crossbook.arb.units import CommonUnits, UnitConverter, default_listing
from crossbook.messages import Instrument, Trade
from crossbook.replay import Replay, open_capture
from crossbook.sim.feeds import Feeds, _Book, feed_from_arrays, load_captures
from tests.sim._util import level_rows, trade_rows

DATA = Path(crossbook.__file__).parent / "data"
SLICES = sorted(DATA.glob("binance_*.cap.gz"))
COINM = DATA / "binance_coinm_btcusd_perp_20240808_slice.cap.gz"
needs_slices = pytest.mark.skipif(len(SLICES) != 3, reason="the bundled Binance slices "
                                  "(src/crossbook/data) are missing")


@pytest.fixture(scope="module")
def feeds() -> Feeds:
    if len(SLICES) != 3:
        pytest.skip("the bundled Binance slices (src/crossbook/data) are missing")
    return load_captures(SLICES)


@needs_slices
def test_three_slices_give_three_venues_in_one_asset_s_common_units(feeds: Feeds) -> None:
    assert [(f.venue, f.symbol, f.asset) for f in feeds.venues] == [  # in the captures' order
        ("binance_coinm", "BTCUSD_PERP", "BTC/USD"), ("binance", "BTCUSDT", "BTC/USD"),
        ("binance_usdm", "BTCUSDT", "BTC/USD")]
    assert {(f.price_exp, f.size_exp) for f in feeds.venues} == {(8, 8)}
    assert [f.inverse for f in feeds.venues] == [True, False, False]
    assert feeds.errors == [] and feeds.trades_without_book == 0
    for f in feeds.venues:
        for rows in (f.levels, f.trades):
            assert bool((np.diff(rows["ts_recv_ns"]) >= 0).all()), f.name
        synced = np.flatnonzero(f.levels["action"] == dtypes.SIM_SYNCED)
        assert len(synced) == 1 and f.levels["action"][synced[0] - 1] != dtypes.CLEAR
        assert len(f.trades) > 100 and set(f.trades["side"].tolist()) == {1, 2}
        assert f.trades_dropped == 0 and f.tick > 1


@needs_slices
def test_inverse_trades_are_base_asset_sizes_rounded_down_as_the_scanner_converts(
        feeds: Feeds) -> None:
    parser, records = open_capture(COINM)
    trades: list[Trade] = []
    replay = Replay(parser, on_message=lambda m, s: trades.append(m) if isinstance(m, Trade) else None)
    for rec in records:
        replay.feed(rec)
    inst = parser.instruments.get("BTCUSD_PERP")
    assert inst is not None
    coinm = feeds.venues[0]
    conv = UnitConverter(default_listing(inst), inst.price_exp, inst.size_exp,
                         CommonUnits(coinm.price_exp, coinm.size_exp))
    assert conv.listing.inverse and conv.listing.contract_size == 100
    want = [(t.ts_recv_ns, conv.price(t.price), t.size * 100 * 10**(8 + inst.price_exp) // t.price,
             int(t.aggressor or 0)) for t in trades]
    got = list(zip(*(coinm.trades[k].tolist() for k in ("ts_recv_ns", "price", "size", "side")),
                   strict=True))
    assert got == want


@needs_slices
def test_merging_changes_no_venue_s_rows_when_its_units_do_not_change(feeds: Feeds) -> None:
    spot = next(p for p in SLICES if "spot" in p.name)
    alone = load_captures([spot]).venues[0]
    assert (alone.price_exp, alone.size_exp) == (8, 8)
    assert np.array_equal(alone.levels, feeds.venues[1].levels)
    assert np.array_equal(alone.trades, feeds.venues[1].trades)


def test_arrays_are_checked_copied_and_trusted_from_the_first_row_without_a_sync_mark() -> None:
    levels = level_rows([(0, 10, 101, 5, 0, 2, dtypes.ADD, dtypes.F_LAST)])
    trades = trade_rows([(0, 11, 101, 1, 1)])
    f = feed_from_arrays("x", "BTCUSDT", levels, trades, price_exp=2, size_exp=3)
    assert f.asset == "BTC/USD" and f.quote == "USD"
    assert f.levels["action"].tolist() == [dtypes.SIM_SYNCED, dtypes.ADD]
    levels["size"] = 7
    assert int(f.levels["size"][1]) == 5
    with pytest.raises(TypeError, match="LEVEL_EVENT"):
        feed_from_arrays("x", "y", trades, price_exp=0, size_exp=0)
    backwards = level_rows([(0, 10, 1, 1, 0, 1, dtypes.ADD, 0), (0, 9, 1, 1, 0, 1, dtypes.ADD, 0)])
    with pytest.raises(ValueError, match="row 1 goes back"):
        feed_from_arrays("x", "y", backwards, price_exp=0, size_exp=0)


def _trade_line(recv_ns: int, symbol: str, price: str, qty: str, buyer_maker: bool) -> str:
    data = (f'{{"e":"trade","E":1,"s":"{symbol}","t":7,"p":"{price}","q":"{qty}","T":1,'
            f'"m":{"true" if buyer_maker else "false"},"M":true}}')
    return f'{recv_ns} {{"stream":"{symbol.lower()}@trade","data":{data}}}'


@needs_slices
def test_trades_before_their_book_wait_for_it_and_trades_with_no_book_are_counted(
        tmp_path: Path) -> None:
    spot = next(p for p in SLICES if "spot" in p.name)
    with gzip.open(spot, "rt") as fh:
        lines = [next(fh) for _ in range(3000)]
    first = int(lines[0].split(" ", 1)[0])
    early = [_trade_line(first - 2, "BTCUSDT", "61837.63000000", "0.02000000", True),
             _trade_line(first - 1, "ETHUSDT", "2600.00000000", "1.00000000", False)]
    path = tmp_path / "spot.cap.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(early) + "\n" + "".join(lines))
    feeds = load_captures([path])
    (f,) = feeds.venues
    assert feeds.trades_without_book == 1
    assert f.trades[0].tolist()[:5] == (1_000_000, first - 2, 6183763000000, 2_000_000, 2)
    assert f.trades_dropped == 0


def test_a_trade_without_an_aggressor_is_dropped_and_counted() -> None:
    inst = Instrument("x", "BTCUSDT", 2, 3)
    book = _Book(default_listing(inst), inst, CommonUnits(2, 3))
    book.on_trade(Trade("x", "BTCUSDT", 100, 5, None, "1", 10))
    book.on_trade(Trade("x", "BTCUSDT", 100, 5, crossbook.Side.BID, "2", 11))
    feed = book.result("x", "BTCUSDT")
    assert feed.trades_dropped == 1 and feed.trades["ts_recv_ns"].tolist() == [11]
