"""Basis from mids and from executable prices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crossbook.arb.basis import BasisCollector, annualized_bps
from tests.arb._books import book


def test_known_answer() -> None:
    spot = book([(100, 5)], [(102, 5)])
    perp = book([(99, 3), (98, 10)], [(101, 5)])
    c = BasisCollector("spot", "perp", size=4)
    assert c.sample(10, spot, perp)
    s = c.result().samples[0]
    assert s["ts_recv_ns"] == 10 and (s["spot_mid"], s["perp_mid"]) == (101.0, 100.0)
    assert s["basis_bps"] == pytest.approx((100 - 101) / 101 * 1e4)
    # Sell 4 on the perp's bids (3 @ 99 + 1 @ 98 = 395), buy 4 spot at 102 (408).
    assert s["sell_perp_bps"] == pytest.approx((395 - 408) / 408 * 1e4)
    # Buy 4 perp at 101 (404), sell 4 spot at 100 (400).
    assert s["buy_perp_bps"] == pytest.approx((404 - 400) / 400 * 1e4)


def test_thin_books_and_missing_sides() -> None:
    spot = book([(100, 5)], [(102, 5)])
    c = BasisCollector("spot", "perp", size=6)
    assert c.sample(1, spot, book([(99, 10)], [(101, 10)]))
    assert not c.sample(2, spot, book([(99, 10)], []))  # no mid
    assert not c.sample(3, None, spot)
    r = c.result()
    assert len(r) == 1 and math.isnan(r.samples["sell_perp_bps"][0])
    st = r.stats()
    assert st["samples"] == 1 and st["sell_perp_bps_mean"] is None
    with pytest.raises(ValueError):
        BasisCollector("a", "b", size=0)


def test_stats_and_time_mean() -> None:
    c = BasisCollector("spot", "perp")
    spot = book([(100, 5)], [(100, 5)])  # mid 100 (a locked book is fine here)
    for ts, mid in ((0, 101), (10, 103), (40, 103)):
        c.sample(ts, spot, book([(mid, 1)], [(mid, 1)]))
    st = c.result().stats()
    assert st["basis_bps_mean"] == pytest.approx((100 + 300 + 300) / 3)
    assert st["basis_bps_time_mean"] == pytest.approx((100 * 10 + 300 * 30) / 40)
    assert (st["basis_bps_min"], st["basis_bps_max"], st["basis_bps_last"]) == (100, 300, 300)


def test_collector_grows() -> None:
    c = BasisCollector("s", "p", capacity=2)
    for i in range(5):
        c.sample(i, book([(100, 1)], [(101, 1)]), book([(100, 1)], [(101, 1)]))
    assert c.result().column("ts_recv_ns").tolist() == [0, 1, 2, 3, 4]


def test_annualized() -> None:
    year = 365 * 86_400 * 10**9
    got = annualized_bps([10.0, 10.0, 5.0], [0, year // 2, year], year)
    assert got[0] == pytest.approx(10) and got[1] == pytest.approx(20) and np.isnan(got[2])


def test_monitor_follows_a_replay() -> None:
    """BasisMonitor on the bundled spot and COIN-M captures, fed by Replay callbacks."""
    from fractions import Fraction
    from pathlib import Path

    from crossbook.arb.basis import BasisMonitor
    from crossbook.arb.session import merged_records
    from crossbook.arb.units import CommonUnits, Listing
    from crossbook.replay import Replay, open_capture

    data = Path(__file__).resolve().parents[2] / "src" / "crossbook" / "data"
    spot = Listing("binance", "BTCUSDT", "BTC/USD")
    perp = Listing("binance_coinm", "BTCUSD_PERP", "BTC/USD", Fraction(100), True, "perpetual")
    mon = BasisMonitor(spot, perp, CommonUnits(8, 8), {spot.name: (8, 8), perp.name: (1, 0)},
                       size=10**8)
    opened = [open_capture(data / f"binance_{n}_20240808_slice.cap.gz")
              for n in ("spot_btcusdt", "coinm_btcusd_perp")]
    replays = [Replay(parser, on_message=mon.on_message) for parser, _ in opened]
    for k, rec in merged_records([r for _, r in opened]):
        replays[k].feed(rec)
    r = mon.result()
    st = r.stats()
    # Same figure as `crossbook scan` (which samples only while both books are fresh).
    assert len(r) > 7000 and st["basis_bps_mean"] == pytest.approx(-2.8, abs=0.1)
    assert st["basis_bps_max"] < 0 and st["sell_perp_bps_mean"] < st["buy_perp_bps_mean"]
