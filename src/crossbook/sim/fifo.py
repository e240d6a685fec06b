"""Exact FIFO fills of passive orders on order-level (L3) data: the truth queue models guess.

With order-level data the queue is known. A passive order placed at time ``t`` joins
the back of its price level in the real book (crossbook's :class:`~crossbook.OrderBook`),
behind every order resting there after the feed events with a time ``<= t`` (the
simulator's rule: feed rows at a time run before an order arriving then). From then on:

* an execution of a real order at the order's price that stands *behind* it in the
  queue (it joined later, or lost its place by a modify) would have met the passive
  order first: the order fills ``min(open size, execution size)``;
* an execution of a real order on the same side at a *worse* price (a bid below it, an
  ask above it) means the aggressor traded through its price: the same fill;
* executions of orders ahead of it, cancels and modifies move it up by themselves;
* a book clear removes it (status ``CLEARED``).

The passive orders are independent (each as if it were alone: they never fill or
queue against each other), small next to the market (the real executions are not
changed by their fills), and must not cross the real book when they arrive (status
``CROSSED``, never filled).

Executions are a separate stream because feeds send them apart from the book change:
a LOBSTER type-4 message is both (its execute event), a Databento F record names the
resting order and its depletion comes later as a C or M. Each execution and book event
carries ``seq``, its position in the source (message row or record index): at equal
times the source's order decides, and an execution is read before the book event of
the same ``seq``.
"""

from __future__ import annotations

import enum

import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook.order_book import OrderBook

__all__ = ["EXECUTION", "FIFO_FILL", "PASSIVE", "FifoStatus", "fifo_fills"]

#: One execution of a resting order: ``side`` is the resting order's (1 bid, 2 ask).
EXECUTION = np.dtype([("ts_ns", "<i8"), ("seq", "<i8"), ("order_id", "<u8"), ("price", "<i8"),
                      ("size", "<i8"), ("side", "u1")])
#: A passive order to place: at ``ts_ns`` (after the feed events of that time).
PASSIVE = np.dtype([("ts_ns", "<i8"), ("side", "u1"), ("price", "<i8"), ("size", "<i8")])
#: What became of a passive order: its filled size, the times of its first fill and of
#: the fill that completed it (-1 when none), and its FifoStatus.
FIFO_FILL = np.dtype([("filled", "<i8"), ("ts_first_fill_ns", "<i8"), ("ts_fill_ns", "<i8"),
                      ("status", "u1")])

_NO_TIME = -1
# Passive orders take ids from the top of the id space down; fifo_fills checks that no
# feed id is there.
_ID_TOP = (1 << 64) - 1


class FifoStatus(enum.IntEnum):
    OPEN = 0  # still resting (maybe partly filled) when the data ended
    FILLED = 1
    CROSSED = 2  # its price crossed the book when it arrived: refused
    CLEARED = 3  # a book clear removed it


def _timeline(events: npt.NDArray[np.void], event_seq: npt.NDArray[np.int64],
              executions: npt.NDArray[np.void],
              orders: npt.NDArray[np.void]) -> npt.NDArray[np.int64]:
    """Steps in time order, coded as kind * N + index with kind 0 execution, 1 event,
    2 passive order: at equal time by seq, an execution before the event of its seq,
    passive orders after everything of their time."""
    n = max(len(events), len(executions), len(orders)) + 1
    ts = np.concatenate([executions["ts_ns"], events["ts_recv_ns"], orders["ts_ns"]])
    seq = np.concatenate([executions["seq"], event_seq,
                          np.full(len(orders), np.iinfo(np.int64).max)])
    kind = np.concatenate([np.zeros(len(executions), np.int64), np.ones(len(events), np.int64),
                           np.full(len(orders), 2, np.int64)])
    index = np.concatenate([np.arange(len(executions)), np.arange(len(events)),
                            np.arange(len(orders))]).astype(np.int64)
    order = np.lexsort((index, kind, seq, ts))
    out: npt.NDArray[np.int64] = kind[order] * n + index[order]
    return out


