"""pytest-benchmark suite for crossbook.L2Book on the issue's workload.

Every benchmark asserts its result against the plain-Python reference (final
bbo and depth(10), and for the batch the bbo after every event), so the suite
also runs as a test: with ``--benchmark-disable`` (pyproject's default) each
function runs once and checks. Real figures::

    CROSSBOOK_BENCH_N=1000000 python -m pytest benchmarks --benchmark-enable -q

CROSSBOOK_BENCH_N sets the workload size (default 1,000,000; CI uses a small
one), CROSSBOOK_BENCH_ROUNDS the rounds per benchmark (default 5). The speed
targets are recorded in ``extra_info`` rather than asserted: a shared CI
machine cannot hold a throughput floor.
"""

from __future__ import annotations

import ctypes
import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import crossbook
from benchmarks.loops import (
    DEPTH_N,
    apply_batch,
    apply_recording,
    update_bbo,
    update_depth,
    update_depth_into,
)
from benchmarks.pyorderbook import PyL2Book
from benchmarks.workload import MID0, Workload, default_n, make_workload
from crossbook import dtypes

N = default_n()
ROUNDS = int(os.environ.get("CROSSBOOK_BENCH_ROUNDS", "5"))
MEMORY_LEVELS = 100_000  # live levels per side in the memory benchmark
MEMORY_BOOKS = 10
MEMORY_LIMIT = 10 * 2**20

TARGETS = {  # updates per second, from the issue
    "update_bbo": 5e6,
    "apply_bbo_out": 40e6,
    "apply_features_out10": 20e6,
    "update_depth10": 1.5e6,
    "update_depth_into10": 1.5e6,
}


@dataclass(frozen=True)
class Reference:
    """The end state (and bbo trail) every implementation must reproduce."""

    final_bbo: Any
    final_depth: tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]
    bbo_trail: np.ndarray  # BBO, after every event


@pytest.fixture(scope="module")
def workload() -> Workload:
    return make_workload(N)


@pytest.fixture(scope="module")
def reference(workload: Workload) -> Reference:
    """Replays the workload through the plain-Python book, once per module."""
    book = PyL2Book.from_snapshot(workload.snapshot_bids, workload.snapshot_asks)
    update, bbo = book.update, book.bbo
    trail = []
    for s, p, q in zip(workload.sides, workload.prices, workload.sizes):
        update(s, p, q)
        (bp, bs), (ap, az) = bbo()  # type: ignore[misc]  # the workload never empties a side
        trail.append((bp, bs, ap, az))
    assert book.unknown_deletes == 0
    return Reference(
        final_bbo=book.bbo(),
        final_depth=book.depth(DEPTH_N),
        bbo_trail=np.array(trail, dtype=dtypes.BBO),
    )


def fresh_book(w: Workload) -> crossbook.L2Book:
    book = crossbook.L2Book()
    book.load_snapshot(w.snapshot_bids, w.snapshot_asks)
    return book


def rows(a: np.ndarray) -> list[tuple[int, int, int]]:
    return list(zip(a["price"].tolist(), a["size"].tolist(), a["count"].tolist()))


def assert_final_state(book: crossbook.L2Book, ref: Reference) -> None:
    assert book.bbo() == ref.final_bbo
    bids, asks = book.depth(DEPTH_N)
    assert (rows(bids), rows(asks)) == ref.final_depth
    assert book.unknown_deletes == 0
    assert not book.is_crossed()


def run_measured(
    benchmark: Any,
    target: Callable[..., Any],
    setup: Callable[[], tuple[tuple[Any, ...], dict[str, Any]]],
    *,
    n_updates: int,
    rounds: int = ROUNDS,
    goal: str | None = None,
) -> Any:
    """benchmark.pedantic plus updates/s in extra_info.

    Each round is also timed here, so that a disabled run (one call, no
    pytest-benchmark stats) still reports a rate.
    """
    seconds: list[float] = []

    def timed(*args: Any) -> Any:
        t0 = time.perf_counter()
        result = target(*args)
        seconds.append(time.perf_counter() - t0)
        return result

    result = benchmark.pedantic(
        timed, setup=setup, rounds=rounds, warmup_rounds=1 if rounds > 1 else 0
    )
    median = benchmark.stats.stats.median if benchmark.enabled else statistics.median(seconds)
    rate = n_updates / median
    benchmark.extra_info.update(n_updates=n_updates, median_s=median, updates_per_s=rate)
    if goal is not None:
        benchmark.extra_info.update(
            target_updates_per_s=TARGETS[goal], meets_target=rate >= TARGETS[goal]
        )
    return result


# -- benchmarks ---------------------------------------------------------------


