"""Stop-market and stop-limit orders, hand-worked: a trade at the trigger, one tick before it
and through it; a stop already passed when it arrives; a stop-limit that rests; cancel and
modify of a waiting stop; an unsynced book; several stops on one trade.

The venue in each case: entry latency 10 ns, response 5 ns; bids 100 x 4, 99 x 5, 98 x 5 and
asks 101 x 3, 102 x 4, 103 x 10 at ts 1. Requests are decided at 1 and arrive at 11.
"""

from __future__ import annotations

import pytest

from crossbook import InvalidInputError, dtypes
from crossbook.sim import (
    ConstantLatency,
    OrderStatus,
    OrderType,
    Reason,
    Response,
    ResponseKind,
    Simulator,
    Strategy,
    TimeInForce,
    VenueConfig,
)
from tests.sim._util import as_dicts, level_rows, trade_rows

BID, ASK = 1, 2
TRIGGERED_FLAG = 2


def _sim() -> Simulator:
    sim = Simulator([VenueConfig(latency=ConstantLatency(10, 5))])
    book = [(100, 4, BID), (99, 5, BID), (98, 5, BID), (101, 3, ASK), (102, 4, ASK), (103, 10, ASK)]
    sim.add_levels(0, level_rows([(0, 1, p, q, 0, side, dtypes.ADD, dtypes.F_LAST)
                                  for p, q, side in book]))
    sim.advance(1)
    return sim


def _trades(sim: Simulator, *rows: tuple[int, int, int, int]) -> None:
    """(ts_recv_ns, price, size, aggressor side) rows."""
    sim.add_trades(0, trade_rows([(ts, ts, p, q, side) for ts, p, q, side in rows]))


def _answers(sim: Simulator, oid: int) -> list[tuple[int, int, int, int, int]]:
    """(kind, ts_venue_ns, price, size, reason) of every answer about ``oid``."""
    return [(r["kind"], r["ts_venue_ns"], r["price"], r["size"], r["reason"])
            for r in as_dicts(sim.results().responses) if r["order_id"] == oid]


def _order(sim: Simulator, oid: int) -> dict[str, int]:
    return as_dicts(sim.results().orders)[oid - 1]


def test_buy_stop_waits_one_tick_below_and_triggers_on_a_trade_exactly_at_the_trigger() -> None:
    sim = _sim()
    oid = sim.submit(0, BID, 5, stop=103)
    _trades(sim, (20, 102, 1, BID), (30, 103, 1, BID))
    sim.advance(29)
    o = _order(sim, oid)
    assert (o["status"], o["type"], o["price"], o["trigger_price"], o["flags"]) == (
        OrderStatus.OPEN, OrderType.STOP, 0, 103, 0)
    assert sim.results().fills.size == 0
    sim.advance(30)
    # A market order at 30 against the book as received: 101 x 3, then 2 of 102 x 4.
    assert _answers(sim, oid) == [
        (ResponseKind.ACCEPTED, 11, 0, 5, 0), (ResponseKind.TRIGGERED, 30, 0, 5, 0),
        (ResponseKind.FILL, 30, 101, 3, 0), (ResponseKind.FILL, 30, 102, 2, 0),
    ]
    o = _order(sim, oid)
    assert (o["status"], o["filled"], o["flags"], o["ts_arrival_ns"]) == (OrderStatus.FILLED, 5,
                                                                          TRIGGERED_FLAG, 11)
    fills = as_dicts(sim.results().fills)
    assert [(f["ts_arrival_ns"], f["ts_fill_ns"], f["liquidity"]) for f in fills] == [
        (11, 30, dtypes.SIM_TAKER)] * 2


