"""L2Book behaviour, one known answer at a time."""

from __future__ import annotations

import copy
import pickle
import numpy as np
import pytest

import crossbook
from crossbook import FillEstimate, InvalidInputError, L2Book, Side, dtypes
from tests.unit.bound_calls import hammer_during_batch

INT64_MAX = (1 << 63) - 1


def rows(arr: np.ndarray) -> list[tuple[int, int, int]]:
    return [tuple(r) for r in arr.tolist()]


@pytest.fixture
def book() -> L2Book:
    b = L2Book(price_exp=2, size_exp=8)
    b.load_snapshot([(100_00, 5, 2), (99_50, 7, 1), (99_00, 1, 1)], [(100_50, 3, 1), (101_00, 4, 2)])
    return b


def test_empty_book() -> None:
    b = L2Book()
    assert b.bbo() == (None, None)
    assert len(b) == 0
    assert b.mid() is None and b.spread() is None and b.microprice() is None
    assert b.imbalance() is None
    bids, asks = b.depth(10)
    assert bids.dtype == dtypes.DEPTH and len(bids) == 0 and len(asks) == 0
    assert b.cost_to_fill(Side.ASK, 5) == FillEstimate(0, 0, None)
    assert not b.is_crossed()
    b.check_invariants()


def test_update_sets_absolute_size_and_zero_removes(book: L2Book) -> None:
    assert book.update(Side.BID, 100_00, 9)
    assert book.bbo() == ((100_00, 9), (100_50, 3))
    assert book.update(Side.BID, 100_00, 0)
    assert book.bbo() == ((99_50, 7), (100_50, 3))
    assert book.level(Side.BID, 100_00) is None
    assert book.level(Side.BID, 99_50) == (7, 1)
    assert len(book) == 4


def test_unknown_delete_is_counted_noop(book: L2Book) -> None:
    before = rows(book.levels(Side.BID))
    assert book.update(Side.BID, 12_345, 0) is False
    assert book.unknown_deletes == 1
    assert rows(book.levels(Side.BID)) == before


@pytest.mark.parametrize(
    ("price", "size", "count", "named"),
    [(-1, 1, 0, "-1"), (1, -5, 0, "-5"), (1, 1, -2, "-2")],
)
def test_negative_values_raise_naming_the_value(price: int, size: int, count: int, named: str) -> None:
    b = L2Book()
    with pytest.raises(ValueError, match=named):
        b.update(Side.BID, price, size, count)
    with pytest.raises(InvalidInputError):
        b.update(Side.BID, price, size, count)
    assert len(b) == 0


def test_bad_side_and_overflow_raise() -> None:
    b = L2Book()
    with pytest.raises(ValueError, match="side must be Side.BID .1. or Side.ASK .2., got 3"):
        b.update(3, 1, 1)
    with pytest.raises(ValueError, match="got 4294967297"):
        b.update(2**32 + 1, 1, 1)
    with pytest.raises(OverflowError, match="price 9223372036854775808 does not fit int64"):
        b.update(Side.BID, INT64_MAX + 1, 1)  # refused, never wrapped
    with pytest.raises(TypeError, match="size must be an int, got float 1.5"):
        b.update(Side.BID, 1, 1.5)  # type: ignore[arg-type]
    with pytest.raises(OverflowError, match="count"):
        b.update(Side.BID, 1, 1, 2**31)
    with pytest.raises(TypeError):
        b.update(Side.BID, 1)  # type: ignore[call-arg]
    assert len(b) == 0


def test_keyword_arguments_take_the_general_path() -> None:
    b = L2Book()
    assert b.update(side=Side.BID, price=5, size=2, count=1) is True
    assert b.update(Side.BID, 5, size=0) is True
    assert b.update(Side.ASK, price=6, size=0) is False
    assert (len(b), b.unknown_deletes) == (0, 1)
    with pytest.raises(ValueError, match="got -1"):
        b.update(Side.BID, 5, size=-1)


