"""Touch events (Strategy.on_touch) and the order of feed rows at equal times, which
the event loop now finds without a scan for the rows of one venue message."""

from __future__ import annotations

from crossbook import dtypes
from crossbook.sim import BookRow, Simulator, Strategy, TradeRow, VenueConfig
from tests.sim._util import level_rows, trade_rows

BID, ASK = 1, 2


def row(ts: int, side: int, price: int, size: int, last: bool = True) -> tuple[int, ...]:
    return (ts, ts, price, size, 0, side, dtypes.UPDATE, dtypes.F_LAST if last else 0)


def status(ts: int, action: int) -> tuple[int, ...]:
    return (ts, ts, 0, 0, 0, 0, action, 0)


class Recorder(Strategy):
    def __init__(self) -> None:
        self.seen: list[tuple[object, ...]] = []

    def on_touch(self, sim: Simulator, venue: int, bid: tuple[int, int] | None,
                 ask: tuple[int, int] | None) -> None:
        self.seen.append(("touch", sim.now, venue, bid, ask))


class BookAndTouch(Recorder):
    def on_book(self, sim: Simulator, venue: int, row: BookRow) -> None:
        self.seen.append(("book", sim.now, venue, row.ts_recv_ns))


def one_venue() -> Simulator:
    sim = Simulator([VenueConfig()])
    sim.add_levels(0, level_rows([
        row(100, BID, 99, 5, last=False), row(100, ASK, 101, 5),
        row(200, BID, 98, 4),                                  # below the touch
        row(250, ASK, 101, 0, last=False), row(250, ASK, 101, 5),  # gone and back in one message
        row(300, ASK, 101, 7),
        status(400, dtypes.SIM_UNSYNCED),
        row(450, BID, 99, 6),                                  # unsynced: still no touch
        status(500, dtypes.SIM_SYNCED),
        row(600, BID, 100, 1, last=False),                     # no F_LAST: not a message end
    ]))
    return sim


def test_on_touch_fires_at_message_ends_where_the_touch_changed_and_empty_while_unsynced() -> None:
    sim, strat = one_venue(), Recorder()
    sim.run(strat)
    assert strat.seen == [
        ("touch", 100, 0, (99, 5), (101, 5)),
        ("touch", 300, 0, (99, 5), (101, 7)),
        ("touch", 400, 0, None, None),
        ("touch", 500, 0, (99, 6), (101, 7)),
    ]
    assert sim._core.touch(0) == ((99, 6), (101, 7))  # the last reported, not the book's


def test_a_strategy_with_on_book_and_on_touch_gets_book_then_touch_for_one_row() -> None:
    sim, strat = one_venue(), BookAndTouch()
    sim.run(strat)
    assert strat.seen == [
        ("book", 100, 0, 100), ("touch", 100, 0, (99, 5), (101, 5)),
        ("book", 200, 0, 200),
        ("book", 250, 0, 250),
        ("book", 300, 0, 300), ("touch", 300, 0, (99, 5), (101, 7)),
        ("book", 400, 0, 400), ("touch", 400, 0, None, None),
        ("book", 450, 0, 450),
        ("book", 500, 0, 500), ("touch", 500, 0, (99, 6), (101, 7)),
    ]


def test_advance_to_a_time_before_an_owed_touch_leaves_it_owed() -> None:
    sim, strat = one_venue(), BookAndTouch()
    sim._core.set_subscriptions(1 | 32)
    assert sim._core.advance(100) == (1, 100, 0, 1)
    assert sim._core.advance(50) is None
    assert sim._core.next_ts() == 100
    assert sim._core.advance(100) == (6, 100, 0, 1, (99, 5), (101, 5))
    sim.advance(1_000, strat)
    assert strat.seen[0] == ("book", 200, 0, 200)


class Order(Strategy):
    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int, int]] = []

    def on_book(self, sim: Simulator, venue: int, row: BookRow) -> None:
        self.seen.append(("book", venue, row.ts_recv_ns, row.price))

    def on_trade(self, sim: Simulator, venue: int, trade: TradeRow) -> None:
        self.seen.append(("trade", venue, trade.ts_recv_ns, trade.price))


def test_rows_at_equal_times_run_by_venue_then_trades_first_then_input_order() -> None:
    """The tie-break of simulator.hpp, across messages of several rows, with rows added
    after the loop has run (the next row is then searched for again)."""
    sim = Simulator([VenueConfig(), VenueConfig()])
    for v in (1, 0):
        sim.add_levels(v, level_rows([row(10, BID, 90 + v, 1, last=False), row(10, BID, 80 + v, 1),
                                      row(20, ASK, 110 + v, 1)]))
        sim.add_trades(v, trade_rows([(0, 10, 100 + v, 1, BID), (0, 20, 120 + v, 1, BID)]))
    strat = Order()
    sim.advance(10, strat)
    sim.add_levels(1, level_rows([row(25, BID, 95, 1)]))
    sim.add_trades(0, trade_rows([(0, 25, 125, 1, BID)]))
    sim.advance(30, strat)
    assert strat.seen == [
        ("trade", 0, 10, 100), ("book", 0, 10, 80),  # a message is reported at its last row
        ("trade", 1, 10, 101), ("book", 1, 10, 81),
        ("trade", 0, 20, 120), ("book", 0, 20, 110),
        ("trade", 1, 20, 121), ("book", 1, 20, 111),
        ("trade", 0, 25, 125), ("book", 1, 25, 95),
    ]
