"""crossbook.sim.walkforward: consecutive windows, the grid's best in-sample, run out-of-sample."""

from __future__ import annotations

import pytest

from crossbook import dtypes
from crossbook.sim import ConstantLatency, Fees, Simulator, TimeInForce
from crossbook.sim.feeds import feed_from_arrays
from crossbook.sim.records import BookRow
from crossbook.sim.strategies import LoggedStrategy
from crossbook.sim.walkforward import Window, walk_forward, windows
from tests.sim._util import level_rows

BID, ASK = 1, 2


def test_windows_tile_the_range_and_leave_out_what_does_not_fit() -> None:
    assert windows(0, 100, in_sample_ns=30, out_sample_ns=20) == [
        Window(0, 30, 50), Window(20, 50, 70), Window(40, 70, 90)]
    assert windows(0, 100, in_sample_ns=30, out_sample_ns=20, step_ns=50) == [
        Window(0, 30, 50), Window(50, 80, 100)]
    assert windows(0, 10, in_sample_ns=30, out_sample_ns=20) == []
    with pytest.raises(ValueError, match="> 0"):
        windows(0, 100, in_sample_ns=0, out_sample_ns=20)


class Side(LoggedStrategy):
    """Buys 1 at the ask on every book update (side=BID), or sells 1 at the bid."""

    def __init__(self, side: int) -> None:
        super().__init__()
        self.side = side
        self.seen_ns: list[int] = []

    def on_book(self, sim: Simulator, venue: int, row: BookRow) -> None:
        self.seen_ns.append(sim.now)
        bid, ask = sim.bbo(venue)
        touch = ask if self.side == BID else bid
        if touch is not None:
            self.submit(sim, venue, self.side, 1, touch[0], tif=TimeInForce.IOC)


def test_the_in_sample_best_is_run_out_of_sample_only() -> None:
    # The mid rises for 40 ns, then falls: buying wins in-sample in the first window,
    # selling in the second; the choice is judged on the following window.
    mids = [100, 102, 104, 106, 108, 106, 104, 102, 100, 98]
    rows = [(0, 5, 0, 0, 0, 0, dtypes.SIM_SYNCED, 0)]
    for i, m in enumerate(mids):
        ts = 10 * (i + 1)
        rows += [(0, ts, 0, 0, 0, 0, dtypes.CLEAR, 0), (0, ts, m - 1, 5, 0, BID, dtypes.ADD, 0),
                 (0, ts, m + 1, 5, 0, ASK, dtypes.ADD, dtypes.F_LAST)]
    feed = feed_from_arrays("v", "BTCUSDT", level_rows(rows), price_exp=0, size_exp=0)
    config = feed.config(ConstantLatency(0, 0), Fees(0, 0))
    made: list[Side] = []

    def factory(side: int) -> Side:
        made.append(Side(side))
        return made[-1]

    steps = walk_forward([feed], [config], factory, [BID, ASK],
                         windows(0, 100, in_sample_ns=40, out_sample_ns=20, step_ns=40))
    assert [s.window for s in steps] == [Window(0, 40, 60), Window(40, 80, 100)]
    assert [s.chosen for s in steps] == [BID, ASK]
    # (0, 40]: buying at 101, 103, 105, 107 marked at 106 makes 8; selling at 99..105, -16.
    # (40, 80]: buying at 109..103 marked at 102 makes -16; selling at 107..101, 8.
    assert [s.in_sample_scores for s in steps] == [[8, -16], [-16, 8]]
    # Each strategy sees only its own window; out-of-sample runs only the chosen one.
    assert [m.seen_ns for m in made[:3]] == [[5, 10, 20, 30, 40], [5, 10, 20, 30, 40], [50, 60]]
    first_out, second_out = (s.out_of_sample.summary for s in steps)
    assert first_out["start_ns"] == 40 and first_out["pnl"] == "-4"  # 109 + 107 vs 2 x 106
    assert second_out["fills"] == 2 and second_out["pnl"] == "0"  # 99 + 97 vs 2 x 98
