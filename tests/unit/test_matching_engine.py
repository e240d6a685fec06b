"""MatchingEngine behaviour, one rule and one known answer at a time."""

from __future__ import annotations

import copy
import gc
import pickle

import numpy as np
import pytest

from crossbook import (
    L2Book,
    MatchingEngine,
    OrderBookView,
    OrderInfo,
    OrderType,
    RejectReason,
    Side,
    StpMode,
    TimeInForce,
    dtypes,
)
from tests.unit.bound_calls import hammer_during_batch

INT64_MAX = (1 << 63) - 1
BID, ASK = Side.BID, Side.ASK
R = RejectReason


def fills(e: MatchingEngine) -> list[tuple[int, int, int, int, int]]:
    """(taker_id, maker_id, price, size, taker_side) of the fills since the last call."""
    return [(int(f["taker_id"]), int(f["maker_id"]), int(f["price"]), int(f["size"]),
             int(f["taker_side"])) for f in e.take_fills()]


def rejects(e: MatchingEngine) -> list[tuple[int, int, RejectReason]]:
    """(order_id, size, reason) of the rejections since the last call."""
    return [(int(r["order_id"]), int(r["size"]), R(int(r["reason"]))) for r in e.take_rejects()]


def orders(e: MatchingEngine, side: Side) -> list[tuple[int, int, int, int]]:
    return [tuple(r) for r in e.book.orders(side).tolist()]


@pytest.fixture
def engine() -> MatchingEngine:
    """Asks 101 x 5 (id 1, owner 1), 101 x 3 (id 2, owner 2), 102 x 4 (id 3, owner 1); bid 99 x 2 (id 4)."""
    e = MatchingEngine(price_exp=2)
    for oid, owner, side, price, size in ((1, 1, ASK, 101, 5), (2, 2, ASK, 101, 3), (3, 1, ASK, 102, 4),
                                          (4, 2, BID, 99, 2)):
        assert e.submit(oid, owner, side, price, size) == 0
    assert rejects(e) == []
    return e


# ---------------------------------------------------------------- price-time priority


def test_fills_at_resting_prices_oldest_first_and_the_rest_rests(engine: MatchingEngine) -> None:
    assert engine.submit(10, 9, BID, 102, 10, ts_ns=77) == 3
    assert fills(engine) == [(10, 1, 101, 5, 1), (10, 2, 101, 3, 1), (10, 3, 102, 2, 1)]
    assert orders(engine, ASK) == [(3, 102, 2, 1)]
    assert engine.book.bbo() == ((99, 2), (102, 2))
    assert (engine.trade_count, engine.traded_volume, engine.last_trade_price) == (3, 10, 102)
    engine.check_invariants()


def test_limit_gtc_remainder_rests_at_its_limit(engine: MatchingEngine) -> None:
    assert engine.submit(10, 9, BID, 101, 12) == 2
    fills(engine)
    assert engine.book.order(10) == OrderInfo(Side.BID, 101, 4, 9)
    assert engine.book.bbo() == ((101, 4), (102, 4))


def test_ioc_remainder_expires(engine: MatchingEngine) -> None:
    assert engine.submit(10, 9, BID, 101, 12, tif=TimeInForce.IOC) == 2
    assert rejects(engine) == [(10, 4, R.EXPIRED)]
    assert engine.book.order(10) is None


def test_market_order_sweeps_and_expires_on_an_empty_side(engine: MatchingEngine) -> None:
    assert engine.submit(10, 9, BID, 0, 20, type=OrderType.MARKET) == 3
    assert rejects(engine) == [(10, 8, R.EXPIRED)]
    assert engine.book.bbo() == ((99, 2), None)


def test_fok_all_or_nothing(engine: MatchingEngine) -> None:
    assert engine.submit(10, 9, BID, 101, 9, tif=TimeInForce.FOK) == 0
    assert rejects(engine) == [(10, 9, R.FOK_NOT_FILLABLE)]
    assert len(engine.book) == 4  # nothing happened
    assert engine.submit(11, 9, BID, 102, 9, tif=TimeInForce.FOK) == 3
    assert sum(f[3] for f in fills(engine)) == 9