def test_uninitialised_instance_is_an_error_not_a_crash() -> None:
    b = L2Book.__new__(L2Book)
    with pytest.raises(TypeError):
        b.update(Side.BID, 1, 1)
    with pytest.raises(TypeError):
        b.bbo()


def test_bbo_tuple_is_reused_only_while_the_touch_is_unchanged(book: L2Book) -> None:
    first = book.bbo()
    book.update(Side.BID, 90_00, 3)  # deep: the touch is unchanged
    assert book.bbo() is first
    book.update(Side.BID, 100_00, 6)  # same price, new size
    assert book.bbo() == ((100_00, 6), (100_50, 3))
    ev = np.zeros(1, dtype=dtypes.LEVEL_EVENT)
    ev[["side", "action", "price"]] = (Side.ASK, dtypes.DELETE, 100_50)
    book.apply(ev)
    assert book.bbo() == ((100_00, 6), (101_00, 4))
    book.clear()
    assert book.bbo() == (None, None)


def test_depth_is_best_first_and_limited(book: L2Book) -> None:
    bids, asks = book.depth(2)
    assert rows(bids) == [(100_00, 5, 2), (99_50, 7, 1)]
    assert rows(asks) == [(100_50, 3, 1), (101_00, 4, 2)]
    assert len(book.depth(0)[0]) == 0
    with pytest.raises(ValueError):
        book.depth(-1)


def test_depth_into_fills_caller_arrays(book: L2Book) -> None:
    bids = np.zeros(10, dtype=dtypes.DEPTH)
    asks = np.zeros(1, dtype=dtypes.DEPTH)
    assert book.depth_into(bids, asks) == (3, 1)
    assert rows(bids[:3]) == [(100_00, 5, 2), (99_50, 7, 1), (99_00, 1, 1)]
    assert rows(asks) == [(100_50, 3, 1)]
    with pytest.raises(TypeError, match="dtype"):
        book.depth_into(np.zeros(3, dtype=np.int64), asks)
    with pytest.raises(ValueError, match="read-only"):
        ro = np.zeros(3, dtype=dtypes.DEPTH)
        ro.flags.writeable = False
        book.depth_into(ro, asks)
    with pytest.raises(ValueError, match="contiguous"):
        book.depth_into(np.zeros(6, dtype=dtypes.DEPTH)[::2], asks)


def test_apply_records_bbo_after_each_event() -> None:
    ev = np.zeros(5, dtype=dtypes.LEVEL_EVENT)
    ev["side"] = [1, 2, 1, 1, 0]
    ev["action"] = [dtypes.ADD, dtypes.ADD, dtypes.UPDATE, dtypes.DELETE, dtypes.CLEAR]
    ev["price"] = [100, 105, 101, 101, 0]
    ev["size"] = [3, 4, 2, 0, 0]
    bbo = np.zeros(5, dtype=dtypes.BBO)
    b = L2Book()
    b.apply(ev, bbo)
    assert bbo.tolist() == [(100, 3, 0, 0), (100, 3, 105, 4), (101, 2, 105, 4), (100, 3, 105, 4), (0, 0, 0, 0)]
    assert len(b) == 0


def test_apply_clear_one_side(book: L2Book) -> None:
    ev = np.zeros(1, dtype=dtypes.LEVEL_EVENT)
    ev["side"], ev["action"] = Side.ASK, dtypes.CLEAR
    book.apply(ev)
    assert book.bbo() == ((100_00, 5), None)


def test_apply_is_all_or_nothing(book: L2Book) -> None:
    ev = np.zeros(3, dtype=dtypes.LEVEL_EVENT)
    ev["side"] = 1
    ev["action"] = [dtypes.ADD, dtypes.ADD, 9]
    ev["price"] = [1, 2, 3]
    ev["size"] = 1
    before = (rows(book.levels(Side.BID)), rows(book.levels(Side.ASK)))
    with pytest.raises(InvalidInputError, match="event 2: unknown action 9"):
        book.apply(ev)
    assert (rows(book.levels(Side.BID)), rows(book.levels(Side.ASK))) == before
    ev["action"][2] = dtypes.ADD
    ev["price"][1] = -7
    with pytest.raises(InvalidInputError, match="event 1: price must be >= 0, got -7"):
        book.apply(ev)


