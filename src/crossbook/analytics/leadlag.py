"""Lead-lag between venues on asynchronous data: the Hayashi-Yoshida estimator.

Two prices observed at their own irregular times, X at t_0 < t_1 < ... and Y at
s_0 < s_1 < ..., give returns over the intervals I_i = (t_{i-1}, t_i] and
J_j = (s_{j-1}, s_j]. Hayashi and Yoshida (2005) estimate the covariation
without any synchronisation as

    HY = sum over i, j of dX_i dY_j 1{I_i and J_j overlap}.

For lead-lag (Hoffmann, Rosenbaum and Yoshida 2013; Huth and Abergel 2014) Y's
clock is shifted: at lag l every J_j becomes J_j - l, so Y's change at time s is
compared with X's changes around s - l. The correlation

    rho(l) = HY(l) / sqrt(sum dX^2 sum dY^2)

peaks at l = L when Y follows X by L: **a positive lag means X leads**.
LLR = sum_{l > 0} rho(l)^2 / sum_{l < 0} rho(l)^2 is Huth and Abergel's
lead-lag ratio: above 1, X leads.

The Y changes overlapping one X interval form a contiguous run J_lo..J_hi found
with two binary searches, and their sum is Y[hi] - Y[lo - 1], so one lag costs
O((n + m) log m) in numpy, and the lags are evaluated in vectorised chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["WEAK_LLR", "LeadLag", "hy_covariance", "hy_lead_lag", "lag_grid", "observations"]

I8 = npt.NDArray[np.int64]
F8 = npt.NDArray[np.float64]

_CHUNK = 1 << 22  # searchsorted elements per vectorised chunk of lags
#: An LLR between these bounds names no clear leader.
WEAK_LLR = (0.8, 1.25)


def lag_grid(max_lag_ns: int, n: int) -> I8:
    """``2n + 1`` equally spaced integer lags from ``-max_lag_ns`` to ``max_lag_ns``."""
    if n < 1 or max_lag_ns <= 0:
        raise ValueError(f"need n >= 1 and max_lag_ns > 0, got n={n}, max_lag_ns={max_lag_ns}")
    return np.round(np.linspace(-max_lag_ns, max_lag_ns, 2 * n + 1)).astype(np.int64)


def observations(ts_ns: I8, value: F8, *, changes_only: bool = False) -> tuple[I8, F8]:
    """The observation times and values HY should see from a sampled series.

    Samples sharing a timestamp collapse to the last one (an empty interval carries
    no time to overlap). With ``changes_only`` (the default, as in Huth and Abergel)
    only the samples where the value changes are kept, so each return's interval
    runs from the previous change to this one."""
    ts_ns = np.asarray(ts_ns, dtype=np.int64)
    value = np.asarray(value, dtype=np.float64)
    if len(ts_ns) == 0:
        return ts_ns, value
    if np.any(np.diff(ts_ns) < 0):
        raise ValueError("timestamps must be non-decreasing")
    last = np.ones(len(ts_ns), dtype=bool)
    last[:-1] = ts_ns[1:] != ts_ns[:-1]
    t, v = ts_ns[last], value[last]
    if changes_only and len(v) > 1:
        keep = np.ones(len(v), dtype=bool)
        keep[1:] = v[1:] != v[:-1]
        t, v = t[keep], v[keep]
    return t, v


def hy_covariance(t: I8, x: F8, s: I8, y: F8, lags_ns: I8) -> F8:
    """HY covariance of the returns of (t, x) and (s, y) with Y's clock shifted back by
    each lag (see the module text). Times are int64 ns, strictly increasing."""
    t, s = np.asarray(t, dtype=np.int64), np.asarray(s, dtype=np.int64)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    lags = np.asarray(lags_ns, dtype=np.int64)
    out = np.zeros(len(lags), dtype=np.float64)
    if len(t) < 2 or len(s) < 2:
        return out
    a, b, dx = t[:-1], t[1:], np.diff(x)
    nz = dx != 0  # zero returns add nothing: skip their searches
    a, b, dx = a[nz], b[nz], dx[nz]
    m = len(s)
    step = max(1, _CHUNK // max(1, len(a)))
    for k in range(0, len(lags), step):
        lag = lags[k:k + step, None]
        # J_j = (s[j-1], s[j]] meets (a + l, b + l] iff s[j] > a + l and s[j-1] < b + l.
        lo = np.maximum(np.searchsorted(s, (a + lag).ravel(), side="right"), 1)
        hi = np.minimum(np.searchsorted(s, (b + lag).ravel(), side="left"), m - 1)
        lo, hi = lo.reshape(lag.shape[0], -1), hi.reshape(lag.shape[0], -1)
        dy = np.where(lo <= hi, y[hi] - y[lo - 1], 0.0)
        out[k:k + step] = dy @ dx
    return out


@dataclass(frozen=True, slots=True)
class LeadLag:
    """Lead-lag of X against Y. Positive lags: X leads (Y follows X by that lag)."""

    x: str
    y: str
    lags_ns: I8
    rho: F8  # HY correlation at each lag
    cov: F8  # HY covariance at each lag (log-return units)
    n_x: int  # returns of X used
    n_y: int
    start_ns: int  # common observation window
    end_ns: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def peak_index(self) -> int:
        return int(np.argmax(self.rho))

    @property
    def peak_lag_ns(self) -> int:
        return int(self.lags_ns[self.peak_index])

    @property
    def peak_rho(self) -> float:
        return float(self.rho[self.peak_index])

    @property
    def rho_zero(self) -> float:
        """The correlation at lag 0 (the plain HY correlation), or nan if 0 is not on the grid."""
        z = np.flatnonzero(self.lags_ns == 0)
        return float(self.rho[z[0]]) if len(z) else float("nan")

    @property
    def llr(self) -> float:
        """Huth-Abergel lead-lag ratio: above 1, X leads; below 1, Y leads."""
        pos = float(np.sum(self.rho[self.lags_ns > 0] ** 2))
        neg = float(np.sum(self.rho[self.lags_ns < 0] ** 2))
        return pos / neg if neg > 0 else float("inf") if pos > 0 else float("nan")

    def llr_for(self, name: str) -> float:
        """The LLR seen from ``name`` (above 1: ``name`` leads)."""
        if name not in (self.x, self.y):
            raise ValueError(f"{name!r} is neither {self.x!r} nor {self.y!r}")
        llr = self.llr
        return llr if name == self.x else (1 / llr if llr else float("inf"))

    @property
    def leader(self) -> str | None:
        """The book that leads by Huth and Abergel's criterion (LLR above or below 1),
        None when the LLR is exactly 1 or undefined."""
        llr = self.llr
        if np.isnan(llr) or llr == 1.0:
            return None
        return self.x if llr > 1 else self.y

    @property
    def follower(self) -> str | None:
        lead = self.leader
        return None if lead is None else self.y if lead == self.x else self.x

    @property
    def lead_ns(self) -> int:
        """The peak's lag in the leader's favour: how far the leader is ahead. Negative
        when the peak lies on the other side from the LLR (see :attr:`consistent`)."""
        lead = self.leader
        if lead is None:
            return 0
        return self.peak_lag_ns if lead == self.x else -self.peak_lag_ns

    @property
    def consistent(self) -> bool:
        """The peak's side and the LLR name the same leader (a peak at lag 0 agrees with any)."""
        return self.lead_ns >= 0

    def describe(self) -> str:
        """One line: who leads by how much, or that no one clearly does."""
        lag = self.peak_lag_ns / 1e6
        if self.leader is None or WEAK_LLR[0] < self.llr < WEAK_LLR[1]:
            return f"no clear leader (LLR {self.llr:.2f}, peak at {lag:+g} ms)"
        if not self.consistent:
            return (f"unclear: LLR favours {self.leader}, correlation peaks "
                    f"{-self.lead_ns / 1e6:g} ms the other way")
        return f"{self.leader} leads by {self.lead_ns / 1e6:g} ms"

    def flipped(self) -> LeadLag:
        """The same result seen from Y: rho_YX(l) = rho_XY(-l) exactly (HY is symmetric
        in which clock is shifted), so the lags are mirrored and the names swapped."""
        order = np.argsort(-self.lags_ns, kind="stable")
        extra = dict(self.extra)
        if "block_llr" in extra:
            extra["block_llr"] = [1 / v if v else float("inf") for v in extra["block_llr"]]
            extra["block_peak_lag_ms"] = [-v for v in extra["block_peak_lag_ms"]]
        return LeadLag(self.y, self.x, -self.lags_ns[order], self.rho[order], self.cov[order],
                       self.n_y, self.n_x, self.start_ns, self.end_ns, extra)

    def as_dict(self) -> dict[str, Any]:
        return {
            "x": self.x, "y": self.y, "leader": self.leader, "follower": self.follower,
            "lead_ms": self.lead_ns / 1e6, "peak_lag_ms": self.peak_lag_ns / 1e6,
            "peak_rho": self.peak_rho, "rho_at_zero": self.rho_zero, "llr": self.llr,
            "consistent": self.consistent, "n_x": self.n_x, "n_y": self.n_y,
            "start_ns": self.start_ns, "end_ns": self.end_ns,
            "lags_ms": (self.lags_ns / 1e6).tolist(), "rho": self.rho.tolist(), **self.extra,
        }


