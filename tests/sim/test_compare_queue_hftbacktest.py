"""benchmarks/compare_queue_hftbacktest.py on the first seconds of the USD-M slice: its
crossbook half always, its hftbacktest half when hftbacktest is installed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crossbook import Side

# benchmarks/ lives beside tests/, not in the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import compare_queue_hftbacktest as cq  # noqa: E402

SECONDS = 12.0


@pytest.fixture(scope="module")
def data() -> cq.Data:
    try:
        return cq.load(SECONDS)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("model", cq.MODELS)
def test_crossbook_half(data: cq.Data, model: str) -> None:
    q = cq.Quoting()
    run = cq.run_crossbook(data, model, q)
    again = cq.run_crossbook(data, model, q)
    assert run.orders == again.orders
    times = set(cq.decision_times(data, q))
    assert len(run.orders) > 20
    assert sum(o[3] > 0 for o in run.orders) > 5
    last: dict[int, int] = {}
    for decided_ns, side, price, fill_ns in run.orders:
        assert decided_ns in times and decided_ns >= data.synced_ns
        assert price % data.feed.tick == 0 and last.get(side) != price  # a new touch each time
        last[side] = price
        assert fill_ns == 0 or fill_ns >= decided_ns + cq.ENTRY_NS
    mark = cq.final_mark(data)
    f = data.feed
    assert run.pnl(mark, f.price_exp, f.size_exp) == cq.exact_pnl(
        data, run.orders, q.lot, mark, fees_rounded_up=True)
    assert run.position == sum(1 if s == Side.BID else -1 for _, s, _, t in run.orders if t)


@pytest.mark.parametrize("model", ["power:2", "power:3"])
def test_replay_reproduces_crossbook(data: cq.Data, model: str) -> None:
    """The plain-Python queue replay that attributes differences, with crossbook's rules,
    gives every order the fill time crossbook's engine gave it."""
    run = cq.run_crossbook(data, model, cq.Quoting())
    n = float(model.partition(":")[2])
    for i, (decided_ns, side, price, fill_ns) in enumerate(run.orders):
        end_ns = cq.cancel_arrival_ns(data, run.orders, i)
        assert fill_ns == cq.replay_fill_ns(data, n, side, price, decided_ns + cq.ENTRY_NS, end_ns,
                                            exact=True, level_window=True), i


def test_hftbacktest_half(data: cq.Data) -> None:
    pytest.importorskip("hftbacktest")
    pytest.importorskip("numba")
    q = cq.Quoting()
    table = cq.rows(data, q, ("conservative", "power:3"), repeats=1)
    for row in table:
        assert row.orders > 20 and min(row.fills) > 5
        assert "unexplained" not in row.reasons
        assert row.fills[0] - row.same_time + row.fills[1] - row.same_time >= sum(
            row.reasons.values())
        assert abs(row.hbt_float_error) < 1e-9


def test_replay_reproduces_hftbacktest(data: cq.Data) -> None:
    """With hftbacktest's rules, the replay gives every order hftbacktest's fill time,
    except the fills by a depth cross, which it does not model."""
    pytest.importorskip("hftbacktest")
    pytest.importorskip("numba")
    q = cq.Quoting()
    run = cq.run_hftbacktest(data, "power:3", q, cq.hbt_events(data), cq.hbt_strategy())
    checked = 0
    for i, (decided_ns, side, price, fill_ns) in enumerate(run.orders):
        if fill_ns and not cq.through_trade_at(data, fill_ns, side, price):
            continue
        checked += 1
        end_ns = cq.cancel_arrival_ns(data, run.orders, i)
        assert fill_ns == cq.replay_fill_ns(data, 3.0, side, price, decided_ns + cq.ENTRY_NS,
                                            end_ns, exact=False, level_window=False), i
    assert checked > 20
