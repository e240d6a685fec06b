"""The Python face of the simulator: the run loop and its callbacks, and the binding's checks."""

from __future__ import annotations

import numpy as np
import pytest

from crossbook import InvalidInputError, _core, dtypes
from crossbook.sim import (
    BookRow,
    ConstantLatency,
    Fees,
    OrderStatus,
    Reason,
    Response,
    ResponseKind,
    Simulator,
    Strategy,
    TimeInForce,
    TradeRow,
    VenueConfig,
)
from tests.sim._util import level_rows, trade_rows

BID, ASK = 1, 2


def _sim(entry_ns: int = 10, response_ns: int = 5) -> Simulator:
    sim = Simulator([VenueConfig(latency=ConstantLatency(entry_ns, response_ns), fees=Fees(-100, 500)),
                     VenueConfig()])
    sim.add_levels(0, level_rows([
        (0, 100, 99, 5, 0, BID, dtypes.ADD, 0), (0, 100, 101, 5, 0, ASK, dtypes.ADD, dtypes.F_LAST),
        (0, 200, 101, 7, 0, ASK, dtypes.UPDATE, dtypes.F_LAST),
    ]))
    sim.add_trades(0, trade_rows([(0, 150, 101, 1, BID), (0, 300, 99, 6, ASK)]))
    return sim


class Taker(Strategy):
    """Buys 3 at the ask on the first book it sees, and rests a bid."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, object]] = []

    def on_book(self, sim: Simulator, venue: int, row: BookRow) -> None:
        self.seen.append(("book", sim.now, row))
        if len(self.seen) == 1:
            sim.submit(venue, BID, 3, 101, tif=TimeInForce.IOC)
            sim.submit(venue, BID, 2, 99)
            sim.set_timer(sim.now + 1_000)

    def on_fill(self, sim: Simulator, fill: Response) -> None:
        self.seen.append(("fill", sim.now, fill))

    def on_timer(self, sim: Simulator, timer_id: int) -> None:
        self.seen.append(("timer", sim.now, timer_id))


def test_run_calls_only_the_overridden_callbacks_at_their_times() -> None:
    sim, strat = _sim(), Taker()
    res = sim.run(strat, until_ns=2_000)
    kinds = [(k, t) for k, t, _ in strat.seen]
    # Book at 100 (the F_LAST row) and 200; the taker fill at arrival 110 is heard at 115;
    # the bid resting at 99 behind 5 gets the 1 over of the 6 sold there at 300.
    assert kinds == [("book", 100), ("fill", 115), ("book", 200), ("fill", 305), ("timer", 1_100)]
    taker, maker = strat.seen[1][2], strat.seen[3][2]
    assert isinstance(taker, Response) and isinstance(maker, Response)
    assert (taker.price, taker.size, taker.fee, taker.ts_venue_ns) == (101, 3, 1, 110)
    assert (maker.price, maker.size, maker.fee, maker.ts_venue_ns) == (99, 1, 0, 300)
    assert res.fills["ts_arrival_ns"].tolist() == [110, 110]
    assert res.orders["status"].tolist() == [OrderStatus.FILLED, OrderStatus.OPEN]
    assert sim.account(0) == (4, -303 - 99, 1 + 0, 4)
    acc = res.accounts[0]
    assert int(acc["cash_hi"]) * 2**64 + int(acc["cash_lo"]) == -303 - 99
    assert sim.pnl(0, 100) == -303 - 99 + 4 * 100 - 1
    kinds_heard = [ResponseKind(k) for k in res.responses["kind"]]
    assert kinds_heard == [ResponseKind.ACCEPTED, ResponseKind.FILL, ResponseKind.ACCEPTED,
                           ResponseKind.FILL]


class Watcher(Strategy):
    def __init__(self) -> None:
        self.trades: list[TradeRow] = []

    def on_trade(self, sim: Simulator, venue: int, trade: TradeRow) -> None:
        self.trades.append(trade)


def test_a_trade_only_strategy_hears_only_trades_and_a_run_ends_at_the_last_row() -> None:
    sim, strat = _sim(), Watcher()
    sim.run(strat)
    assert [(t.ts_recv_ns, t.price, t.size, t.side) for t in strat.trades] == [(150, 101, 1, BID),
                                                                              (300, 99, 6, ASK)]
    assert sim.now == 300


def test_orders_on_an_unsynced_venue_come_back_rejected_with_the_reason() -> None:
    sim = _sim()
    sim.add_levels(1, level_rows([(0, 50, 0, 0, 0, 0, dtypes.SIM_UNSYNCED, 0)]))
    sim.advance(60)
    assert not sim.synced(1)
    oid = sim.submit(1, BID, 1, 100)
    sim.advance(61)
    order = sim.results().orders[oid - 1]
    assert (order["status"], order["reason"]) == (OrderStatus.REJECTED, Reason.NOT_SYNCED)


def test_a_row_at_a_time_already_run_is_refused() -> None:
    """Found by the state machine: such a row would run after the arrivals of its own time."""
    sim = _sim()
    sim.advance(100)
    with pytest.raises(InvalidInputError, match="goes back"):
        sim.add_levels(1, level_rows([(0, 100, 98, 1, 0, BID, dtypes.ADD, 0)]))
    sim.add_levels(1, level_rows([(0, 101, 98, 1, 0, BID, dtypes.ADD, 0)]))


def test_the_binding_checks_arrays_arguments_and_construction() -> None:
    sim = _sim()
    with pytest.raises(TypeError, match="dtype"):
        sim.add_levels(0, np.zeros(1, dtypes.TRADE_EVENT))
    with pytest.raises(ValueError, match="contiguous"):
        sim.add_trades(0, trade_rows([(0, 400 + i, 1, 1, BID) for i in range(4)])[::2])
    with pytest.raises(InvalidInputError, match="row 0: side"):
        sim.add_levels(0, level_rows([(0, 400, 1, 1, 0, 7, dtypes.ADD, 0)]))
    with pytest.raises(IndexError):
        sim.add_levels(5, level_rows([]))
    with pytest.raises(InvalidInputError, match="size must be positive"):
        sim.submit(0, BID, 0, 100)
    with pytest.raises(InvalidInputError, match="unknown order id"):
        sim.cancel(99)
    with pytest.raises(ValueError, match="queue model"):
        VenueConfig(queue="psychic")
    with pytest.raises(TypeError, match="__init__"):
        _core.Simulator.__new__(_core.Simulator).advance(0)


def test_inputs_are_copied_so_a_later_change_to_the_caller_array_changes_nothing() -> None:
    sim = Simulator([VenueConfig()])
    rows = level_rows([(0, 10, 101, 5, 0, ASK, dtypes.ADD, dtypes.F_LAST)])
    sim.add_levels(0, rows)
    rows["size"] = 1
    sim.advance(10)
    assert sim.bbo(0) == (None, (101, 5))