def test_post_only_rests_or_is_rejected(engine: MatchingEngine) -> None:
    assert engine.submit(10, 9, BID, 100, 1, post_only=True) == 0
    assert engine.submit(11, 9, BID, 101, 1, post_only=True) == 0
    assert rejects(engine) == [(11, 1, R.POST_ONLY_WOULD_TAKE)]
    assert engine.book.order(10) is not None and engine.book.order(11) is None
    engine.submit(12, 9, BID, 100, 1, post_only=True, tif=TimeInForce.IOC)
    engine.submit(13, 9, BID, 0, 1, post_only=True, type=OrderType.MARKET)
    assert [r[2] for r in rejects(engine)] == [R.INVALID_FLAGS, R.INVALID_FLAGS]


# ---------------------------------------------------------------- self-trade prevention


@pytest.mark.parametrize(
    ("mode", "want_fills", "want_rejects", "asks_after"),
    [
        (StpMode.NONE, [(10, 1, 101, 5, 1), (10, 2, 101, 1, 1)], [],
         [(2, 101, 2, 2), (3, 102, 4, 1)]),
        (StpMode.CANCEL_NEWEST, [], [(10, 6, R.SELF_TRADE)],
         [(1, 101, 5, 1), (2, 101, 3, 2), (3, 102, 4, 1)]),
        (StpMode.CANCEL_OLDEST, [(10, 2, 101, 3, 1)], [(1, 5, R.SELF_TRADE), (3, 4, R.SELF_TRADE)],
         []),
        (StpMode.CANCEL_BOTH, [], [(1, 5, R.SELF_TRADE), (10, 6, R.SELF_TRADE)],
         [(2, 101, 3, 2), (3, 102, 4, 1)]),
        (StpMode.DECREMENT, [(10, 2, 101, 1, 1)], [(1, 5, R.SELF_TRADE), (10, 5, R.SELF_TRADE)],
         [(2, 101, 2, 2), (3, 102, 4, 1)]),
    ],
)
def test_self_trade_prevention_modes(
    engine: MatchingEngine, mode: StpMode, want_fills: list[tuple[int, ...]],
    want_rejects: list[tuple[int, int, RejectReason]], asks_after: list[tuple[int, ...]],
) -> None:
    engine.submit(10, 1, BID, 102, 6, stp=mode)  # owner 1 meets its own order 1 first
    assert fills(engine) == want_fills
    assert rejects(engine) == want_rejects
    assert orders(engine, ASK) == asks_after
    engine.check_invariants()


def test_engine_stp_mode_applies_to_default_requests() -> None:
    e = MatchingEngine(stp=StpMode.CANCEL_NEWEST)
    assert e.stp is StpMode.CANCEL_NEWEST
    e.submit(1, 7, ASK, 10, 1)
    e.submit(2, 7, BID, 10, 1)
    assert rejects(e) == [(2, 1, R.SELF_TRADE)]
    e.submit(3, 7, BID, 10, 1, stp=StpMode.NONE)  # the request's own mode wins
    assert fills(e) == [(3, 1, 10, 1, 1)]


def test_fok_counts_only_what_it_can_trade_under_stp(engine: MatchingEngine) -> None:
    engine.submit(10, 1, BID, 102, 8, tif=TimeInForce.FOK, stp=StpMode.CANCEL_NEWEST)
    assert rejects(engine) == [(10, 8, R.FOK_NOT_FILLABLE)]  # order 1 (its own) stops it at once
    engine.submit(11, 1, BID, 102, 3, tif=TimeInForce.FOK, stp=StpMode.CANCEL_OLDEST)
    assert fills(engine) == [(11, 2, 101, 3, 1)]  # its own order 1 is skipped, then cancelled
    assert rejects(engine) == [(1, 5, R.SELF_TRADE)]


# ---------------------------------------------------------------- cancel and modify


def test_cancel_partial_keeps_place_and_checks_owner(engine: MatchingEngine) -> None:
    assert engine.cancel(1, 1, size=2)
    assert orders(engine, ASK)[:2] == [(1, 101, 3, 1), (2, 101, 3, 2)]
    assert not engine.cancel(1, 2)
    assert not engine.cancel(99, 1)
    assert not engine.cancel(1, 1, size=-1)
    assert rejects(engine) == [(1, 0, R.OWNER_MISMATCH), (99, 0, R.UNKNOWN_ORDER), (1, -1, R.INVALID_SIZE)]
    assert engine.cancel(1, 1, size=50)  # more than rests: the whole order goes
    assert engine.book.order(1) is None