def test_update_bbo_per_call(benchmark: Any, workload: Workload, reference: Reference) -> None:
    """update() then bbo() after every update, one Python call each."""
    w = workload
    book, last = run_measured(
        benchmark,
        update_bbo,
        lambda: ((fresh_book(w), w.sides, w.prices, w.sizes), {}),
        n_updates=w.n_updates,
        goal="update_bbo",
    )
    assert last == reference.final_bbo
    assert_final_state(book, reference)


def test_apply_batch_bbo_out(benchmark: Any, workload: Workload, reference: Reference) -> None:
    """apply(events, bbo_out): the whole workload in one call, bbo recorded per event."""
    w = workload
    # Allocated once and touched here, so that no round pays its page faults.
    bbo_out = np.zeros(w.n_updates, dtype=dtypes.BBO)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        bbo_out.view(np.int64)[:] = -1  # a row the core failed to write shows up
        return (fresh_book(w), w.events, bbo_out), {}

    book = run_measured(benchmark, apply_batch, setup, n_updates=w.n_updates, goal="apply_bbo_out")
    np.testing.assert_array_equal(bbo_out, reference.bbo_trail)
    assert_final_state(book, reference)


def touch_flow(before: np.ndarray, now: np.ndarray, side: str, better: Any) -> np.ndarray:
    """Cont-Kukanov-Stoikov flow of one side between BBO rows (no side ever empties here)."""
    p0, q0 = before[f"{side}_price"], before[f"{side}_size"]
    p1, q1 = now[f"{side}_price"], now[f"{side}_size"]
    return np.where(better(p1, p0), q1, np.where(p1 == p0, q1 - q0, -q0))


def test_apply_batch_depth_out10(benchmark: Any, workload: Workload, reference: Reference) -> None:
    """apply(events, depth_out=, n=10): the top 10 of both sides recorded after every event."""
    w = workload
    depth_out = np.zeros((w.n_updates, 2, DEPTH_N), dtype=dtypes.DEPTH)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        depth_out.view(np.int64)[:] = -1
        return (fresh_book(w), w.events, depth_out, None), {}

    book = run_measured(benchmark, apply_recording, setup, n_updates=w.n_updates)
    trail = reference.bbo_trail
    for side, name in ((0, "bid"), (1, "ask")):
        np.testing.assert_array_equal(depth_out[:, side, 0]["price"], trail[f"{name}_price"])
        np.testing.assert_array_equal(depth_out[:, side, 0]["size"], trail[f"{name}_size"])
    assert (rows(depth_out[-1, 0]), rows(depth_out[-1, 1])) == reference.final_depth
    assert_final_state(book, reference)


def test_apply_batch_features_out10(
    benchmark: Any, workload: Workload, reference: Reference
) -> None:
    """apply(events, features_out=, n=10): BOOK_FEATURES after every event."""
    w = workload
    features_out = np.zeros(w.n_updates, dtype=dtypes.BOOK_FEATURES)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        features_out.view(np.int64)[:] = -1
        return (fresh_book(w), w.events, None, features_out), {}

    book = run_measured(
        benchmark, apply_recording, setup, n_updates=w.n_updates, goal="apply_features_out10"
    )
    trail = reference.bbo_trail
    first = np.array([(w.snapshot_bids[0]["price"], w.snapshot_bids[0]["size"],
                       w.snapshot_asks[0]["price"], w.snapshot_asks[0]["size"])], dtype=dtypes.BBO)
    before = np.concatenate((first, trail[:-1]))
    f = features_out
    assert (f["flags"] == dtypes.FEAT_TWO_SIDED).all()
    np.testing.assert_array_equal(f["mid_x2"], trail["bid_price"] + trail["ask_price"])
    np.testing.assert_array_equal(f["spread"], trail["ask_price"] - trail["bid_price"])
    np.testing.assert_array_equal(f["ofi_bid"], touch_flow(before, trail, "bid", np.greater))
    np.testing.assert_array_equal(f["ofi_ask"], touch_flow(before, trail, "ask", np.less))
    np.testing.assert_array_equal(f["ofi"], f["ofi_bid"] - f["ofi_ask"])
    assert f["imbalance"][-1] == book.imbalance(DEPTH_N)
    assert_final_state(book, reference)


def test_update_depth10_per_call(benchmark: Any, workload: Workload, reference: Reference) -> None:
    """update() then depth(10) (two new arrays) after every update."""
    w = workload
    book, (bids, asks) = run_measured(
        benchmark,
        update_depth,
        lambda: ((fresh_book(w), w.sides, w.prices, w.sizes), {}),
        n_updates=w.n_updates,
        goal="update_depth10",
    )
    assert (rows(bids), rows(asks)) == reference.final_depth
    assert_final_state(book, reference)


