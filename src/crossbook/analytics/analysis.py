"""The whole primary/secondary analysis of several books: pairwise lead-lag, the
leader, and the event study of the leader's shocks against every follower."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from crossbook.analytics.events import (
    EventStudy,
    Shocks,
    event_study,
    ofi_shocks,
    touch_shocks,
)
from crossbook.analytics.leadlag import WEAK_LLR, LeadLag, hy_lead_lag, lag_grid
from crossbook.analytics.series import VenueSeries, resolve_source

__all__ = ["Analysis", "analyze", "rank_leaders"]



@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything ``crossbook leadlag`` shows; arrays inside, :meth:`as_dict` for JSON."""

    series: dict[str, VenueSeries]
    source: str
    start_ns: int
    end_ns: int
    pairs: list[LeadLag]
    ranking: list[tuple[str, float]]  # (book, score), best leader first
    studies: list[EventStudy]
    skipped: list[str] = field(default_factory=list)
    bands: str = "normal"

    @property
    def leader(self) -> str | None:
        """The book that leads the others, or None when no pair says so clearly."""
        if not self.ranking or self.ranking[0][1] <= 0:
            return None
        return self.ranking[0][0]

    def as_dict(self) -> dict[str, Any]:
        books = {}
        for name, v in self.series.items():
            top = v.top(self.source)
            books[name] = {
                "venue": v.venue, "symbol": v.symbol, "book_samples": len(v.book),
                "quotes": len(v.quotes), "trades": len(v.trades),
                "mid_changes": int(np.count_nonzero(np.diff(top.mid2))) if len(top) else 0,
                "last_mid": float(top.mid[-1]) if len(top) else None,
                "median_spread_bps": float(np.median(top.spread_bps)) if len(top) else None,
            }
        return {
            "source": self.source, "bands": self.bands, "start_ns": self.start_ns, "end_ns": self.end_ns,
            "books": books, "leader": self.leader,
            "ranking": [{"book": b, "score": s} for b, s in self.ranking],
            "pairs": [p.as_dict() | {"weak": is_weak(p)} for p in self.pairs],
            "event_studies": [s.as_dict() for s in self.studies],
            "skipped": self.skipped,
        }


def is_weak(p: LeadLag) -> bool:
    """No clear leader: LLR near 1, the peak and the LLR disagree, or the blocks of the
    window (when computed) do not all name the same leader."""
    blocks: list[str | None] = p.extra.get("block_leaders") or []
    split = bool(blocks) and any(b != p.leader for b in blocks)
    return bool(WEAK_LLR[0] < p.llr < WEAK_LLR[1] or not p.consistent or split)


def _with_blocks(p: LeadLag, x: Any, y: Any, lags: Any, blocks: int) -> LeadLag:
    """``p`` with the same estimate on ``blocks`` equal parts of its window in ``extra``:
    block_leaders, block_llr and block_peak_lag_ms (a short sample's verdict may not
    survive being cut in parts)."""
    if blocks < 2 or p.end_ns <= p.start_ns:
        return p
    edges = np.linspace(p.start_ns, p.end_ns, blocks + 1).astype(np.int64)
    parts = []
    for lo, hi in itertools.pairwise(edges):
        xs, ys = x.between(int(lo), int(hi)), y.between(int(lo), int(hi))
        if len(xs) < 2 or len(ys) < 2:
            continue
        parts.append(hy_lead_lag(xs.ts_recv_ns, xs.log_mid, ys.ts_recv_ns, ys.log_mid, lags,
                                 x_name=p.x, y_name=p.y))
    extra = dict(p.extra, block_leaders=[b.leader for b in parts],
                 block_llr=[b.llr for b in parts],
                 block_peak_lag_ms=[b.peak_lag_ns / 1e6 for b in parts])
    return replace(p, extra=extra)


def rank_leaders(names: list[str], pairs: list[LeadLag]) -> list[tuple[str, float]]:
    """Books by how much they lead: each pair adds log(LLR) to X and takes it from Y
    (clipped to +-5), so the book leading most of the others comes first. Only clear
    pairs count: a weak or unstable one (see is_weak) is no evidence of who leads, and
    on a short sample it would otherwise decide the headline."""
    score = dict.fromkeys(names, 0.0)
    for p in pairs:
        llr = p.llr
        if math.isnan(llr) or is_weak(p):
            continue
        s = 5.0 if llr == math.inf else -5.0 if llr <= 0 else max(-5.0, min(5.0, math.log(llr)))
        score[p.x] += s
        score[p.y] -= s
    return sorted(score.items(), key=lambda kv: -kv[1])


def analyze(
    series: dict[str, VenueSeries],
    *,
    max_lag_ns: int = 200_000_000,
    grid: int = 100,
    source: str = "auto",
    start_ns: int | None = None,
    end_ns: int | None = None,
    horizons_ns: npt.NDArray[np.int64] | None = None,
    ofi_quantile: float = 0.99,
    min_gap_ns: int = 50_000_000,
    bands: str = "normal",
    seed: int = 0,
    blocks: int = 3,
) -> Analysis:
    """Lead-lag of every pair of books (HY on log mids of their top of book, on ``2 grid
    + 1`` lags up to ``max_lag_ns``), the ranking of leaders, and the event study of the
    top leader's ``touch`` and ``ofi`` shocks against every other book. ``start_ns`` and
    ``end_ns`` restrict the analysis to samples received in that window; each pair is
    also estimated on ``blocks`` equal parts of its window, as a check of stability."""
    cut = {k: v.between(start_ns, end_ns) for k, v in series.items()}
    present = {k: v for k, v in cut.items() if max(len(v.quotes), len(v.book)) >= 2}
    source = resolve_source(present, source)
    usable = {k: v for k, v in present.items() if len(v.top(source)) >= 2}
    skipped = [f"{k}: fewer than 2 {source} samples in the window" for k in cut
               if k not in usable]
    lags = lag_grid(max_lag_ns, grid)
    pairs = []
    for (a, va), (b, vb) in itertools.combinations(usable.items(), 2):
        x, y = va.top(source), vb.top(source)
        p = hy_lead_lag(x.ts_recv_ns, x.log_mid, y.ts_recv_ns, y.log_mid, lags,
                        x_name=a, y_name=b)
        pairs.append(_with_blocks(p, x, y, lags, blocks))
    ranking = rank_leaders(list(usable), pairs) if pairs else []
    # Each pair seen from the higher-ranked book: positive lags then mean "X leads".
    rank = {name: i for i, (name, _) in enumerate(ranking)}
    pairs = [p.flipped() if rank[p.y] < rank[p.x] else p for p in pairs]
    studies: list[EventStudy] = []
    if ranking:
        lead_key = ranking[0][0]
        lead = usable[lead_key]
        ltop = lead.top(source)
        kinds: list[Shocks] = [touch_shocks(lead, ltop, min_gap_ns=min_gap_ns),
                               ofi_shocks(ltop, quantile=ofi_quantile, min_gap_ns=min_gap_ns)]
        for name, fol in usable.items():
            if name == lead_key:
                continue
            for shocks in kinds:
                studies.append(event_study(lead, fol, shocks, source=source,
                                           horizons_ns=horizons_ns, bands=bands, seed=seed))
    lo = min((int(v.top(source).ts_recv_ns[0]) for v in usable.values()), default=0)
    hi = max((int(v.top(source).ts_recv_ns[-1]) for v in usable.values()), default=0)
    return Analysis(usable, source, lo, hi, pairs, ranking, studies, skipped, bands)
