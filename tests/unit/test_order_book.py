"""OrderBook behaviour, one known answer at a time."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from crossbook import InvalidInputError, L2Book, OrderBook, OrderInfo, Side, dtypes
from tests.unit.bound_calls import hammer_during_batch

INT64_MAX = (1 << 63) - 1
BID, ASK = Side.BID, Side.ASK


def rows(arr: np.ndarray) -> list[tuple[int, ...]]:
    return [tuple(r) for r in arr.tolist()]


def events(*items: tuple[int, int, int, int, int]) -> np.ndarray:
    """ORDER_EVENT rows from (action, order_id, side, price, size); ts = index."""
    arr = np.zeros(len(items), dtype=dtypes.ORDER_EVENT)
    for i, (action, oid, side, price, size) in enumerate(items):
        arr[i] = (i, i + 100, oid, price, size, side, action, 0, 0)
    return arr


@pytest.fixture
def book() -> OrderBook:
    b = OrderBook(price_exp=2, size_exp=0)
    b.add(1, BID, 100_00, 5)
    b.add(2, BID, 100_00, 7, owner=9)
    b.add(3, BID, 99_50, 2)
    b.add(4, ASK, 100_50, 3)
    b.add(5, ASK, 101_00, 4)
    return b


def test_empty_book() -> None:
    b = OrderBook()
    assert b.bbo() == (None, None)
    assert len(b) == 0 and b.level_count(BID) == 0
    bids, asks = b.depth(5)
    assert bids.dtype == dtypes.DEPTH and len(bids) == len(asks) == 0
    assert b.orders(ASK).dtype == dtypes.RESTING_ORDER and len(b.orders(ASK)) == 0
    assert b.order(1) is None and b.queue_position(1) is None
    assert b.anomalies == {} and b.anomaly_total == 0
    b.check_invariants()


def test_queries(book: OrderBook) -> None:
    assert book.bbo() == ((100_00, 12), (100_50, 3))
    bids, asks = book.depth(1)
    assert rows(bids) == [(100_00, 12, 2)] and rows(asks) == [(100_50, 3, 1)]
    assert rows(book.levels(BID)) == [(100_00, 12, 2), (99_50, 2, 1)]
    assert rows(book.orders(BID)) == [(1, 100_00, 5, 0), (2, 100_00, 7, 9), (3, 99_50, 2, 0)]
    assert book.order(2) == OrderInfo(Side.BID, 100_00, 7, 9)
    assert book.order(2).side is Side.BID  # type: ignore[union-attr]
    assert book.queue_position(1) == 0 and book.queue_position(2) == 5
    assert len(book) == 5 and book.level_count(BID) == 2 and book.level_count(ASK) == 2
    book.check_invariants()


def test_cancel_partial_keeps_place_full_removes(book: OrderBook) -> None:
    assert book.cancel(1, 2)
    assert book.queue_position(2) == 3
    assert rows(book.orders(BID))[:2] == [(1, 100_00, 3, 0), (2, 100_00, 7, 9)]
    assert book.cancel(1)
    assert book.order(1) is None and book.queue_position(2) == 0
    assert book.bbo()[0] == (100_00, 7)


def test_execute_reduces_then_removes(book: OrderBook) -> None:
    assert book.execute(4, 1)
    assert book.bbo()[1] == (100_50, 2)
    assert book.execute(4, 2)
    assert book.bbo()[1] == (101_00, 4)


@pytest.mark.parametrize(
    ("price", "size", "order_after"),
    [
        (100_00, 3, [1, 2]),  # same price, smaller: keeps its place
        (100_00, 5, [1, 2]),  # same price, same size: keeps its place
        (100_00, 6, [2, 1]),  # same price, larger: back of the queue
        (99_50, 5, [2]),  # new price: back of the new level (behind order 3)
    ],
)
def test_modify_priority_rule(book: OrderBook, price: int, size: int, order_after: list[int]) -> None:
    assert book.modify(1, price, size)
    at_100 = [r[0] for r in rows(book.orders(BID)) if r[1] == 100_00]
    assert at_100 == order_after
    assert book.order(1) == OrderInfo(Side.BID, price, size, 0)
    if price == 99_50:
        assert [r[0] for r in rows(book.orders(BID)) if r[1] == 99_50] == [3, 1]
    book.check_invariants()


def test_modify_never_changes_side(book: OrderBook) -> None:
    book.modify(3, 200_00, 1)  # above the asks: a feed book may cross, it never matches
    assert book.order(3) == OrderInfo(Side.BID, 200_00, 1, 0)
    assert book.bbo() == ((200_00, 1), (100_50, 3))


def test_clear_one_side_or_both(book: OrderBook) -> None:
    book.clear(ASK)
    assert book.bbo()[1] is None and len(book) == 3
    assert book.add(4, ASK, 1, 1)  # ids of cleared orders are free again
    book.clear()
    assert len(book) == 0 and book.bbo() == (None, None)
    with pytest.raises(ValueError, match="side must be"):
        book.clear(3)
    book.check_invariants()


# ---------------------------------------------------------------- anomalies


@pytest.mark.parametrize(
    ("call", "kind", "named"),
    [
        (lambda b: b.add(1, BID, 5, 1), "duplicate_order", "already rests with size 5"),
        (lambda b: b.add(9, BID, -1, 1), "negative_price", "price -1"),
        (lambda b: b.add(9, BID, 5, 0), "non_positive_size", "size 0"),
        (lambda b: b.add(9, 3, 5, 1), "invalid_side", "side 3"),
        (lambda b: b.add(9, BID, 100_00, INT64_MAX), "size_overflow", "overflows the total"),
        (lambda b: b.cancel(42), "unknown_order", "cancel of an unknown order"),
        (lambda b: b.cancel(1, 0), "non_positive_size", "cancel size 0"),
        (lambda b: b.cancel(1, 6), "cancel_exceeds_size", "cancel of 6 but 5 rests"),
        (lambda b: b.execute(1, 6), "execute_exceeds_size", "execute of 6 but 5 rests"),
        (lambda b: b.execute(42, 1), "unknown_order", "execute of an unknown order"),
        (lambda b: b.modify(42, 1, 1), "unknown_order", "modify of an unknown order"),
        (lambda b: b.modify(1, 1, -3), "non_positive_size", "modify to size -3"),
    ],
)
def test_raise_policy_names_the_evidence_and_changes_nothing(
    book: OrderBook, call: object, kind: str, named: str
) -> None:
    before = (rows(book.orders(BID)), rows(book.orders(ASK)))
    with pytest.raises(InvalidInputError, match=named) as err:
        call(book)  # type: ignore[operator]
    assert err.value.anomaly == kind  # type: ignore[attr-defined]
    assert err.value.event_index is None  # type: ignore[attr-defined]
    assert isinstance(err.value, ValueError)
    assert (rows(book.orders(BID)), rows(book.orders(ASK))) == before
    assert book.anomalies == {}


def test_count_policy_counts_and_clamps() -> None:
    b = OrderBook(on_anomaly="count")
    assert b.add(1, BID, 10, 5)
    assert b.add(2, BID, 10, 5)
    assert not b.add(1, BID, 11, 4)  # duplicate: the new order replaces the old one
    assert rows(b.orders(BID)) == [(1, 11, 4, 0), (2, 10, 5, 0)]
    assert not b.cancel(7)
    assert not b.execute(2, 9)  # clamped: the order leaves
    assert not b.cancel(1, 10)
    assert len(b) == 0
    assert not b.add(3, 0, 1, 1) and not b.add(3, BID, -5, 1) and not b.add(3, BID, 1, 0)
    assert b.anomalies == {
        "duplicate_order": 1, "unknown_order": 1, "execute_exceeds_size": 1,
        "cancel_exceeds_size": 1, "invalid_side": 1, "negative_price": 1, "non_positive_size": 1,
    }
    assert b.anomaly_total == 7
    assert b.on_anomaly == "count"
    b.check_invariants()


def test_bad_arguments_raise_typed_errors() -> None:
    b = OrderBook()
    with pytest.raises(ValueError, match=r"side must be Side.BID \(1\) or Side.ASK \(2\), got 300"):
        b.add(1, 300, 1, 1)
    with pytest.raises(OverflowError, match="order_id -1 does not fit uint64"):
        b.add(-1, BID, 1, 1)
    with pytest.raises(OverflowError, match="price 9223372036854775808 does not fit int64"):
        b.add(1, BID, INT64_MAX + 1, 1)
    with pytest.raises(TypeError, match="size must be an int, got float 1.5"):
        b.add(1, BID, 1, 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unexpected keyword argument 'qty'"):
        b.add(1, BID, 1, qty=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="missing required argument 'size'"):
        b.add(1, BID, 1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for argument 'side'"):
        b.add(1, BID, 1, 1, side=ASK)  # type: ignore[misc]
    with pytest.raises(ValueError, match='on_anomaly must be "raise" or "count"'):
        OrderBook(on_anomaly="ignore")
    assert len(b) == 0


def test_keywords_and_numpy_integers_are_accepted() -> None:
    b = OrderBook()
    assert b.add(order_id=np.uint64(2**64 - 1), side=np.uint8(1), price=np.int64(5), size=3, owner=4)
    assert b.order(2**64 - 1) == OrderInfo(Side.BID, 5, 3, 4)
    assert b.cancel(2**64 - 1, size=None)


def test_uninitialised_instance_is_an_error_not_a_crash() -> None:
    b = OrderBook.__new__(OrderBook)
    for call in (lambda: b.add(1, BID, 1, 1), lambda: b.bbo(), lambda: b.cancel(1),
                 lambda: b.depth(1), lambda: len(b), lambda: b.apply(events())):
        with pytest.raises(TypeError):
            call()


# ---------------------------------------------------------------- apply


def test_apply_with_bbo_after_each_event() -> None:
    b = OrderBook()
    ev = events((1, 1, 1, 10, 5), (1, 2, 2, 12, 3), (5, 2, 0, 0, 1), (2, 1, 0, 11, 5), (3, 2, 0, 0, 0))
    bbo = np.zeros(len(ev), dtype=dtypes.BBO)
    b.apply(ev, bbo)
    assert bbo.tolist() == [(10, 5, 0, 0), (10, 5, 12, 3), (10, 5, 12, 2), (11, 5, 12, 2), (11, 5, 0, 0)]
    assert rows(b.orders(BID)) == [(1, 11, 5, 0)]


def test_apply_stops_at_the_first_bad_event_under_raise() -> None:
    b = OrderBook()
    ev = events((1, 1, 1, 10, 5), (3, 9, 0, 0, 0), (1, 2, 1, 10, 5))
    bbo = np.zeros(3, dtype=dtypes.BBO)
    with pytest.raises(InvalidInputError, match="event 1: unknown_order: order 9") as err:
        b.apply(ev, bbo)
    assert (err.value.event_index, err.value.order_id) == (1, 9)  # type: ignore[attr-defined]
    assert len(b) == 1 and bbo[0].tolist() == (10, 5, 0, 0) and bbo[2].tolist() == (0, 0, 0, 0)


def test_apply_counts_bad_actions_and_sides() -> None:
    b = OrderBook(on_anomaly="count")
    b.apply(events((9, 1, 1, 10, 5), (4, 0, 7, 0, 0), (1, 1, 1, 10, 5), (4, 0, 1, 0, 0)))
    assert b.anomalies == {"invalid_action": 1, "invalid_side": 1}
    assert len(b) == 0  # the clear of the bids removed the add


@pytest.mark.parametrize(
    ("arr", "bbo", "error", "match"),
    [
        (np.zeros(2, dtype=dtypes.LEVEL_EVENT), None, TypeError, "events must have dtype"),
        ([1, 2], None, TypeError, "events must be a numpy array"),
        (np.zeros((2, 2), dtype=dtypes.ORDER_EVENT), None, ValueError, "one-dimensional"),
        (np.zeros(4, dtype=dtypes.ORDER_EVENT)[::2], None, ValueError, "C-contiguous"),
        (np.zeros(2, dtype=dtypes.ORDER_EVENT), np.zeros(1, dtype=dtypes.BBO), ValueError, "fewer than"),
        (np.zeros(2, dtype=dtypes.ORDER_EVENT), np.zeros(2, dtype=dtypes.DEPTH), TypeError, "bbo_out"),
    ],
)
def test_apply_refuses_bad_arrays(arr: object, bbo: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        OrderBook().apply(arr, bbo)  # type: ignore[arg-type]


def test_apply_refuses_read_only_bbo_out() -> None:
    bbo = np.zeros(1, dtype=dtypes.BBO)
    bbo.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        OrderBook().apply(events((1, 1, 1, 1, 1)), bbo)


def test_batch_call_guards_against_concurrent_use() -> None:
    b = OrderBook(on_anomaly="count")
    n = 2_000_000
    ev = np.zeros(n, dtype=dtypes.ORDER_EVENT)
    ev["action"], ev["side"], ev["size"] = dtypes.ORDER_ADD, 1, 1
    ev["order_id"] = np.arange(n) % 5000
    ev["price"] = np.arange(n) % 700

    def use() -> None:
        b.bbo()
        b.add(10**9, BID, 1, 1)
        b.cancel(10**9)

    # Any error but BusyError propagates; the batch is repeated until the guard fired.
    assert hammer_during_batch(lambda: b.apply(ev), use) > 0
    b.check_invariants()
    assert len(b) == 5000


# ---------------------------------------------------------------- the L2 view


def test_level_events_follow_every_level_change() -> None:
    b = OrderBook(track_levels=True)
    ev = events((1, 1, 1, 10, 5), (1, 2, 1, 10, 3), (5, 1, 0, 0, 5), (4, 0, 0, 0, 0))
    ev["flags"] = [dtypes.F_LAST, 0, dtypes.F_LAST | dtypes.F_SNAPSHOT, dtypes.F_LAST]
    b.apply(ev)
    out = b.level_events()
    assert out.dtype == dtypes.LEVEL_EVENT
    assert [(e["price"], e["size"], e["count"], e["side"], e["action"], e["flags"], e["ts_exchange_ns"],
             e["ts_recv_ns"]) for e in out] == [
        (10, 5, 1, 1, dtypes.UPDATE, dtypes.F_LAST, 0, 100),
        (10, 8, 2, 1, dtypes.UPDATE, 0, 1, 101),
        (10, 3, 1, 1, dtypes.UPDATE, dtypes.F_LAST | dtypes.F_SNAPSHOT, 2, 102),
        (0, 0, 0, 0, dtypes.CLEAR, dtypes.F_LAST, 3, 103),
    ]
    assert len(b.level_events()) == 0  # drained
    b.set_timestamps(7, 8)
    b.add(5, ASK, 20, 1)
    (e,) = b.level_events().tolist()
    assert e[:2] == (7, 8)


def test_level_events_keep_an_l2_book_in_step() -> None:
    b = OrderBook(track_levels=True)
    l2 = L2Book()
    for oid in range(1, 40):
        b.add(oid, BID if oid % 2 else ASK, 100 + (oid % 7) * (1 if oid % 2 else -1) + (0 if oid % 2 else 20), oid)
    b.cancel(3)
    b.execute(4, 4)
    b.modify(5, 90, 1)
    l2.apply(b.level_events())
    for side in (BID, ASK):
        assert rows(l2.levels(side)) == rows(b.levels(side))
    assert OrderBook().level_events().size == 0  # not tracking: nothing buffered


# ---------------------------------------------------------------- copies


def test_copy_pickle_and_repr(book: OrderBook) -> None:
    counting = OrderBook(price_exp=2, size_exp=3, on_anomaly="count", track_levels=True)
    for oid, side, price, size in ((1, BID, 10, 5), (2, BID, 10, 6), (3, ASK, 12, 1), (1, ASK, 13, 2)):
        counting.add(oid, side, price, size, owner=oid)
    counting.cancel(99)
    counting.execute(3, 5)
    counting.add(4, BID, 11, INT64_MAX)
    counting.add(5, BID, 11, 1)
    counting.add(6, 0, 1, 1)
    counting.apply(events((8, 1, 1, 1, 1)))
    pending = counting.level_events()[:0]
    for original in (book, counting):
        for other in (original.copy(), copy.copy(original), copy.deepcopy(original),
                      pickle.loads(pickle.dumps(original))):
            assert type(other) is OrderBook
            for side in (BID, ASK):
                assert rows(other.orders(side)) == rows(original.orders(side))
            assert other.anomalies == original.anomalies
            assert (other.price_exp, other.size_exp, other.on_anomaly, other.track_levels) == (
                original.price_exp, original.size_exp, original.on_anomaly, original.track_levels)
            assert rows(other.level_events()) == rows(original.copy().level_events())
            other.check_invariants()
    assert len(pending) == 0
    c = book.copy()
    c.cancel(1)
    assert book.order(1) is not None
    assert repr(book) == (
        "OrderBook(price_exp=2, size_exp=0, orders=5, levels=2/2, bid=12 @ 100.00, ask=3 @ 100.50)")
    assert "anomalies=" in repr(counting) and 'on_anomaly="count"' in repr(counting)


class Mine(OrderBook):
    __slots__ = ()


def test_subclass_copies_as_itself() -> None:
    m = Mine()
    m.add(1, BID, 1, 1)
    assert type(m.copy()) is Mine and type(pickle.loads(pickle.dumps(m))) is Mine


def test_memory_and_format_helpers() -> None:
    b = OrderBook(price_exp=2, size_exp=8)
    empty = b.memory_bytes()
    b.reserve(10_000)
    assert b.memory_bytes() > empty
    assert b.format_price(6183763) == "61837.63"
    assert b.format_size(154698000) == "1.54698000"