def hy_lead_lag(
    x_ts_ns: I8, x_value: F8, y_ts_ns: I8, y_value: F8, lags_ns: I8, *,
    x_name: str = "x", y_name: str = "y", changes_only: bool = False,
) -> LeadLag:
    """HY cross-correlation of two asynchronously observed series over ``lags_ns``.

    Values are the prices to difference (use log mids for returns). Both series are
    first cut to their common time window; see :func:`observations` for ``changes_only``."""
    lags = np.asarray(lags_ns, dtype=np.int64)
    t, x = observations(x_ts_ns, x_value, changes_only=changes_only)
    s, y = observations(y_ts_ns, y_value, changes_only=changes_only)
    start = int(max(t[0], s[0])) if len(t) and len(s) else 0
    end = int(min(t[-1], s[-1])) if len(t) and len(s) else 0
    t, x = _window(t, x, start, end)
    s, y = _window(s, y, start, end)
    cov = hy_covariance(t, x, s, y, lags)
    vx, vy = float(np.sum(np.diff(x) ** 2)), float(np.sum(np.diff(y) ** 2))
    rho = cov / np.sqrt(vx * vy) if vx > 0 and vy > 0 else np.zeros_like(cov)
    return LeadLag(x_name, y_name, lags, rho, cov, max(0, len(t) - 1), max(0, len(s) - 1),
                   start, end)


def _window(t: I8, v: F8, start: int, end: int) -> tuple[I8, F8]:
    """The observations in [start, end], plus the last one before start (the level
    prevailing at start), so the first return inside the window is kept."""
    if end <= start:
        return t[:0], v[:0]
    i0 = max(0, int(np.searchsorted(t, start, side="right")) - 1)
    i1 = int(np.searchsorted(t, end, side="right"))
    return t[i0:i1], v[i0:i1]
