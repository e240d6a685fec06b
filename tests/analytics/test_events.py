"""Event study: shock detection and a planted follower response recovered."""

from __future__ import annotations

import numpy as np
import pytest

from crossbook.analytics import (
    decluster,
    event_study,
    ofi_shocks,
    response,
    touch_shocks,
    trade_through_shocks,
)
from crossbook.analytics.events import summarise
from tests.analytics import _synth

MS = 1_000_000


def test_response_is_the_change_from_just_before_the_shock() -> None:
    ts = np.array([10, 20, 30, 40])
    v = np.array([1.0, 2.0, 4.0, 8.0])
    shocks = np.array([20, 25])
    r = response(ts, v, shocks, np.array([0, 5, 10, 20, 30]))
    # shock at 20: before = v(10) = 1; at 20 + h: 2, 2, 4, 8, and 50 is past the last sample
    np.testing.assert_array_equal(r[0], [1.0, 1.0, 3.0, 7.0, np.nan])
    # shock at 25: before = v(20) = 2; 45 and 55 are past the last sample
    np.testing.assert_array_equal(r[1], [0.0, 2.0, 2.0, np.nan, np.nan])
    # No sample before the shock, or the two samples in different segments: no value.
    assert np.isnan(response(ts, v, np.array([5]), np.array([10]))).all()
    seg = np.array([0, 0, 1, 1])
    np.testing.assert_array_equal(response(ts, v, np.array([25]), np.array([0, 10]), segment=seg),
                                  [[0.0, np.nan]])


def test_summary_bands_normal_and_bootstrap() -> None:
    rng = np.random.default_rng(0)
    r = rng.normal(1.0, 2.0, size=(400, 3))
    r[:10, 2] = np.nan
    normal = summarise("m", "", r)
    assert normal.n.tolist() == [400, 400, 390]
    np.testing.assert_allclose(normal.se, np.nanstd(r, axis=0, ddof=1) / np.sqrt(normal.n))
    np.testing.assert_allclose(normal.hi - normal.mean, 1.96 * normal.se)
    boot = summarise("m", "", r, bands="bootstrap", seed=3)
    again = summarise("m", "", r, bands="bootstrap", seed=3)
    np.testing.assert_array_equal(boot.lo, again.lo)  # a fixed seed: reproducible
    assert ((boot.lo < boot.mean) & (boot.mean < boot.hi)).all()
    np.testing.assert_allclose(boot.hi - boot.lo, normal.hi - normal.lo, rtol=0.2)
    with pytest.raises(ValueError):
        summarise("m", "", r, bands="nope")


def test_decluster_keeps_the_first_event_of_each_burst() -> None:
    ts = np.array([0, 10, 15, 100, 105, 300])
    d = np.array([1, -1, 1, -1, 1, 1], dtype=np.int8)
    kept, dirs = decluster(ts, d, 50)
    assert kept.tolist() == [0, 100, 300] and dirs.tolist() == [1, -1, 1]


def test_trade_through_needs_a_worse_price_or_the_whole_touch() -> None:
    q = _synth.top([0], bid=[100_00], ask=[100_01], bid_size=[5_000], ask_size=[2_000])
    t = _synth.trades(
        ts=[10, 20, 20, 30, 40],
        price=[100_01, 100_01, 100_01, 100_00, 99_99],
        size=[1_000, 1_500, 500, 4_000, 100],
        side=[1, 1, 1, 2, 2],
        ts_exchange=[7, 8, 8, 9, 10],
    )
    s = trade_through_shocks(t, q)
    # 10: a buy of 1.0 of the 2.0 at the ask: no. 20: one taker order of 1.5 + 0.5 = the whole
    # ask: yes. 30: a sell of 4.0 of the 5.0 bid: no. 40: a sell below the bid: yes.
    assert s.ts_ns.tolist() == [20, 40] and s.direction.tolist() == [1, -1]


def test_touch_and_ofi_shocks_on_the_top_of_book() -> None:
    ts = np.arange(0, 10) * 100 * MS
    bid = np.array([100, 100, 100, 101, 101, 100, 100, 100, 100, 100]) * 100
    ask = bid + 1
    bid_size = np.array([5, 5, 9, 5, 5, 5, 5, 5, 5, 90]) * 1000
    q = _synth.top(ts, bid, ask, bid_size=bid_size, ask_size=5_000)
    lead = _synth.venue(q)
    s = touch_shocks(lead, q, min_gap_ns=50 * MS)
    assert s.ts_ns.tolist() == [300 * MS, 500 * MS] and s.direction.tolist() == [1, -1]
    big = ofi_shocks(q, quantile=0.8)
    assert big.ts_ns.tolist() == [900 * MS] and big.direction.tolist() == [1]