def test_apply_checks_arrays() -> None:
    b = L2Book()
    with pytest.raises(TypeError, match="dtype"):
        b.apply(np.zeros(3, dtype=dtypes.DEPTH))
    with pytest.raises(TypeError, match="numpy array"):
        b.apply([1, 2, 3])
    ev = np.zeros(4, dtype=dtypes.LEVEL_EVENT)
    ev["side"], ev["action"], ev["size"] = 1, 1, 1
    with pytest.raises(ValueError, match="fewer"):
        b.apply(ev, np.zeros(3, dtype=dtypes.BBO))


@pytest.mark.parametrize("n", [10, 5000])  # below and above the size that releases the GIL
def test_apply_positional_and_keyword_calls_agree(n: int) -> None:
    """apply(events) has its own entry point; keywords and bbo_out take the general one."""
    rng = np.random.default_rng(n)
    ev = np.zeros(n, dtype=dtypes.LEVEL_EVENT)
    ev["side"] = rng.integers(1, 3, n)
    ev["action"] = dtypes.UPDATE
    ev["price"] = rng.integers(0, 300, n) + np.where(ev["side"] == Side.ASK, 300, 0)
    ev["size"] = rng.integers(0, 4, n)
    books = [L2Book(), L2Book(), L2Book()]
    books[0].apply(ev)
    books[1].apply(events=ev)
    books[2].apply(ev, np.zeros(n, dtype=dtypes.BBO))
    first, *rest = [(rows(b.levels(Side.BID)), rows(b.levels(Side.ASK))) for b in books]
    assert first[0] and first[1] and all(r == first for r in rest)
    with pytest.raises(ValueError, match="C-contiguous"):
        books[0].apply(np.zeros(2 * n, dtype=dtypes.LEVEL_EVENT)[::2])
    unaligned = np.frombuffer(b"\0" + ev.tobytes(), dtype=dtypes.LEVEL_EVENT, offset=1)
    with pytest.raises(ValueError, match="not aligned"):
        books[0].apply(unaligned)


def test_book_never_matches_and_reports_crossed(book: L2Book) -> None:
    book.update(Side.BID, 101_00, 1)
    assert book.is_crossed()
    assert book.bbo() == ((101_00, 1), (100_50, 3))
    assert "CROSSED" in repr(book)
    book.check_invariants()


def test_analytics_known_answers() -> None:
    b = L2Book()
    b.load_snapshot([(100, 3), (99, 1)], [(102, 1), (103, 5)])
    assert b.mid() == 101.0
    assert b.spread() == 2
    assert b.microprice() == pytest.approx((100 * 1 + 102 * 3) / 4)
    assert b.imbalance(1) == pytest.approx((3 - 1) / 4)
    assert b.imbalance(2) == pytest.approx((4 - 6) / 10)
    assert b.cost_to_fill(Side.ASK, 4) == FillEstimate(4, 102 + 3 * 103, 103)
    assert b.cost_to_fill(Side.ASK, 100) == FillEstimate(6, 102 + 5 * 103, 103)
    assert b.cost_to_fill(Side.BID, 2) == FillEstimate(2, 200, 100)
    with pytest.raises(ValueError):
        b.cost_to_fill(Side.ASK, 0)


def test_notional_beyond_int64_is_exact() -> None:
    b = L2Book()
    b.update(Side.ASK, INT64_MAX, INT64_MAX)
    b.update(Side.ASK, INT64_MAX - 1, INT64_MAX)
    f = b.cost_to_fill(Side.ASK, INT64_MAX)
    assert f == FillEstimate(INT64_MAX, (INT64_MAX - 1) * INT64_MAX, INT64_MAX - 1)
    assert b.mid() is None