def test_modify_priority_rule(engine: MatchingEngine) -> None:
    assert engine.modify(1, 1, 101, 4) == 0  # smaller, same price: keeps its place
    assert [r[0] for r in orders(engine, ASK)] == [1, 2, 3]
    assert engine.modify(1, 1, 101, 6) == 0  # larger: back of the queue
    assert [r[0] for r in orders(engine, ASK)] == [2, 1, 3]
    assert engine.book.queue_position(1) == 3
    assert engine.modify(1, 1, 103, 6) == 0  # new price: back of the new level
    assert orders(engine, ASK)[-1] == (1, 103, 6, 1)


def test_modify_that_crosses_trades_as_a_new_limit(engine: MatchingEngine) -> None:
    assert engine.modify(4, 2, 101, 7, ts_ns=5) == 2  # order 2 is its owner's own: STP is NONE
    assert fills(engine) == [(4, 1, 101, 5, 1), (4, 2, 101, 2, 1)]
    assert engine.book.order(4) is None
    engine.submit(5, 2, BID, 99, 1)
    assert engine.modify(3, 1, 98, 4, post_only=True) == 0
    assert rejects(engine) == [(3, 4, R.POST_ONLY_WOULD_TAKE)]
    assert engine.book.order(3) == OrderInfo(Side.ASK, 102, 4, 1)  # left as it was


def test_modify_rejections(engine: MatchingEngine) -> None:
    engine.modify(99, 1, 100, 1)
    engine.modify(1, 2, 100, 1)
    engine.modify(1, 1, -5, 1)
    engine.modify(1, 1, 101, 0)
    engine.modify(1, 1, 101, 1, stp=6)
    assert [r[2] for r in rejects(engine)] == [
        R.UNKNOWN_ORDER, R.OWNER_MISMATCH, R.INVALID_PRICE, R.INVALID_SIZE, R.INVALID_STP]
    assert engine.book.order(1) == OrderInfo(Side.ASK, 101, 5, 1)


# ---------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"type": 9}, R.INVALID_TYPE), ({"side": 3}, R.INVALID_SIDE), ({"tif": 0}, R.INVALID_TIF),
        ({"stp": 6}, R.INVALID_STP), ({"price": -1}, R.INVALID_PRICE), ({"size": 0}, R.INVALID_SIZE),
        ({"order_id": 1}, R.DUPLICATE_ORDER_ID), ({"size": INT64_MAX, "price": 101}, R.INVALID_SIZE),
    ],
)
def test_every_bad_request_is_rejected_with_its_reason(
    engine: MatchingEngine, kwargs: dict[str, int], reason: RejectReason
) -> None:
    args = {"order_id": 10, "owner": 5, "side": 2, "price": 105, "size": 1} | kwargs
    assert engine.submit(**args) == 0  # type: ignore[arg-type]
    ((oid, size, why),) = rejects(engine)
    assert (oid, size, why) == (args["order_id"], args["size"], reason)
    assert why.name == reason.name and len(engine.book) == 4


def test_bad_flags_are_rejected_in_a_batch() -> None:
    req = np.zeros(1, dtype=dtypes.ORDER_REQUEST)
    req[0] = (0, 1, 1, 10, 1, 1, OrderType.LIMIT, TimeInForce.GTC, 0, 4, 0)
    f, r = MatchingEngine().submit_batch(req)
    assert len(f) == 0 and R(int(r["reason"][0])) is R.INVALID_FLAGS


def test_arguments_out_of_range_raise() -> None:
    e = MatchingEngine()
    with pytest.raises(ValueError, match="side must be Side.BID"):
        e.submit(1, 1, 256, 1, 1)
    with pytest.raises(ValueError, match="type must be an OrderType, got 300"):
        e.submit(1, 1, 1, 1, 1, type=300)
    with pytest.raises(OverflowError, match="owner -1 does not fit uint64"):
        e.submit(1, -1, 1, 1, 1)
    with pytest.raises(OverflowError, match="size 9223372036854775808 does not fit int64"):
        e.cancel(1, 1, size=INT64_MAX + 1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'price'"):
        e.cancel(1, 1, price=5)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="at most 5 positional arguments"):
        e.submit(1, 1, 1, 1, 1, 1)  # type: ignore[misc]
    assert e.take_rejects().size == 0