def planted(seed: int, *, jump_ticks: int, delay_ms: int, widen_ms: int
            ) -> tuple[_synth.VenueSeries, _synth.VenueSeries, np.ndarray, np.ndarray]:
    """A leader whose mid moves one tick at known shock times (touch removals), and a
    follower whose mid jumps ``jump_ticks`` in the shock's direction ``delay_ms`` later and
    whose spread widens by 2 ticks (1 each side) from then for ``widen_ms``. The follower
    also moves by itself (independent +-1 tick jumps) and both quote at Poisson times."""
    rng = np.random.default_rng(seed)
    duration = 300.0
    gaps = rng.uniform(300, 900, size=int(duration / 0.6)) * MS
    t0 = (1_000 * MS + np.cumsum(gaps)).astype(np.int64)
    t0 = t0[t0 < duration * 1e9]
    d = rng.choice(np.array([-1, 1], dtype=np.int8), size=len(t0))
    base = 1_000_000  # 10,000.00 at price exponent 2

    lt = np.union1d(_synth.poisson_times(rng, 50, duration + 2), t0)
    lmid = base + np.concatenate([[0], np.cumsum(d)])[np.searchsorted(t0, lt, side="right")]
    lead = _synth.venue(_synth.top(lt, lmid, lmid + 1, bid_size=rng.integers(1, 9, len(lt)) * 1000,
                                   ask_size=rng.integers(1, 9, len(lt)) * 1000, name="lead"))

    noise_t = _synth.poisson_times(rng, 2, duration + 2)
    noise = rng.choice([-1, 1], size=len(noise_t))
    jump_t, widen_end = t0 + delay_ms * MS, t0 + (delay_ms + widen_ms) * MS
    ft = np.union1d(np.union1d(_synth.poisson_times(rng, 100, duration + 2), noise_t),
                    np.union1d(jump_t, widen_end))
    jumps = np.concatenate([[0], np.cumsum(d.astype(np.int64) * jump_ticks)])
    fmid = (base + jumps[np.searchsorted(jump_t, ft, side="right")]
            + np.concatenate([[0], np.cumsum(noise)])[np.searchsorted(noise_t, ft, side="right")])
    wide = (np.searchsorted(jump_t, ft, side="right") - np.searchsorted(widen_end, ft, side="right"))
    fol = _synth.venue(_synth.top(ft, fmid - wide, fmid + 1 + wide, name="follower"))
    return lead, fol, t0, d


def test_planted_follower_response_is_recovered() -> None:
    lead, fol, t0, d = planted(21, jump_ticks=3, delay_ms=20, widen_ms=40)
    shocks = touch_shocks(lead, lead.quotes)
    assert shocks.ts_ns.tolist() == t0.tolist() and shocks.direction.tolist() == d.tolist()
    h_ms = np.array([1, 5, 10, 19, 21, 30, 50, 59, 61, 100, 500])
    study = event_study(lead, fol, shocks, source="quote", horizons_ns=h_ms * MS)
    tick_bps = 1e4 * 0.01 / 10_000  # one tick (0.01) of a 10,000.00 price: 0.01 bps
    mid, spread = study.responses["mid"], study.responses["spread"]
    before, after = h_ms < 20, h_ms >= 20
    # Mid: nothing before the delay, then the planted 3 ticks in the shock's direction.
    assert np.all(np.abs(mid.mean[before]) < 0.2 * 3 * tick_bps)
    assert np.all((mid.lo[before] <= 0) & (0 <= mid.hi[before]))
    np.testing.assert_allclose(mid.mean[after], 3 * tick_bps, rtol=0.15)
    assert np.all((mid.lo[after] <= 3 * tick_bps) & (3 * tick_bps <= mid.hi[after]))
    # Spread: 2 ticks wider from 20 ms to 60 ms after the shock, unsigned. (Shocks are 300 ms
    # to 900 ms apart: at 500 ms the next shock's widening may already be under way.)
    widened = (h_ms >= 20) & (h_ms < 60)
    np.testing.assert_allclose(spread.mean[widened], 2 * tick_bps, rtol=0.02)
    np.testing.assert_allclose(spread.mean[~widened & (h_ms < 300)], 0, atol=1e-6)
    # The leader's own mid moved one tick at the shock.
    np.testing.assert_allclose(study.responses["leader_mid"].mean, tick_bps, rtol=0.01)
    # No book for the follower: depth has no values rather than wrong ones.
    assert study.responses["depth"].n.sum() == 0
    assert study.as_dict()["shocks"] == len(t0)