def test_extreme_prices_and_jumps() -> None:
    b = L2Book()
    for p in (0, INT64_MAX, 1, INT64_MAX - 1, 5_000_000, 2**40):
        b.update(Side.BID, p, 1)
        b.update(Side.ASK, p, 1)
        b.check_invariants()
    assert b.bbo() == ((INT64_MAX, 1), (0, 1))
    for p in (INT64_MAX, INT64_MAX - 1, 2**40, 5_000_000):
        b.update(Side.BID, p, 0)
        b.check_invariants()
    assert b.bbo()[0] == (1, 1)
    assert [r[0] for r in rows(b.levels(Side.ASK))] == [0, 1, 5_000_000, 2**40, INT64_MAX - 1, INT64_MAX]


def test_side_emptied_and_refilled_far_away() -> None:
    b = L2Book()
    for p in range(1000, 1100):
        b.update(Side.BID, p, p)
    for p in range(1000, 1100):
        b.update(Side.BID, p, 0)
    assert b.bbo() == (None, None)
    b.update(Side.BID, 10**15, 2)
    b.update(Side.BID, 10**15 - 10**6, 3)
    assert rows(b.levels(Side.BID)) == [(10**15, 2, 0), (10**15 - 10**6, 3, 0)]
    b.check_invariants()


def test_thousands_of_far_levels() -> None:
    b = L2Book()
    rng = np.random.default_rng(7)
    prices = rng.choice(10**12, size=5000, replace=False)
    for p in prices:
        b.update(Side.ASK, int(p), 1)
    b.check_invariants()
    assert [r[0] for r in rows(b.levels(Side.ASK))] == sorted(int(p) for p in prices)
    for p in prices[::2]:
        b.update(Side.ASK, int(p), 0)
    b.check_invariants()
    assert len(b) == 2500


def test_snapshot_input_checks() -> None:
    b = L2Book()
    with pytest.raises(ValueError, match="bids row 1: snapshot size must be > 0, got 0"):
        b.load_snapshot([(1, 1), (2, 0)], [])
    with pytest.raises(ValueError, match="row 0 must be"):
        b.load_snapshot([(1,)], [])
    arr = np.array([(5, 1, 0)], dtype=dtypes.DEPTH)
    b.load_snapshot(arr, arr[:0])
    assert b.bbo() == ((5, 1), None)


def test_copy_pickle_and_repr(book: L2Book) -> None:
    book.update(Side.BID, 1, 0)  # one unknown delete travels with the copies
    for other in (book.copy(), copy.copy(book), copy.deepcopy(book), pickle.loads(pickle.dumps(book))):
        assert type(other) is L2Book
        assert rows(other.levels(Side.BID)) == rows(book.levels(Side.BID))
        assert rows(other.levels(Side.ASK)) == rows(book.levels(Side.ASK))
        assert (other.price_exp, other.size_exp, other.unknown_deletes) == (2, 8, 1)
    c = book.copy()
    c.update(Side.BID, 100_00, 0)
    assert book.bbo()[0] == (100_00, 5)
    assert repr(book) == (
        "L2Book(price_exp=2, size_exp=8, levels=3/2, bid=0.00000005 @ 100.00, ask=0.00000003 @ 100.50)"
    )


def test_format_helpers() -> None:
    b = L2Book(price_exp=2, size_exp=8)
    assert b.format_price(6183763) == "61837.63"
    assert b.format_size(154698000) == "1.54698000"
    assert b.format_price(5) == "0.05"
    assert L2Book(price_exp=-3).format_price(7) == "7000"
    assert crossbook.format_fixed(-5, 3) == "-0.005"


def test_batch_call_guards_against_concurrent_use() -> None:
    b = L2Book()
    n = 2_000_000
    ev = np.zeros(n, dtype=dtypes.LEVEL_EVENT)
    ev["side"], ev["action"], ev["size"] = 1, dtypes.UPDATE, 1
    ev["price"] = np.arange(n) % 5000
    # Any error but BusyError propagates; the batch is repeated until the guard fired.
    assert hammer_during_batch(lambda: b.apply(ev), b.bbo) > 0
    b.check_invariants()
    assert len(b) == 5000