def test_sell_stop_waits_one_tick_above_and_triggers_on_a_trade_through_it() -> None:
    sim = _sim()
    oid = sim.submit(0, ASK, 7, stop=98)
    _trades(sim, (20, 99, 1, ASK), (30, 97, 1, ASK))
    sim.advance(29)
    assert _order(sim, oid)["status"] == OrderStatus.OPEN
    sim.advance(30)
    assert [(f["price"], f["size"]) for f in as_dicts(sim.results().fills)] == [(100, 4), (99, 3)]
    assert _order(sim, oid)["status"] == OrderStatus.FILLED


def test_a_stop_the_market_already_passed_waits_for_the_next_trade() -> None:
    """Trades received before the stop arrives, or at its arrival time (feed rows go first),
    do not trigger it, though the last one is through the trigger."""
    sim = _sim()
    oid = sim.submit(0, BID, 2, stop=103)
    _trades(sim, (5, 104, 1, BID), (11, 104, 1, BID), (40, 103, 1, BID))
    sim.advance(39)
    assert _order(sim, oid)["status"] == OrderStatus.OPEN
    assert sim.results().fills.size == 0
    sim.advance(40)
    fills = as_dicts(sim.results().fills)
    assert [(f["price"], f["size"], f["ts_fill_ns"]) for f in fills] == [(101, 2, 40)]


def test_stop_limit_refuses_modify_while_waiting_then_rests_and_fills_as_maker() -> None:
    sim = _sim()
    oid = sim.submit(0, BID, 5, 100, stop=103)
    sim.advance(12)
    sim.modify(oid, 100, 4)  # arrives at 22, before the trigger
    _trades(sim, (30, 103, 1, BID), (40, 100, 6, ASK))
    sim.advance(30)
    # The limit at 100 does not cross the asks: it rests behind the 4 bid there.
    assert sim.queue_ahead(oid) == 4
    o = _order(sim, oid)
    assert (o["status"], o["type"], o["price"], o["size"], o["flags"]) == (
        OrderStatus.OPEN, OrderType.STOP_LIMIT, 100, 5, TRIGGERED_FLAG)
    sim.advance(41)
    sim.modify(oid, 100, 1)  # triggered and resting: a limit order's modify, keeping the place
    sim.advance(60)
    assert _answers(sim, oid) == [
        (ResponseKind.ACCEPTED, 11, 100, 5, 0),
        (ResponseKind.MODIFY_REJECTED, 22, 100, 5, Reason.STOP_WAITING),
        (ResponseKind.TRIGGERED, 30, 100, 5, 0),
        (ResponseKind.FILL, 40, 100, 2, 0),
        (ResponseKind.MODIFIED, 51, 100, 3, 0),
    ]
    assert as_dicts(sim.results().fills)[0]["liquidity"] == dtypes.SIM_MAKER
    assert sim.queue_ahead(oid) == 0


def test_stop_limit_that_crosses_takes_then_rests_the_rest() -> None:
    sim = _sim()
    oid = sim.submit(0, BID, 5, 101, stop=101)
    _trades(sim, (30, 101, 1, BID))
    sim.advance(30)
    assert [(f["price"], f["size"]) for f in as_dicts(sim.results().fills)] == [(101, 3)]
    o = _order(sim, oid)
    assert (o["status"], o["filled"]) == (OrderStatus.OPEN, 3)
    assert sim.queue_ahead(oid) == 0


def test_cancel_of_a_waiting_stop_cancels_it_and_a_later_trade_does_nothing() -> None:
    sim = _sim()
    oid = sim.submit(0, ASK, 3, stop=99)
    sim.advance(12)
    sim.cancel(oid)  # arrives at 22
    _trades(sim, (30, 95, 5, ASK))
    sim.advance(40)
    assert _answers(sim, oid) == [(ResponseKind.ACCEPTED, 11, 0, 3, 0),
                                  (ResponseKind.CANCELLED, 22, 0, 3, Reason.USER_CANCEL)]
    assert _order(sim, oid)["status"] == OrderStatus.CANCELLED
    assert sim.results().fills.size == 0


