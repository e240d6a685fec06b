"""Hayashi-Yoshida lead-lag: the estimator against a brute-force double loop, and the
known lag of a random walk observed asynchronously on two Poisson clocks."""

from __future__ import annotations

import numpy as np
import pytest

from crossbook.analytics import analyze, hy_covariance, hy_lead_lag, lag_grid, observations
from tests.analytics import _synth

MS = 1_000_000


def brute_hy(t: np.ndarray, x: np.ndarray, s: np.ndarray, y: np.ndarray, lag: int) -> float:
    """sum dX_i dY_j over overlapping (t[i-1], t[i]] and (s[j-1] - lag, s[j] - lag]."""
    total = 0.0
    for i in range(1, len(t)):
        for j in range(1, len(s)):
            if s[j] - lag > t[i - 1] and s[j - 1] - lag < t[i]:
                total += (x[i] - x[i - 1]) * (y[j] - y[j - 1])
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hy_covariance_equals_the_double_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.unique(rng.integers(0, 1000, 40))
    s = np.unique(rng.integers(0, 1000, 30))
    x = rng.normal(size=len(t)).cumsum()
    y = rng.normal(size=len(s)).cumsum()
    x[5] = x[4]  # a zero return is skipped by the fast path; it must not change the sum
    lags = np.array([-300, -57, -1, 0, 1, 13, 250, 999], dtype=np.int64)
    fast = hy_covariance(t, x, s, y, lags)
    slow = [brute_hy(t, x, s, y, int(lag)) for lag in lags]
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def test_touching_intervals_do_not_overlap() -> None:
    # X changes over (0, 10], Y over (10, 20]: they only touch, so no covariance at lag 0;
    # shifting Y back by 1 ns makes them overlap.
    t, x = np.array([0, 10]), np.array([0.0, 1.0])
    s, y = np.array([10, 20]), np.array([0.0, 1.0])
    assert hy_covariance(t, x, s, y, np.array([0, 1]))[0] == 0.0
    assert hy_covariance(t, x, s, y, np.array([0, 1]))[1] == 1.0


def test_observations_collapse_equal_times_and_optionally_drop_repeats() -> None:
    t, v = observations(np.array([1, 1, 2, 3, 3, 4]), np.array([1.0, 2.0, 2.0, 5.0, 6.0, 6.0]))
    assert t.tolist() == [1, 2, 3, 4] and v.tolist() == [2.0, 2.0, 6.0, 6.0]
    t, v = observations(np.array([1, 2, 3, 4]), np.array([1.0, 1.0, 2.0, 2.0]), changes_only=True)
    assert t.tolist() == [1, 3] and v.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="non-decreasing"):
        observations(np.array([2, 1]), np.array([0.0, 0.0]))


def lagged_walk(seed: int, lag_ns: int, duration_s: float = 600.0, rates: tuple[float, float] = (20, 15)
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A random walk X on a 1 ms grid; Y(t) = X(t - lag). Each observed on its own Poisson
    clock. Returns (t, x, s, y) with x, y the walk's values at the observation times."""
    rng = np.random.default_rng(seed)
    steps = int(duration_s * 1000) + 2000
    walk = rng.normal(scale=1e-4, size=steps).cumsum()
    t = _synth.poisson_times(rng, rates[0], duration_s) + 1_000 * MS
    s = _synth.poisson_times(rng, rates[1], duration_s) + 1_000 * MS
    x = walk[t // MS]
    y = walk[(s - lag_ns) // MS]
    return t, x, s, y


@pytest.mark.parametrize(("seed", "lag_ms"), [(11, 50), (12, -30), (13, 0), (14, 120)])
def test_known_lag_is_recovered_within_one_grid_step(seed: int, lag_ms: int) -> None:
    t, x, s, y = lagged_walk(seed, lag_ms * MS)
    lags = lag_grid(200 * MS, 40)  # 5 ms steps
    step = int(lags[1] - lags[0])
    r = hy_lead_lag(t, x, s, y, lags, x_name="X", y_name="Y")
    assert abs(r.peak_lag_ns - lag_ms * MS) <= step
    assert r.peak_rho > 0.8  # the same walk: close to perfectly correlated at the right lag
    if lag_ms > 0:
        assert (r.leader, r.follower, r.llr > 1, r.consistent) == ("X", "Y", True, True)
        assert abs(r.lead_ns - lag_ms * MS) <= step
    elif lag_ms < 0:
        assert (r.leader, r.llr < 1) == ("Y", True)
        assert abs(r.lead_ns + lag_ms * MS) <= step
    # Seen from Y, the same curve mirrored.
    back = hy_lead_lag(s, y, t, x, lags, x_name="Y", y_name="X")
    np.testing.assert_allclose(back.rho, r.flipped().rho, atol=1e-12)
    assert back.leader == r.leader


def test_analyze_ranks_a_chain_of_leaders() -> None:
    """A leads B by 20 ms, B leads C by 30 ms (so A leads C by 50 ms): the ranking is A, B, C,
    every pair is seen from its leader, and the event studies run against both followers."""
    rng = np.random.default_rng(5)
    duration = 300.0
    ticks = rng.choice([-1, 0, 0, 0, 1], size=int(duration * 1000) + 2000).cumsum() + 10_000_000
    series = {}
    for name, delay_ms, rate in (("A", 0, 40), ("B", 20, 30), ("C", 50, 25)):
        ts = _synth.poisson_times(rng, rate, duration) + 1_000 * MS
        bid = ticks[(ts - delay_ms * MS) // MS]
        q = _synth.top(ts, bid, bid + 1, name=name)
        series[name] = _synth.venue(q)
    result = analyze(series, max_lag_ns=100 * MS, grid=50)
    assert [name for name, _ in result.ranking] == ["A", "B", "C"]
    got = {(p.x, p.y): p for p in result.pairs}
    for (x, y), lag_ms in ((("A", "B"), 20), (("B", "C"), 30), (("A", "C"), 50)):
        p = got[(x, y)]  # oriented from the higher-ranked book
        assert p.leader == x and abs(p.lead_ns - lag_ms * MS) <= 2 * MS
        assert all(b == x for b in p.extra["block_leaders"])
    assert {(s.follower, s.kind) for s in result.studies} == {
        ("B SYM", "touch"), ("B SYM", "ofi"), ("C SYM", "touch"), ("C SYM", "ofi")}
    d = result.as_dict()
    assert d["leader"] == "A" and len(d["pairs"]) == 3
