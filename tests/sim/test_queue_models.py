"""Queue models of the simulator, worked by hand: one bid of 1 joins a level of 10 at 100.

Every case lists the feed after the order joined and the size ahead the model must give
after each row; the formulas are in cpp/include/crossbook/sim/queue_model.hpp.
"""

from __future__ import annotations

import pytest

from crossbook import _core, dtypes
from crossbook.sim import Simulator, VenueConfig
from crossbook.sim.models import parse_queue_model
from tests.reference.ref_queue import level_change
from tests.sim._util import level_rows, trade_rows

BID, ASK = 1, 2
PRICE = 100


def _run(queue: str, feed: list[tuple[str, int]]) -> tuple[list[int | None], Simulator, int]:
    """The order joins at t=10; feed[i] happens at t=20+10i: ("level", new size) or
    ("trade", size sold into the bids at 100). Returns the size ahead after each."""
    sim = Simulator([VenueConfig(queue=queue)])
    sim.add_levels(0, level_rows([(0, 1, PRICE, 10, 0, BID, dtypes.ADD, dtypes.F_LAST),
                                  (0, 1, 105, 10, 0, ASK, dtypes.ADD, dtypes.F_LAST)]))
    levels: list[tuple[int, ...]] = []
    trades: list[tuple[int, ...]] = []
    for i, (what, size) in enumerate(feed):
        ts = 20 + 10 * i
        if what == "level":
            levels.append((ts, ts, PRICE, size, 0, BID, dtypes.UPDATE, dtypes.F_LAST))
        else:
            trades.append((ts, ts, PRICE, size, ASK))
    sim.add_levels(0, level_rows(levels))
    sim.add_trades(0, trade_rows(trades))
    sim.advance(10)
    oid = sim.submit(0, BID, 1, PRICE)
    sim.advance(10)
    out = []
    for i in range(len(feed)):
        sim.advance(20 + 10 * i)
        out.append(sim.queue_ahead(oid))
    return out, sim, oid


# 4 join behind the order (ahead 10, behind 4), then 4 leave that no trade explains.
CANCEL = [("level", 14), ("level", 10)]
# linear: floor(4*10/14) = 2; power:3: floor(4 / (1 + 0.4**3)) = 3;
# log: floor(4 * ln 11 / (ln 11 + ln 5)) = 2; power:0: half, 2.
CANCEL_CASES = {"conservative": [10, 10], "linear": [10, 8], "power:3": [10, 7], "log": [10, 8],
                "power:0": [10, 8], "power:1": [10, 8]}


@pytest.mark.parametrize("queue", sorted(CANCEL_CASES))
def test_an_unexplained_decrease_is_split_between_ahead_and_behind(queue: str) -> None:
    assert _run(queue, CANCEL)[0] == CANCEL_CASES[queue]


def test_a_decrease_below_the_size_ahead_caps_it_in_every_model() -> None:
    # 10 ahead and nothing behind: whatever the split, the 7 that left were ahead.
    for queue in CANCEL_CASES:
        assert _run(queue, [("level", 3)])[0] == [3]


def test_what_the_split_gives_beyond_the_size_behind_was_ahead() -> None:
    # ahead 10, behind 4, 10 leave: power:0 gives each side 5, but only 4 were behind,
    # so 6 were ahead (and the level of 4 caps nothing more).
    assert _run("power:0", [("level", 14), ("level", 4)])[0] == [10, 4]
    # 8 leave: 4 and 4, all the size behind gone.
    assert _run("power:0", [("level", 14), ("level", 6)])[0] == [10, 6]


def test_a_decrease_the_trades_explain_moves_only_by_the_trades() -> None:
    feed = [("level", 14), ("trade", 3), ("level", 11), ("trade", 2), ("level", 6)]
    # The trade of 3 takes 10 -> 7 and explains the 14 -> 11 row; then the trade of 2
    # takes 7 -> 5 and the row 11 -> 6 leaves 3 unexplained, with 5 ahead and 6 behind:
    # linear floor(3*5/11) = 1.
    assert _run("linear", feed)[0] == [10, 7, 7, 5, 4]
    assert _run("conservative", feed)[0] == [10, 7, 7, 5, 5]


def test_traded_size_counts_only_since_the_level_s_previous_row() -> None:
    # The trade of 3 explains the next row only: the row after is all unexplained.
    feed = [("level", 14), ("trade", 3), ("level", 11), ("level", 7)]
    # After the trade: ahead 7, behind 4 (prev 11); 4 leave: floor(4*7/11) = 2.
    assert _run("linear", feed)[0] == [10, 7, 7, 5]


def test_a_trade_beyond_the_size_ahead_fills_the_order() -> None:
    ahead, sim, oid = _run("linear", [("level", 14), ("level", 10), ("trade", 9)])
    assert ahead == [10, 8, None]
    assert sim.results().fills["size"].tolist() == [1]


@pytest.mark.parametrize(("ahead", "behind", "want"), [(10, 4, 4), (4, 10, 0), (7, 7, 2)])
def test_power_exponent_edges(ahead: int, behind: int, want: int) -> None:
    """`want` of a decrease of 4 leaves from ahead. A huge exponent puts it all on the
    longer side ((10/4)**1000 overflows a double to infinity: nothing from ahead);
    equal sides split it in half."""
    prev = ahead + behind
    assert level_change("power:1000.0", ahead, prev, prev - 4, 0) == ahead - want
    # Join at 10; shrink to `ahead` with nothing behind (every model caps there); then
    # `behind` joins and 4 leave.
    feed = ([("level", ahead)] if ahead < 10 else []) + [("level", prev), ("level", prev - 4)]
    assert _run("power:1000", feed)[0][-1] == ahead - want


@pytest.mark.parametrize("name", ["power:-1", "power:nan", "power:inf", "power:", "power:x",
                                  "quadratic", "Linear"])
def test_unknown_models_and_bad_exponents_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="queue model"):
        VenueConfig(queue=name)
    with pytest.raises(ValueError):
        _core.Simulator([(0, 0, 1, 0, 0, 0, 0, True, name)])


def test_model_names() -> None:
    assert parse_queue_model("power:3") == ("power", 3.0)
    assert parse_queue_model("log") == ("log", None)


def test_queue_progress_runs_from_zero_at_joining_to_one_at_the_front() -> None:
    sim = Simulator([VenueConfig(queue="linear")])
    sim.add_levels(0, level_rows([(0, 1, PRICE, 10, 0, BID, dtypes.ADD, dtypes.F_LAST)]))
    sim.add_trades(0, trade_rows([(20, 20, PRICE, 4, ASK), (30, 30, PRICE, 6, ASK)]))
    sim.advance(10)
    oid = sim.submit(0, BID, 2, PRICE)
    sim.advance(10)
    assert sim.queue_progress(oid) == 0.0
    sim.advance(20)
    assert sim.queue_progress(oid) == pytest.approx(0.4)
    sim.advance(30)
    assert sim.queue_progress(oid) == 1.0
    assert sim.queue_progress(999) is None
