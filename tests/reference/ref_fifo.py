"""Plain-Python twin of crossbook.sim.fifo: exact FIFO fills of passive orders.

Priority by stamps instead of a book's queues: every order gets a stamp when it
joins a level (add, or a modify that loses its place), passive orders too; an order
is behind a passive order at its price when its stamp is later. Feed anomalies are
treated as OrderBook(on_anomaly="count") does for the well-formed feeds the tests use
(unknown ids skipped, a cancel or execute of at least what rests removes the order).
"""

from __future__ import annotations

from typing import Any

ADD, MODIFY, CANCEL, CLEAR, EXECUTE = 1, 2, 3, 4, 5
OPEN, FILLED, CROSSED, CLEARED = 0, 1, 2, 3


def ref_fifo_fills(events: Any, event_seq: Any, executions: Any,
                   orders: Any) -> list[dict[str, int]]:
    steps = []
    for i, e in enumerate(executions):
        steps.append((int(e["ts_ns"]), int(e["seq"]), 0, i))
    for i, e in enumerate(events):
        steps.append((int(e["ts_recv_ns"]), int(event_seq[i]), 1, i))
    for i, o in enumerate(orders):
        steps.append((int(o["ts_ns"]), 2**63, 2, i))
    steps.sort()
    book: dict[int, list[int]] = {}  # id -> [side, price, size, stamp]
    stamp = 0
    out = [dict(filled=0, ts_first_fill_ns=-1, ts_fill_ns=-1, status=OPEN) for _ in orders]
    passive: dict[int, list[int]] = {}  # index -> [side, price, left, stamp]
    for ts, _, kind, i in steps:
        if kind == 1:
            e = events[i]
            oid, act, size = int(e["order_id"]), int(e["action"]), int(e["size"])
            side, price = int(e["side"]), int(e["price"])
            if act == ADD:
                stamp += 1
                book[oid] = [side, price, size, stamp]
            elif act == CLEAR:
                book = {k: v for k, v in book.items() if side not in (0, v[0])}
                for j in [j for j, p in passive.items() if side in (0, p[0])]:
                    out[j]["status"] = CLEARED
                    del passive[j]
            elif oid in book:
                o = book[oid]
                if act == MODIFY:
                    if price != o[1] or size > o[2]:
                        stamp += 1
                        o[3] = stamp
                    o[1], o[2] = price, size
                elif act == CANCEL and 0 < size < o[2]:
                    o[2] -= size
                elif act == EXECUTE and size < o[2]:
                    o[2] -= size
                else:
                    del book[oid]
        elif kind == 0:
            e = executions[i]
            side, price, size = int(e["side"]), int(e["price"]), int(e["size"])
            target = book.get(int(e["order_id"]))
            for j, p in list(passive.items()):
                if p[0] != side:
                    continue
                through = p[1] > price if side == 1 else p[1] < price
                behind = (p[1] == price and target is not None and target[1] == price
                          and target[3] > p[3])
                if through or behind:
                    q = min(size, p[2])
                    if out[j]["filled"] == 0:
                        out[j]["ts_first_fill_ns"] = ts
                    out[j]["filled"] += q
                    p[2] -= q
                    if p[2] == 0:
                        out[j]["ts_fill_ns"], out[j]["status"] = ts, FILLED
                        del passive[j]
        else:
            o = orders[i]
            side, price = int(o["side"]), int(o["price"])
            asks = [v[1] for v in book.values() if v[0] == 2]
            bids = [v[1] for v in book.values() if v[0] == 1]
            if ((side == 1 and asks and price >= min(asks))
                    or (side == 2 and bids and price <= max(bids))):
                out[i]["status"] = CROSSED
                continue
            stamp += 1
            passive[i] = [side, price, int(o["size"]), stamp]
    return out
