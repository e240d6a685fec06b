"""The benchmark workload generator keeps the properties the benchmarks rely on."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# benchmarks/ lives beside tests/, not in the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import crossbook
from benchmarks.pyorderbook import PyL2Book
from benchmarks.workload import HALF_WINDOW, Workload, make_workload
from crossbook import dtypes

N = 200_000
SEED = 12345
NEAR_TICKS = 40  # P(geometric offset with mean 8 > 40) is about 0.5%


@pytest.fixture(scope="module")
def workload() -> Workload:
    return make_workload(N, SEED, cache=False)


@pytest.fixture(scope="module")
def replay(workload: Workload) -> tuple[crossbook.L2Book, np.ndarray]:
    book = crossbook.L2Book()
    book.load_snapshot(workload.snapshot_bids, workload.snapshot_asks)
    bbo = np.zeros(N, dtype=dtypes.BBO)
    book.apply(workload.events, bbo)
    return book, bbo


def test_shapes_and_columns_agree(workload: Workload) -> None:
    ev = workload.events
    assert ev.dtype == dtypes.LEVEL_EVENT and len(ev) == N == workload.n_updates
    assert ev["side"].tolist() == workload.sides
    assert ev["price"].tolist() == workload.prices
    assert ev["size"].tolist() == workload.sizes
    assert set(np.unique(ev["side"]).tolist()) == {1, 2}
    assert np.all(np.diff(ev["ts_exchange_ns"]) > 0)


def test_actions_and_sizes(workload: Workload) -> None:
    ev = workload.events
    deletes = ev["action"] == dtypes.DELETE
    assert np.all((ev["action"] == dtypes.UPDATE) | deletes)
    assert np.all(ev["size"][deletes] == 0)
    assert np.all(ev["size"][~deletes] > 0)
    assert abs(deletes.mean() - 0.30) <= 0.02


def test_snapshot_has_2000_levels_per_side_near_the_mid(workload: Workload) -> None:
    bids, asks = workload.snapshot_bids, workload.snapshot_asks
    assert bids.dtype == dtypes.DEPTH and len(bids) == len(asks) == 2000
    assert np.all(np.diff(bids["price"]) < 0) and np.all(np.diff(asks["price"]) > 0)
    assert bids["price"][0] < asks["price"][0]
    mid = (bids["price"][0] + asks["price"][0]) / 2
    assert mid - bids["price"][-1] <= HALF_WINDOW and asks["price"][-1] - mid <= HALF_WINDOW
    assert np.all(bids["size"] > 0) and np.all(asks["size"] > 0)


def test_never_crossed_and_deletes_hit_live_levels(
    replay: tuple[crossbook.L2Book, np.ndarray],
) -> None:
    book, bbo = replay
    assert np.all(bbo["bid_size"] > 0) and np.all(bbo["ask_size"] > 0)  # no side ever empties
    assert np.all(bbo["bid_price"] < bbo["ask_price"])
    assert book.unknown_deletes == 0
    book.check_invariants()


def test_85_percent_near_the_touch(
    workload: Workload, replay: tuple[crossbook.L2Book, np.ndarray]
) -> None:
    _, bbo = replay
    bids, asks = workload.snapshot_bids, workload.snapshot_asks
    mids = (bbo["bid_price"] + bbo["ask_price"]) / 2
    mid_before = np.concatenate((((bids["price"][0] + asks["price"][0]) / 2,), mids[:-1]))
    near = np.abs(workload.events["price"] - mid_before) <= NEAR_TICKS
    assert abs(near.mean() - 0.85) <= 0.02
    # The rest spreads over the deep book, not just past the near band.
    far = np.abs(workload.events["price"] - mid_before)[~near]
    assert np.median(far) > HALF_WINDOW / 4


def test_about_2000_levels_per_side_within_the_window(workload: Workload) -> None:
    book = crossbook.L2Book()
    book.load_snapshot(workload.snapshot_bids, workload.snapshot_asks)
    for start in range(0, N, 10_000):
        book.apply(workload.events[start : start + 10_000])
        bids, asks = book.levels(1), book.levels(2)
        assert 1_850 <= len(bids) <= 2_150 and 1_850 <= len(asks) <= 2_150, (
            start,
            len(bids),
            len(asks),
        )
        mid = (bids["price"][0] + asks["price"][0]) / 2
        # A few ticks of slack: drift moves the mid before the far levels retire.
        assert mid - bids["price"][-1] <= HALF_WINDOW + 20
        assert asks["price"][-1] - mid <= HALF_WINDOW + 20


def test_mid_drifts(replay: tuple[crossbook.L2Book, np.ndarray]) -> None:
    _, bbo = replay
    mids = (bbo["bid_price"] + bbo["ask_price"]) / 2
    assert 5 <= mids.max() - mids.min() <= HALF_WINDOW / 2


def test_deterministic_and_seeded() -> None:
    a = make_workload(5_000, 1, cache=False)
    b = make_workload(5_000, 1, cache=False)
    c = make_workload(5_000, 2, cache=False)
    assert np.array_equal(a.events, b.events)
    assert np.array_equal(a.snapshot_bids, b.snapshot_bids)
    assert not np.array_equal(a.events["price"], c.events["price"])


def test_cache_round_trip(tmp_path: Path) -> None:
    fresh = make_workload(5_000, 3, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    cached = make_workload(5_000, 3, cache_dir=tmp_path)
    assert cached.events.dtype == dtypes.LEVEL_EVENT
    assert np.array_equal(fresh.events, cached.events)
    assert (
        cached.sides == fresh.sides
        and cached.prices == fresh.prices
        and cached.sizes == fresh.sizes
    )
    assert np.array_equal(fresh.snapshot_asks, cached.snapshot_asks)


def test_python_baseline_agrees_with_crossbook(
    workload: Workload, replay: tuple[crossbook.L2Book, np.ndarray]
) -> None:
    """The baseline is the benchmarks' reference, so it must agree event by event."""
    _, bbo = replay
    ref = PyL2Book.from_snapshot(workload.snapshot_bids, workload.snapshot_asks)
    n = 50_000
    for i, (s, p, q) in enumerate(zip(workload.sides[:n], workload.prices[:n], workload.sizes[:n])):
        assert ref.update(s, p, q)
        (bp, bs), (ap, az) = ref.bbo()  # type: ignore[misc]  # no side ever empties
        assert (bp, bs, ap, az) == tuple(bbo[i].tolist()), i
    assert ref.update(1, 1, 0) is False and ref.unknown_deletes == 1


def test_python_baseline_depth_matches_crossbook(workload: Workload) -> None:
    ref = PyL2Book.from_snapshot(workload.snapshot_bids, workload.snapshot_asks)
    book = crossbook.L2Book()
    book.load_snapshot(workload.snapshot_bids, workload.snapshot_asks)
    for s, p, q in zip(workload.sides[:20_000], workload.prices[:20_000], workload.sizes[:20_000]):
        ref.update(s, p, q)
        book.update(s, p, q)
    for n in (0, 1, 10, 5_000):
        got = book.depth(n)
        want = ref.depth(n)
        for side in range(2):
            assert (
                list(zip(*(got[side][f].tolist() for f in ("price", "size", "count"))))
                == want[side]
            )