# ---------------------------------------------------------------- safety controls


def test_max_order_size_and_notional() -> None:
    e = MatchingEngine(max_order_size=10, max_notional=1_000)
    e.submit(1, 1, BID, 50, 11)
    e.submit(2, 1, BID, 101, 10)
    assert e.submit(3, 1, BID, 100, 10) == 0  # exactly at the limit: accepted
    e.submit(4, 1, ASK, 0, 10, type=OrderType.MARKET)  # no band: a market notional is unknown
    assert [r[2] for r in rejects(e)] == [R.MAX_ORDER_SIZE, R.MAX_NOTIONAL]
    assert (e.max_order_size, e.max_notional, e.price_band_bps) == (10, 1_000, None)


def test_price_band_rejects_limits_and_stops_market_orders() -> None:
    e = MatchingEngine(price_band_bps=500, reference_price=1_000)  # band 950..1050
    e.submit(1, 1, ASK, 1_051, 1)
    for oid, price in ((2, 1_000), (3, 1_050)):
        e.submit(oid, 1, ASK, price, 1)
    e.submit(4, 2, BID, 0, 5, type=OrderType.MARKET)
    assert fills(e) == [(4, 2, 1_000, 1, 1), (4, 3, 1_050, 1, 1)]
    assert rejects(e) == [(1, 1, R.PRICE_BAND), (4, 3, R.EXPIRED)]  # side emptied: expired
    e.reference_price = 900  # band 855..945
    e.submit(5, 1, ASK, 940, 1)
    e.submit(6, 1, ASK, 950, 1)  # outside: rejected
    e.reference_price = 1_000
    e.submit(7, 1, ASK, 1_040, 1)
    e.reference_price = 900
    e.submit(8, 2, BID, 0, 5, type=OrderType.MARKET)  # 1040 rests beyond the band top
    assert fills(e) == [(8, 5, 940, 1, 1)]
    assert rejects(e) == [(6, 1, R.PRICE_BAND), (8, 4, R.PRICE_BAND)]


def test_market_notional_is_checked_at_the_band_top() -> None:
    e = MatchingEngine(price_band_bps=1_000, reference_price=100, max_notional=1_000)  # top 110
    e.submit(1, 1, ASK, 0, 10, type=OrderType.MARKET)
    assert rejects(e) == [(1, 10, R.MAX_NOTIONAL)]  # 110 * 10 > 1000, even for a sell


def test_reference_follows_trades() -> None:
    e = MatchingEngine(price_band_bps=100, reference_price=1_000, reference_follows_trades=True)
    e.submit(1, 1, ASK, 1_010, 1)
    e.submit(2, 2, BID, 1_010, 1)
    assert e.reference_price == 1_010 and e.last_trade_price == 1_010
    e.reference_price = None  # no reference, no band
    e.submit(3, 1, ASK, 5_000, 1)
    assert rejects(e) == []


def test_volatility_halt_then_cancels_only_until_resume() -> None:
    e = MatchingEngine(halt_move_bps=100, halt_window_ns=1_000)
    e.submit(1, 1, ASK, 1_000, 1, ts_ns=0)
    e.submit(2, 1, ASK, 1_011, 5, ts_ns=0)
    e.submit(3, 2, BID, 1_000, 1, ts_ns=10)
    assert not e.halted
    assert e.submit(4, 2, BID, 1_011, 2, ts_ns=20) == 1  # 1.1% above the window's low
    assert e.halted  # once the request is done: its fill stands
    e.submit(5, 2, BID, 1_011, 1, ts_ns=30)
    e.modify(2, 1, 1_012, 3, ts_ns=30)
    assert e.cancel(2, 1, size=1, ts_ns=30)
    assert [r[2] for r in rejects(e)] == [R.HALTED, R.HALTED]
    e.resume()
    assert not e.halted
    e.submit(6, 2, BID, 1_011, 1, ts_ns=40)  # the window was forgotten: no halt
    assert not e.halted and e.book.order(2) == OrderInfo(Side.ASK, 1_011, 1, 1)
    e.halt()
    assert e.halted
    assert (e.halt_move_bps, e.halt_window_ns) == (100, 1_000)