class _Run:
    """The state of one replay: the book with the passive orders in it, and their fills."""

    def __init__(self, events: npt.NDArray[np.void], orders: npt.NDArray[np.void],
                 price_exp: int) -> None:
        self.book = OrderBook(price_exp, on_anomaly="count")
        self.real = OrderBook(price_exp, on_anomaly="count")  # without the passive orders
        self.events = events
        self.orders = orders
        self.out = np.zeros(len(orders), dtype=FIFO_FILL)
        self.out["ts_first_fill_ns"] = self.out["ts_fill_ns"] = _NO_TIME
        self.open: dict[int, int] = {}  # resting passive order id -> index in orders
        self.left: dict[int, int] = {}  # its open size

    def apply(self, first: int, last: int) -> None:
        batch = self.events[first:last]
        self.book.apply(batch)
        self.real.apply(batch)
        if np.any(batch["action"] == dtypes.ORDER_CLEAR):
            for vid in [v for v in self.open if self.book.order(v) is None]:
                self.out["status"][self.open.pop(vid)] = FifoStatus.CLEARED
                del self.left[vid]

    def place(self, i: int) -> None:
        o = self.orders[i]
        side, price = int(o["side"]), int(o["price"])
        bid, ask = self.real.bbo()
        if side == 1:
            crossed = ask is not None and price >= ask[0]
        else:
            crossed = bid is not None and price <= bid[0]
        if crossed:
            self.out["status"][i] = FifoStatus.CROSSED
            return
        vid = _ID_TOP - i
        self.book.add(vid, side, price, int(o["size"]), 1)
        self.open[vid] = i
        self.left[vid] = int(o["size"])

    def execute(self, e: np.void) -> None:
        side, price, size = int(e["side"]), int(e["price"]), int(e["size"])
        target = self.book.order(int(e["order_id"]))
        target_place = (self.book.queue_position(int(e["order_id"]))
                        if target is not None and target.price == price else None)
        for vid, i in list(self.open.items()):
            o = self.orders[i]
            if int(o["side"]) != side:
                continue
            p = int(o["price"])
            through = p > price if side == 1 else p < price
            place = self.book.queue_position(vid)
            behind = (p == price and target_place is not None and place is not None
                      and target_place > place)
            if through or behind:
                self._fill(vid, i, min(size, self.left[vid]), int(e["ts_ns"]))

    def _fill(self, vid: int, i: int, size: int, ts_ns: int) -> None:
        row = self.out[i]
        if row["filled"] == 0:
            row["ts_first_fill_ns"] = ts_ns
        row["filled"] += size
        self.left[vid] -= size
        if self.left[vid] == 0:
            row["ts_fill_ns"] = ts_ns
            row["status"] = FifoStatus.FILLED
            self.book.cancel(vid)
            del self.open[vid], self.left[vid]


def fifo_fills(events: npt.NDArray[np.void], event_seq: npt.ArrayLike,
               executions: npt.NDArray[np.void], orders: npt.NDArray[np.void], *,
               price_exp: int = 0) -> npt.NDArray[np.void]:
    """FIFO_FILL rows, one per PASSIVE order, from ORDER_EVENT ``events`` (their
    ``ts_recv_ns`` is the time) with their ``event_seq`` and EXECUTION rows.

    Feed anomalies (a LOBSTER id from before the file, say) are counted by the book and
    skipped; an execution of an order the book does not hold fills only orders it trades
    through. Raises ValueError when a feed id collides with the passive orders' ids.
    """
    seq = np.asarray(event_seq, dtype=np.int64)
    if len(seq) != len(events):
        raise ValueError(f"{len(events)} events but {len(seq)} seq values")
    if len(orders) and int(events["order_id"].max(initial=0)) > _ID_TOP - len(orders):
        raise ValueError("feed order ids reach the ids reserved for the passive orders")
    run = _Run(events, orders, price_exp)
    n = max(len(events), len(executions), len(orders)) + 1
    steps = _timeline(events, seq, executions, orders)
    k = 0
    while k < len(steps):
        kind, index = divmod(int(steps[k]), n)
        if kind == 1:  # a run of book events goes to the book in one batch
            end = k + 1
            while (end < len(steps) and steps[end] // n == 1
                   and steps[end] - steps[end - 1] == 1):
                end += 1
            run.apply(index, index + end - k)
            k = end
            continue
        if kind == 0:
            run.execute(executions[index])
        else:
            run.place(index)
        k += 1
    return run.out
