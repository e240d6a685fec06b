"""How far the simulator's L2 queue models are from the order-level truth.

On order-level data (LOBSTER, Databento MBO) seeded random passive orders (one unit,
both sides, at the touch and up to three ticks behind, at random event times; on
LOBSTER only at prices its window of levels lets the replay know, and only until the
price leaves what it knows, the order's horizon) get
their true fills from crossbook.sim.fifo (exact FIFO in the real queue). The same
orders then go through the simulator fed with the L2 stream the order-level book
emits (its level rows, and the executions as trades, aggressor opposite the resting
order), once per queue model. Per model: the share of orders whose outcome
(filled or not by the end of the data) matches the truth, and the fill-time error
(model minus truth, over the orders both fill: median and p90 of its absolute value).

    python benchmarks/validate_queue_models.py [--orders N] [--seed S] [--life-s S] [--json]

Each order lives at most ``--life-s`` seconds (default 10): its outcome is whether it
filled by then.

A unit order's fill time is its first fill's. Orders the truth refuses (crossed) or a
book clear removes are left out. The exact mode is the truth itself (its agreement with
an independent plain-Python FIFO is tests/sim/test_fifo.py).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook.io import databento, lobster
from crossbook.order_book import OrderBook
from crossbook.sim import Simulator, VenueConfig
from crossbook.sim.fifo import EXECUTION, PASSIVE, FifoStatus, fifo_fills
from crossbook.timeutil import NS_PER_MS, NS_PER_S

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
MODELS = ("conservative", "linear", "power:2", "power:3", "log")
_MAX_TICKS_BEHIND = 3


_NO_FLOOR, _NO_CEILING = np.iinfo(np.int64).min, np.iinfo(np.int64).max


@dataclass(frozen=True)
class Dataset:
    """Order-level events (``ts_recv_ns`` is the time) with their source positions,
    the executions, and the first time an order may be placed (after any seed or
    snapshot). After event ``k`` the replay knows the bids at or above
    ``bid_floor[k]`` and the asks at or below ``ask_ceiling[k]`` exactly (a LOBSTER
    file shows only a window of levels: see lobster.KnownRange)."""

    name: str
    price_exp: int
    events: npt.NDArray[np.void]
    event_seq: npt.NDArray[np.int64]
    executions: npt.NDArray[np.void]
    start_ns: int
    bid_floor: npt.NDArray[np.int64]
    ask_ceiling: npt.NDArray[np.int64]


def lobster_dataset(name: str, messages: Path, orderbook: Path, date: str | None = None) -> Dataset:
    msgs = lobster.read_messages(messages, date=date)
    book = lobster.read_orderbook(orderbook)
    t0 = int(msgs.messages["ts_ns"][0])
    seed = lobster.synthetic_orders(*lobster.initial_state(book.row(0)), ts_ns=t0)
    rep = lobster.replay_events(msgs.messages, seed, start=1)
    events = np.concatenate([seed, rep.events])
    events["ts_recv_ns"] = events["ts_exchange_ns"]
    seq = np.concatenate([np.zeros(len(seed), np.int64), rep.event_row])
    ex_rows = np.flatnonzero(rep.events["action"] == dtypes.ORDER_EXECUTE)
    ex = rep.events[ex_rows]
    executions = np.zeros(len(ex), dtype=EXECUTION)
    executions["ts_ns"], executions["seq"] = ex["ts_exchange_ns"], rep.event_row[ex_rows]
    for f in ("order_id", "price", "size", "side"):
        executions[f] = ex[f]
    start = int(rep.events["ts_exchange_ns"][0]) if len(rep.events) else t0
    floor = np.empty(len(book), np.int64)
    ceiling = np.empty(len(book), np.int64)
    known = lobster.KnownRange(book.levels)
    for r in range(len(book)):
        known.update(*book.depth(r))
        floor[r] = _NO_FLOOR if known.bid_floor is None else known.bid_floor
        ceiling[r] = _NO_CEILING if known.ask_ceiling is None else known.ask_ceiling
    return Dataset(name, lobster.PRICE_EXP, events, seq, executions, start, floor[seq],
                   ceiling[seq])


def databento_dataset(name: str, path: Path) -> Dataset:
    data = databento.read_dbn_mbo(path) if path.suffix != ".gz" else databento.read_csv_mbo(path)
    recs = data.records
    mbo = databento.mbo_to_events(recs)
    fills = np.flatnonzero((recs["action"] == b"F") & (recs["order_id"] != 0))
    executions = np.zeros(len(fills), dtype=EXECUTION)
    executions["ts_ns"], executions["seq"] = recs["ts_recv"][fills], fills
    executions["order_id"], executions["price"] = recs["order_id"][fills], recs["price"][fills]
    executions["size"] = recs["size"][fills]
    executions["side"] = np.where(recs["side"][fills] == b"B", 1, 2)
    snap = np.flatnonzero((mbo.events["flags"] & dtypes.F_SNAPSHOT) != 0)
    first = int(snap[-1]) + 1 if len(snap) else 0
    start = int(mbo.events["ts_recv_ns"][min(first, len(mbo.events) - 1)])
    n = len(mbo.events)
    return Dataset(name, databento.PRICE_EXP, mbo.events, mbo.event_record, executions, start,
                   np.full(n, _NO_FLOOR), np.full(n, _NO_CEILING))


def datasets(root: Path = DATA) -> list[Dataset]:
    lob, db = root / "lobster", root / "databento"
    return [
        lobster_dataset("LOBSTER AAPL", lob / "AAPL_2012-06-21_34200000_57600000_message_10.csv",
                        lob / "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"),
        lobster_dataset("LOBSTER MSFT", lob / "MSFT_message_20k.csv.gz",
                        lob / "MSFT_orderbook_20k.csv.gz", date="2012-06-21"),
        # esm4-...-20240508 is left out: its 2 s of live data fill none of the orders.
        databento_dataset("Databento ES H4", db / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"),
    ]


def l2_stream(ds: Dataset) -> tuple[npt.NDArray[np.void], npt.NDArray[np.void]]:
    """The level rows the order-level book emits, and the executions as trades."""
    book = OrderBook(ds.price_exp, on_anomaly="count", track_levels=True)
    book.apply(ds.events)
    levels = book.level_events()
    trades = np.zeros(len(ds.executions), dtype=dtypes.TRADE_EVENT)
    trades["ts_exchange_ns"] = trades["ts_recv_ns"] = ds.executions["ts_ns"]
    trades["price"], trades["size"] = ds.executions["price"], ds.executions["size"]
    trades["side"] = 3 - ds.executions["side"]  # the aggressor is on the other side
    return levels, trades


def random_orders(ds: Dataset, n: int,
                  seed: int) -> tuple[npt.NDArray[np.void], npt.NDArray[np.int64]]:
    """``n`` unit orders at event times from ``start_ns`` on, each at its side's touch
    or up to three ticks behind it (tick: the gcd of the prices' gaps), at prices the
    replay knows then; and each order's horizon, the time its price stops being known
    (int64 max when it never does)."""
    bbo = np.zeros(len(ds.events), dtype=dtypes.BBO)
    OrderBook(ds.price_exp, on_anomaly="count").apply(ds.events, bbo)
    ts = ds.events["ts_recv_ns"]
    prices = np.unique(ds.events["price"][ds.events["price"] > 0])
    tick = int(np.gcd.reduce(np.diff(prices))) if len(prices) > 1 else 1
    # The book an order meets is the one after the last event of its time.
    last_of_time = np.flatnonzero(np.append(ts[1:] != ts[:-1], True))
    usable = last_of_time[(ts[last_of_time] >= ds.start_ns) & (bbo["bid_size"][last_of_time] > 0)
                          & (bbo["ask_size"][last_of_time] > 0)]
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(usable, size=min(4 * n, len(usable)), replace=False))
    side = rng.integers(1, 3, size=len(pick))
    behind = rng.integers(0, _MAX_TICKS_BEHIND + 1, size=len(pick)) * tick
    price = np.where(side == 1, bbo["bid_price"][pick] - behind, bbo["ask_price"][pick] + behind)
    known = np.where(side == 1, price >= ds.bid_floor[pick], price <= ds.ask_ceiling[pick])
    keep = np.sort(rng.permutation(np.flatnonzero(known))[:n])
    out = np.zeros(len(keep), dtype=PASSIVE)
    out["ts_ns"], out["side"], out["price"] = ts[pick[keep]], side[keep], price[keep]
    out["size"] = 1
    horizon = np.full(len(keep), _NO_CEILING, dtype=np.int64)
    for j, (k, sd, p) in enumerate(zip(pick[keep], side[keep], price[keep])):
        lost = (np.flatnonzero(ds.bid_floor[k:] > p) if sd == 1
                else np.flatnonzero(ds.ask_ceiling[k:] < p))
        if len(lost):
            horizon[j] = ts[k + lost[0]]
    return out, horizon


def simulate(ds: Dataset, orders: npt.NDArray[np.void], model: str,
             stream: tuple[npt.NDArray[np.void], npt.NDArray[np.void]]) -> npt.NDArray[np.int64]:
    """Time of each order's first fill in the simulator with queue ``model`` (-1: none)."""
    sim = Simulator([VenueConfig(price_exp=ds.price_exp, queue=model)])
    levels, trades = stream
    sim.add_levels(0, levels)
    sim.add_trades(0, trades)
    ids = []
    for o in orders:
        sim.advance(int(o["ts_ns"]))
        ids.append(sim.submit(0, int(o["side"]), int(o["size"]), int(o["price"])))
    end = max(int(levels["ts_recv_ns"][-1]) if len(levels) else 0,
              int(trades["ts_recv_ns"][-1]) if len(trades) else 0)
    sim.advance(max(end, sim.now))
    fills = sim.results().fills
    first = np.full(len(orders), -1, dtype=np.int64)
    where = {oid: i for i, oid in enumerate(ids)}
    for f in fills[::-1]:
        first[where[int(f["order_id"])]] = int(f["ts_fill_ns"])
    return first


@dataclass(frozen=True)
class Row:
    """One model on one file. Errors are model minus truth over the orders both fill
    (NaN when there are none)."""

    data: str
    model: str
    orders: int
    filled_truth: int
    filled_model: int
    early: int  # filled in the model, not in truth
    missed: int  # filled in truth, not in the model
    outcome_match: float
    same_time: float  # of the orders both fill, the share filled at the same time
    median_error_ms: float
    p90_abs_error_ms: float


def score(data: str, model: str, truth: npt.NDArray[np.void], got: npt.NDArray[np.int64],
          horizon: npt.NDArray[np.int64]) -> Row:
    """Outcomes by each order's horizon (fills at or after it are unknown, so not counted)."""
    keep = (truth["status"] == FifoStatus.FILLED) | (truth["status"] == FifoStatus.OPEN)
    h = horizon[keep]
    t_fill = np.where(truth["ts_first_fill_ns"][keep] < h, truth["ts_first_fill_ns"][keep], -1)
    g_fill = np.where(got[keep] < h, got[keep], -1)
    both = (t_fill >= 0) & (g_fill >= 0)
    err_ms = (g_fill[both] - t_fill[both]) / NS_PER_MS
    return Row(
        data, model, int(keep.sum()), int((t_fill >= 0).sum()), int((g_fill >= 0).sum()),
        int(((g_fill >= 0) & (t_fill < 0)).sum()), int(((t_fill >= 0) & (g_fill < 0)).sum()),
        float(((t_fill >= 0) == (g_fill >= 0)).mean()) if keep.any() else math.nan,
        float((err_ms == 0).mean()) if len(err_ms) else math.nan,
        float(np.median(err_ms)) if len(err_ms) else math.nan,
        float(np.percentile(np.abs(err_ms), 90)) if len(err_ms) else math.nan,
    )


def validate(sets: list[Dataset], n_orders: int, seed: int, models: tuple[str, ...] = MODELS,
             life_ns: int = 10 * NS_PER_S) -> list[Row]:
    """Rows of the table; every order lives ``life_ns`` at most (a quote is not left
    forever, and a long life makes nearly every order fill in every model)."""
    rows: list[Row] = []
    for k, ds in enumerate(sets):
        orders, horizon = random_orders(ds, n_orders, seed + k)
        horizon = np.minimum(horizon, orders["ts_ns"] + life_ns)
        truth = fifo_fills(ds.events, ds.event_seq, ds.executions, orders, price_exp=ds.price_exp)
        stream = l2_stream(ds)
        for model in models:
            rows.append(score(ds.name, model, truth, simulate(ds, orders, model, stream), horizon))
    return rows


def table(rows: list[Row]) -> str:
    head = ("| data | model | orders | filled (truth / model) | early / missed | outcome match "
            "| same fill time | fill-time error median (ms) | p90 abs error (ms) |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        lines.append(f"| {r.data} | {r.model} | {r.orders} | {r.filled_truth} / "
                     f"{r.filled_model} | {r.early} / {r.missed} | {r.outcome_match:.1%} | "
                     f"{r.same_time:.1%} | {r.median_error_ms:.3f} | {r.p90_abs_error_ms:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--orders", type=int, default=400, help="orders per data file (default 400)")
    ap.add_argument("--seed", type=int, default=20240808)
    ap.add_argument("--life-s", type=float, default=10.0, help="each order's life (default 10 s)")
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args(argv)
    if not (args.data / "lobster").is_dir() or not (args.data / "databento").is_dir():
        print(f"no lobster/ and databento/ under {args.data}", file=sys.stderr)
        return 2
    life_ns = int(args.life_s * NS_PER_S)
    rows = validate(datasets(args.data), args.orders, args.seed, life_ns=life_ns)
    print(json.dumps([asdict(r) for r in rows], indent=1) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