def test_halt_window_forgets_old_trades() -> None:
    e = MatchingEngine(halt_move_bps=100, halt_window_ns=1_000)
    for oid, price, ts in ((1, 1_000, 0), (2, 1_020, 1_001)):
        e.submit(oid, 1, ASK, price, 1, ts_ns=ts)
        e.submit(oid + 10, 2, BID, price, 1, ts_ns=ts)
    assert not e.halted  # 1000 traded more than 1000 ns before 1020


def test_kill_switch(engine: MatchingEngine) -> None:
    assert engine.kill(1, ts_ns=9) == 2
    assert rejects(engine) == [(1, 5, R.KILL_SWITCH), (3, 4, R.KILL_SWITCH)]
    assert engine.killed(1) and not engine.killed(2)
    engine.submit(20, 1, BID, 50, 1)
    assert rejects(engine) == [(20, 1, R.KILL_SWITCH)]
    assert engine.cancel(2, 2)  # other owners trade on
    engine.release(1)
    assert not engine.killed(1) and engine.submit(21, 1, BID, 50, 1) == 0
    assert rejects(engine) == []


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="stp must be a StpMode other than DEFAULT"):
        MatchingEngine(stp=StpMode.DEFAULT)
    with pytest.raises(ValueError, match="max_order_size must be None or an int > 0"):
        MatchingEngine(max_order_size=0)
    with pytest.raises(ValueError, match="go together"):
        MatchingEngine(halt_move_bps=10)
    with pytest.raises(ValueError, match="reference price must be >= 0"):
        MatchingEngine(reference_price=-1)
    with pytest.raises(ValueError, match="does not fit"):
        MatchingEngine(max_notional=2**127)
    e = MatchingEngine(max_notional=2**126, halt_move_bps=1, halt_window_ns=0)
    assert e.max_notional == 2**126 and e.halt_window_ns == 0
    with pytest.raises(ValueError, match="reference price must be >= 0"):
        e.reference_price = -5


# ---------------------------------------------------------------- outputs


def test_traded_volume_is_exact_past_int64() -> None:
    e = MatchingEngine()
    for k in range(3):
        e.submit(10 + k, 1, ASK, 1, INT64_MAX)
        e.submit(20 + k, 2, BID, 1, INT64_MAX)
    assert e.traded_volume == 3 * INT64_MAX and e.trade_count == 3


def test_submit_batch_returns_its_own_arrays(engine: MatchingEngine) -> None:
    engine.submit(50, 9, BID, 10, 1, tif=TimeInForce.IOC)  # a per-call rejection stays buffered
    req = np.zeros(3, dtype=dtypes.ORDER_REQUEST)
    req[0] = (5, 10, 9, 101, 6, BID, OrderType.LIMIT, TimeInForce.IOC, 0, 0, 0)
    req[1] = (6, 3, 1, 0, 0, 0, OrderType.CANCEL, 0, 0, 0, 0)
    req[2] = (7, 99, 1, 0, 0, 0, OrderType.CANCEL, 0, 0, 0, 0)
    f, r = engine.submit_batch(req)
    assert f.dtype == dtypes.FILL and r.dtype == dtypes.REJECT
    assert f[["ts_ns", "taker_id", "maker_id", "price", "size"]].tolist() == [(5, 10, 1, 101, 5), (5, 10, 2, 101, 1)]
    assert r[["ts_ns", "order_id", "size"]].tolist() == [(7, 99, 0)] and r["reason"][0] == R.UNKNOWN_ORDER
    assert rejects(engine) == [(50, 1, R.EXPIRED)]
    with pytest.raises(TypeError, match="requests must have dtype"):
        engine.submit_batch(np.zeros(1, dtype=dtypes.ORDER_EVENT))
    assert [len(a) for a in engine.submit_batch(np.zeros(0, dtype=dtypes.ORDER_REQUEST))] == [0, 0]


