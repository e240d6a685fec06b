"""The streaming arbitrage scanner over 10 venues quoting one instrument, replayed in
batch (one C++ loop, no Python loop over levels). Target: >= 1 M book updates/s.

The workload (seeded): ten venues, each the L2 benchmark's realistic stream (about
2,000 levels a side, 85% of updates near the touch, 30% deletes, never crossed within
a venue) around one price with small per-venue offsets; one pair sits about its fees apart, so
opportunities after fees open and close; messages interleaved at random.
The benchmark asserts that after the batch every pair's open opportunity equals
best_opportunity on copies of the two books.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from benchmarks.workload import make_workload
from crossbook import _core, dtypes
from tests.conftest import require_compiled

VENUES = 10
# Opportunities need the venues' mids to wander, which takes a few hundred thousand
# updates; the replay itself costs milliseconds, so quick mode keeps this floor.
N = max(int(os.environ.get("CROSSBOOK_BENCH_N", "1000000")), 400_000)
FEES_CBPS = [50, 50, 100, 400, 750, 1000, 200, 250, 500, 300]  # 0.5-10 bps taker


def make_events(n: int, seed: int = 7) -> np.ndarray:
    """Ten venues, each a valid never-crossing L2 stream (the L2 benchmark's generator,
    one seed per venue) around the same price, shifted by a small per-venue offset;
    their messages interleaved at random. Venues 0 and 1 sit about their fees apart,
    so that pair crosses after fees now and then; the rest never do."""
    rng = np.random.default_rng(seed)
    per_venue = max(n // VENUES, 1)
    offsets = rng.integers(-200, 201, VENUES)  # ticks; 1 bp of the ~10,000,000 mid = 1,000
    offsets[0] += 850  # venue 0's bids hover around venue 1's asks plus both fees
    parts, order = [], []
    for v in range(VENUES):
        w = make_workload(per_venue, seed=seed * 100 + v)
        snap = np.concatenate([_adds(w.snapshot_bids, 1), _adds(w.snapshot_asks, 2)])
        ev = np.zeros(len(snap) + len(w.events), dtype=dtypes.SCAN_EVENT)
        for f in ("price", "size", "count", "side", "action"):
            ev[f][: len(snap)] = snap[f]
            ev[f][len(snap):] = w.events[f]
        ev["price"] += offsets[v]
        ev["book"] = v
        ev["flags"] = dtypes.F_LAST
        parts.append(ev)
        order.append(np.full(len(w.events), v))
    # Every venue's snapshot first, then the updates in a random interleaving that keeps
    # each venue's own order.
    snaps = [p[: len(p) - len(o)] for p, o in zip(parts, order)]
    streams = [p[len(p) - len(o):] for p, o in zip(parts, order)]
    pick = rng.permutation(np.concatenate(order))
    merged = np.empty(len(pick), dtype=dtypes.SCAN_EVENT)
    for v in range(VENUES):
        merged[pick == v] = streams[v]
    out = np.concatenate([*snaps, merged])
    out["ts_recv_ns"] = 1_700_000_000_000_000_000 + np.arange(len(out)) * 1_000
    out["ts_exchange_ns"] = out["ts_recv_ns"]
    return out


def _adds(rows: np.ndarray, side: int) -> np.ndarray:
    ev = np.zeros(len(rows), dtype=dtypes.LEVEL_EVENT)
    ev["price"], ev["size"], ev["count"] = rows["price"], rows["size"], rows["count"]
    ev["side"], ev["action"] = side, dtypes.ADD
    return ev


@pytest.fixture(scope="module")
def events() -> np.ndarray:
    require_compiled(hasattr(_core, "ArbScanner"),
                     "this build of crossbook._core has no ArbScanner")
    return make_events(N)


def _scan(events: np.ndarray) -> tuple[object, np.ndarray]:
    scanner = _core.ArbScanner(2, 0, FEES_CBPS, max_age_ns=None, mode="message_end")
    return scanner, scanner.process(events)


def test_scanner_ten_venues(benchmark, events: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    scanner, out = benchmark(_scan, events)
    kinds = np.bincount(out["kind"], minlength=4)
    assert kinds[1] > 0 and kinds[3] > 0  # opportunities opened and closed
    assert kinds[1] - kinds[3] == scanner.open_count
    for buy in range(VENUES):
        for sell in range(VENUES):
            if buy == sell:
                continue
            want = _core.best_opportunity(scanner.book_copy(buy), scanner.book_copy(sell),
                                          FEES_CBPS[buy], FEES_CBPS[sell])
            assert scanner.open_opportunity(buy, sell) == want
    benchmark.extra_info.update(updates=len(events), opened=int(kinds[1]), target_per_s=1_000_000)
    if benchmark.stats:
        benchmark.extra_info["updates_per_s"] = len(events) / benchmark.stats.stats.median