def test_update_depth_into10_per_call(
    benchmark: Any, workload: Workload, reference: Reference
) -> None:
    """update() then depth_into() two preallocated 10-row arrays after every update."""
    w = workload
    bids_out = np.zeros(DEPTH_N, dtype=dtypes.DEPTH)
    asks_out = np.zeros(DEPTH_N, dtype=dtypes.DEPTH)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        bids_out.fill(0)
        asks_out.fill(0)
        return (fresh_book(w), w.sides, w.prices, w.sizes, bids_out, asks_out), {}

    book, (nb, na) = run_measured(
        benchmark, update_depth_into, setup, n_updates=w.n_updates, goal="update_depth_into10"
    )
    assert (rows(bids_out[:nb]), rows(asks_out[:na])) == reference.final_depth
    assert_final_state(book, reference)


def test_python_baseline_update_bbo(
    benchmark: Any, workload: Workload, reference: Reference
) -> None:
    """The plain-Python SortedDict book, same loop as test_update_bbo_per_call, for scale."""
    w = workload
    book, last = run_measured(
        benchmark,
        update_bbo,
        lambda: (
            (PyL2Book.from_snapshot(w.snapshot_bids, w.snapshot_asks), w.sides, w.prices, w.sizes),
            {},
        ),
        n_updates=w.n_updates,
        rounds=max(1, min(ROUNDS, 3)),  # ~10x slower than crossbook; 3 rounds tell enough
    )
    assert last == reference.final_bbo
    assert book.depth(DEPTH_N) == reference.final_depth
    assert book.unknown_deletes == 0


# -- memory ---------------------------------------------------------------------


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def release_free_heap() -> None:
    """Hands freed heap pages back to the OS, so that RSS growth counts every page
    the new books touch instead of hiding the ones recycled from earlier tests."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the growth may then read low
        pass


def memory_events(layout: str, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MEMORY_LEVELS bids and asks, in shuffled order; returns (events, bid prices, ask prices)."""
    rng = np.random.default_rng(seed)
    if layout == "consecutive":
        bids = MID0 - 1 - np.arange(MEMORY_LEVELS, dtype=np.int64)
        asks = MID0 + 1 + np.arange(MEMORY_LEVELS, dtype=np.int64)
    else:  # spread at random over 10**9 ticks around a mid of 10**9
        half = 5 * 10**8
        bids = 10**9 - 1 - rng.choice(half, size=MEMORY_LEVELS, replace=False).astype(np.int64)
        asks = 10**9 + 1 + rng.choice(half, size=MEMORY_LEVELS, replace=False).astype(np.int64)
    events = np.zeros(2 * MEMORY_LEVELS, dtype=dtypes.LEVEL_EVENT)
    events["price"] = np.concatenate((bids, asks))
    events["side"] = np.repeat(np.array([1, 2], dtype=np.uint8), MEMORY_LEVELS)
    events["size"] = rng.integers(1, 10_000, size=2 * MEMORY_LEVELS)
    events["action"] = dtypes.UPDATE
    events = events[rng.permutation(len(events))]  # a feed does not arrive sorted
    return events, np.sort(bids)[::-1], np.sort(asks)


def build_books(events: np.ndarray) -> tuple[list[crossbook.L2Book], int]:
    """MEMORY_BOOKS books from the same events; returns them and the RSS growth per book."""
    before = rss_bytes()
    books = []
    for _ in range(MEMORY_BOOKS):
        book = crossbook.L2Book()
        book.apply(events)
        books.append(book)
    return books, (rss_bytes() - before) // MEMORY_BOOKS


@pytest.mark.parametrize("layout", ["consecutive", "random_wide"])
def test_memory_100k_levels_per_side(benchmark: Any, layout: str) -> None:
    events, bid_prices, ask_prices = memory_events(layout)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        release_free_heap()
        return (events,), {}

    # One round: only the first build in a process measures fresh pages.
    books, rss_per_book = run_measured(
        benchmark, build_books, setup, n_updates=MEMORY_BOOKS * len(events), rounds=1
    )
    book = books[0]
    benchmark.extra_info.update(
        memory_bytes=book.memory_bytes(),
        rss_growth_per_book=rss_per_book,
        levels_per_side=MEMORY_LEVELS,
    )
    assert np.array_equal(book.levels(1)["price"], bid_prices)
    assert np.array_equal(book.levels(2)["price"], ask_prices)
    assert book.bbo()[0][0] == bid_prices[0] and book.bbo()[1][0] == ask_prices[0]
    assert book.memory_bytes() < MEMORY_LIMIT, f"memory_bytes() = {book.memory_bytes():,}"
    assert rss_per_book < MEMORY_LIMIT, f"RSS growth per book = {rss_per_book:,} bytes"