def test_batch_call_guards_against_concurrent_use() -> None:
    e = MatchingEngine()
    n = 1_000_000
    req = np.zeros(n, dtype=dtypes.ORDER_REQUEST)
    req["order_id"] = np.arange(1, n + 1)
    req["owner"], req["size"], req["type"], req["tif"] = 1, 1, OrderType.LIMIT, TimeInForce.GTC
    req["side"] = 1 + (np.arange(n) % 2)
    req["price"] = np.where(req["side"] == 1, 100, 101) + (np.arange(n) % 50) * np.where(req["side"] == 1, -1, 1)

    def use() -> None:
        e.submit(10**9, 1, BID, 1, 1)
        e.book.bbo()
        assert not e.halted

    # Any error but BusyError propagates; the batch is repeated until the guard fired.
    assert hammer_during_batch(lambda: e.submit_batch(req), use) > 0
    e.check_invariants()


def test_book_view_keeps_the_engine_alive(engine: MatchingEngine) -> None:
    view = engine.book
    assert isinstance(view, OrderBookView)
    del engine
    gc.collect()
    assert view.bbo() == ((99, 2), (101, 8))
    assert view.order(3) == OrderInfo(Side.ASK, 102, 4, 1)
    assert view.queue_position(2) == 5 and len(view) == 4 and view.level_count(ASK) == 2
    bids, asks = view.depth(5)
    assert [tuple(r) for r in asks.tolist()] == [(101, 8, 2), (102, 4, 1)]
    assert repr(view) == "OrderBookView(orders=4, levels=1/2, bid=2 @ 0.99, ask=8 @ 1.01)"
    with pytest.raises(TypeError):
        OrderBookView(L2Book())  # type: ignore[arg-type]


def test_level_events_follow_the_book() -> None:
    e = MatchingEngine(track_levels=True)
    l2 = L2Book()
    e.submit(1, 1, ASK, 101, 5)
    e.submit(2, 1, ASK, 102, 5)
    e.submit(3, 2, BID, 102, 7, ts_ns=44)
    ev = e.level_events()
    assert ev.dtype == dtypes.LEVEL_EVENT and ev["ts_exchange_ns"][-1] == 44
    l2.apply(ev)
    assert [tuple(r) for r in l2.levels(ASK).tolist()] == [(102, 3, 1)]
    assert MatchingEngine().level_events().size == 0


def test_copy_is_independent_and_pickle_is_refused(engine: MatchingEngine) -> None:
    engine.submit(10, 9, BID, 101, 1)
    for other in (engine.copy(), copy.copy(engine), copy.deepcopy(engine)):
        assert type(other) is MatchingEngine
        assert orders(other, ASK) == orders(engine, ASK)
        assert other.trade_count == 1 and len(other.take_fills()) == 1
        other.submit(11, 9, BID, 102, 20)
    assert len(engine.book) == 4 and len(engine.take_fills()) == 1
    with pytest.raises(TypeError):
        pickle.dumps(engine)
    assert repr(engine).startswith("MatchingEngine(price_exp=2, size_exp=0, orders=4")


def test_uninitialised_instance_is_an_error_not_a_crash() -> None:
    e = MatchingEngine.__new__(MatchingEngine)
    for call in (lambda: e.submit(1, 1, 1, 1, 1), lambda: e.cancel(1, 1), lambda: e.halted,
                 lambda: e.book, lambda: e.take_fills(), lambda: e.kill(1)):
        with pytest.raises(TypeError, match="__init__ has not been called"):
            call()


def test_reject_reason_names_say_why() -> None:
    e = MatchingEngine()
    e.submit(1, 1, BID, 10, 1)
    e.submit(1, 1, BID, 10, 1)
    assert R(int(e.take_rejects()["reason"][0])).name == "DUPLICATE_ORDER_ID"
    e.memory_bytes()
    e.clear()
    assert len(e.book) == 0


def test_halt_window_clock_never_goes_back() -> None:
    """A request stamped earlier than a previous one trades at the latest time seen,
    so the earlier trade still counts in the window (found by the binding's review)."""
    e = MatchingEngine(halt_move_bps=100, halt_window_ns=100)
    for oid, ts, price in ((1, 200, 1000), (2, 100, 1000), (3, 250, 1012)):
        e.submit(oid, 1, 2, price, 1, ts_ns=ts)
        e.submit(oid + 10, 2, 1, price, 1, ts_ns=ts)
    assert e.halted  # 1000 -> 1012 is a 1.2% move within 100 ns of the clock