def test_unsynced_book_rejects_a_stop_on_arrival_and_cancels_one_that_triggers() -> None:
    sim = _sim()
    waiting = sim.submit(0, BID, 1, stop=102)  # arrives at 11, synced: waits
    sim.add_levels(0, level_rows([(0, 15, 0, 0, 0, 0, dtypes.SIM_UNSYNCED, 0)]))
    sim.advance(15)
    refused = sim.submit(0, BID, 1, stop=102)  # arrives at 25, unsynced
    _trades(sim, (30, 102, 1, BID))
    sim.advance(40)
    assert _answers(sim, refused) == [(ResponseKind.REJECTED, 25, 0, 1, Reason.NOT_SYNCED)]
    assert _answers(sim, waiting) == [
        (ResponseKind.ACCEPTED, 11, 0, 1, 0), (ResponseKind.TRIGGERED, 30, 0, 1, 0),
        (ResponseKind.CANCELLED, 30, 0, 1, Reason.NOT_SYNCED),
    ]
    assert sim.results().fills.size == 0


def test_fok_and_ioc_stop_limits_follow_their_tif_at_the_trigger() -> None:
    sim = _sim()
    fok = sim.submit(0, BID, 8, 102, stop=102, tif=TimeInForce.FOK)  # 101 x 3 + 102 x 4 = 7 < 8
    ioc = sim.submit(0, BID, 8, 102, stop=102, tif=TimeInForce.IOC)
    _trades(sim, (30, 102, 1, BID))
    sim.advance(30)
    assert _answers(sim, fok)[1:] == [(ResponseKind.TRIGGERED, 30, 102, 8, 0),
                                      (ResponseKind.CANCELLED, 30, 102, 8, Reason.FOK_NOT_FILLABLE)]
    assert _order(sim, ioc)["filled"] == 7
    assert (_order(sim, ioc)["status"], _order(sim, ioc)["reason"]) == (OrderStatus.CANCELLED,
                                                                        Reason.IMMEDIATE_REMAINDER)


def test_stops_on_one_trade_run_in_id_order_before_the_level_rows_of_that_time() -> None:
    sim = _sim()
    first = sim.submit(0, BID, 3, stop=103)
    second = sim.submit(0, BID, 3, stop=102)
    _trades(sim, (30, 103, 1, BID))
    sim.add_levels(0, level_rows([(0, 30, 101, 10, 0, ASK, dtypes.UPDATE, dtypes.F_LAST)]))
    sim.advance(30)
    fills = as_dicts(sim.results().fills)
    # The first takes 101 x 3, so the second finds 101 taken and goes to 102; the row
    # setting 101 to 10 at 30 comes after the trade and so after both.
    assert [(f["order_id"], f["price"], f["size"]) for f in fills] == [(first, 101, 3),
                                                                       (second, 102, 3)]
    assert sim.taken(0, ASK, 101) == 0


def test_stop_arguments_are_checked_at_submit() -> None:
    sim = _sim()
    with pytest.raises(InvalidInputError, match="post-only"):
        sim.submit(0, BID, 1, 100, stop=103, post_only=True)
    with pytest.raises(InvalidInputError, match="trigger price must be positive"):
        sim.submit(0, BID, 1, stop=0)
    oid = sim.submit(0, BID, 1, stop=103)
    with pytest.raises(InvalidInputError, match="only a limit or stop-limit"):
        sim.modify(oid, 100, 1)


class StopListener(Strategy):
    def __init__(self) -> None:
        self.heard: list[tuple[int, int]] = []

    def on_order(self, sim: Simulator, response: Response) -> None:
        self.heard.append((sim.now, response.kind))


def test_the_strategy_hears_the_trigger_after_the_response_latency() -> None:
    sim = _sim()
    sim.submit(0, BID, 1, stop=102)
    _trades(sim, (30, 102, 1, BID))
    strat = StopListener()
    sim.run(strat, until_ns=100)
    assert strat.heard == [(16, ResponseKind.ACCEPTED), (35, ResponseKind.TRIGGERED)]
