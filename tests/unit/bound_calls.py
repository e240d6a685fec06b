"""Every method of every compiled class, with arguments that succeed on an idle
object: the tables the thread and construction tests iterate over. A test checks
that each table names every method its class binds, so a new method joins them.
"""

from __future__ import annotations

import copy
import functools
import pickle
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import crossbook
from crossbook import BusyError, _core, dtypes
from crossbook.order_types import OrderType, TimeInForce

_N_EVENTS = 1_000_000

Call = Callable[[Any], object]

_DEADLINE_S = 60.0


@functools.cache
def level_events() -> np.ndarray:
    ev = np.zeros(_N_EVENTS, dtype=dtypes.LEVEL_EVENT)
    ev["side"], ev["action"], ev["size"] = 1 + np.arange(_N_EVENTS) % 2, dtypes.UPDATE, 1
    ev["price"] = np.where(ev["side"] == 1, 10_000, 20_000) + np.arange(_N_EVENTS) % 5000
    return ev


@functools.cache
def order_events() -> np.ndarray:
    ev = np.zeros(_N_EVENTS, dtype=dtypes.ORDER_EVENT)
    ev["action"], ev["side"], ev["size"] = dtypes.ORDER_ADD, 1, 1
    ev["order_id"] = np.arange(_N_EVENTS) % 5000 + 1
    ev["price"] = np.arange(_N_EVENTS) % 700 + 1
    return ev


@functools.cache
def order_requests() -> np.ndarray:
    n = _N_EVENTS // 2
    req = np.zeros(n, dtype=dtypes.ORDER_REQUEST)
    req["order_id"] = np.arange(1, n + 1)
    req["owner"], req["size"], req["type"], req["tif"] = 1, 1, OrderType.LIMIT, TimeInForce.IOC
    req["side"] = 1 + (np.arange(n) % 2)
    req["price"] = np.where(req["side"] == 1, 100, 101)
    return req


@functools.cache
def scan_events() -> np.ndarray:
    ev = np.zeros(_N_EVENTS // 2, dtype=dtypes.SCAN_EVENT)
    lv = level_events()[: len(ev)]
    for f in ("price", "size", "side", "action"):
        ev[f] = lv[f]
    ev["book"] = np.arange(len(ev)) % 2
    ev["ts_recv_ns"] = np.arange(len(ev))
    ev["flags"] = dtypes.F_LAST
    return ev


def depth_pair() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(5, dtype=dtypes.DEPTH), np.zeros(5, dtype=dtypes.DEPTH)


_L2_CALLS: dict[str, Call] = {
    "tick": lambda b: b.tick,
    "set_tick": lambda b: b.set_tick(1),
    "price_exp": lambda b: b.price_exp,
    "size_exp": lambda b: b.size_exp,
    "unknown_deletes": lambda b: b.unknown_deletes,
    "update": lambda b: b.update(1, 10_000, 1),
    "_update": lambda b: b._update(1, 10_000, 1, count=0),
    "bbo": lambda b: b.bbo(),
    "depth": lambda b: b.depth(5),
    "_depth": lambda b: b._depth(5),
    "depth_into": lambda b: b.depth_into(*depth_pair()),
    "_depth_into": lambda b: b._depth_into(*depth_pair()),
    "levels": lambda b: b.levels(1),
    "level": lambda b: b.level(1, 10_000),
    "apply": lambda b: b.apply(level_events()[:3]),
    "_apply": lambda b: b._apply(level_events()[:3]),
    "load_snapshot": lambda b: b.load_snapshot([(10_000, 1)], [(20_000, 1)]),
    "clear": lambda b: b.clear(),
    "truncate": lambda b: b.truncate(10_000),
    "__len__": len,
    "copy": lambda b: b.copy(),
    "__copy__": copy.copy,
    "__deepcopy__": copy.deepcopy,
    "__getstate__": pickle.dumps,
    "is_crossed": lambda b: b.is_crossed(),
    "mid": lambda b: b.mid(),
    "spread": lambda b: b.spread(),
    "microprice": lambda b: b.microprice(),
    "imbalance": lambda b: b.imbalance(3),
    "_cost_to_fill": lambda b: b._cost_to_fill(2, 1),
    "format_price": lambda b: b.format_price(1),
    "format_size": lambda b: b.format_size(1),
    "memory_bytes": lambda b: b.memory_bytes(),
    "check_invariants": lambda b: b.check_invariants(),
    "__repr__": repr,
}

_L3_QUERIES: dict[str, Call] = {
    "price_exp": lambda b: b.price_exp,
    "size_exp": lambda b: b.size_exp,
    "bbo": lambda b: b.bbo(),
    "depth": lambda b: b.depth(5),
    "levels": lambda b: b.levels(1),
    "orders": lambda b: b.orders(1),
    "_order": lambda b: b._order(1),
    "queue_position": lambda b: b.queue_position(1),
    "level_count": lambda b: b.level_count(1),
    "format_price": lambda b: b.format_price(1),
    "format_size": lambda b: b.format_size(1),
    "__len__": len,
    "__repr__": repr,
}

_ORDER_BOOK_CALLS: dict[str, Call] = {
    **_L3_QUERIES,
    "add": lambda b: b.add(10**9, 1, 1, 1),
    "cancel": lambda b: b.cancel(10**9),
    "execute": lambda b: b.execute(10**9, 1),
    "modify": lambda b: b.modify(10**9, 1, 1),
    "apply": lambda b: b.apply(order_events()[:3]),
    "clear": lambda b: b.clear(),
    "level_events": lambda b: b.level_events(),
    "set_timestamps": lambda b: b.set_timestamps(1, 2),
    "anomalies": lambda b: b.anomalies,
    "anomaly_total": lambda b: b.anomaly_total,
    "on_anomaly": lambda b: b.on_anomaly,
    "track_levels": lambda b: b.track_levels,
    "reserve": lambda b: b.reserve(10),
    "memory_bytes": lambda b: b.memory_bytes(),
    "check_invariants": lambda b: b.check_invariants(),
    "copy": lambda b: b.copy(),
    "__copy__": copy.copy,
    "__deepcopy__": copy.deepcopy,
    "__getstate__": pickle.dumps,
}

_ENGINE_CALLS: dict[str, Call] = {
    "price_exp": lambda e: e.price_exp,
    "size_exp": lambda e: e.size_exp,
    "submit": lambda e: e.submit(10**12, 1, 1, 1, 1, tif=TimeInForce.IOC),
    "cancel": lambda e: e.cancel(10**12, 1),
    "modify": lambda e: e.modify(10**12, 1, 1, 1),
    "submit_batch": lambda e: e.submit_batch(order_requests()[:3]),
    "clear": lambda e: e.clear(),
    "reserve": lambda e: e.reserve(10),
    "memory_bytes": lambda e: e.memory_bytes(),
    "check_invariants": lambda e: e.check_invariants(),
    "copy": lambda e: e.copy(),
    "__copy__": copy.copy,
    "__deepcopy__": copy.deepcopy,
    "__repr__": repr,
    "halt": lambda e: e.halt() or e.resume(),
    "resume": lambda e: e.resume(),
    "halted": lambda e: e.halted,
    "kill": lambda e: e.kill(99) or e.release(99),
    "release": lambda e: e.release(99),
    "killed": lambda e: e.killed(99),
    "reference_price": lambda e: e.reference_price,
    "_stp": lambda e: e._stp,
    "max_order_size": lambda e: e.max_order_size,
    "max_notional": lambda e: e.max_notional,
    "price_band_bps": lambda e: e.price_band_bps,
    "reference_follows_trades": lambda e: e.reference_follows_trades,
    "halt_move_bps": lambda e: e.halt_move_bps,
    "halt_window_ns": lambda e: e.halt_window_ns,
    "last_trade_price": lambda e: e.last_trade_price,
    "trade_count": lambda e: e.trade_count,
    "traded_volume": lambda e: e.traded_volume,
    "take_fills": lambda e: e.take_fills(),
    "take_rejects": lambda e: e.take_rejects(),
    "level_events": lambda e: e.level_events(),
    "track_levels": lambda e: e.track_levels,
}

_SCANNER_CALLS: dict[str, Call] = {
    "process": lambda s: s.process(scan_events()[:3]),
    "set_synced": lambda s: s.set_synced(0, True, 0),
    "flush": lambda s: s.flush(0),
    "num_books": lambda s: s.num_books,
    "now": lambda s: s.now,
    "open_count": lambda s: s.open_count,
    "usable": lambda s: s.usable(0),
    "open_opportunity": lambda s: s.open_opportunity(0, 1),
    "book": lambda s: s.book(0),
    "book_copy": lambda s: s.book_copy(0),
}

_ARB_VIEW_CALLS: dict[str, Call] = {
    "price_exp": lambda v: v.price_exp,
    "size_exp": lambda v: v.size_exp,
    "tick": lambda v: v.tick,
    "__len__": len,
    "bbo": lambda v: v.bbo(),
    "mid": lambda v: v.mid(),
    "depth": lambda v: v.depth(5),
    "levels": lambda v: v.levels(1),
    "_cost_to_fill": lambda v: v._cost_to_fill(2, 1),
}


# A target: (object to hammer, its batch call, a check of its state afterwards).
Target = tuple[Any, Callable[[], object], Callable[[], None]]


def _l2_book() -> Target:
    b = crossbook.L2Book()
    return b, lambda: b.apply(level_events()), b.check_invariants


def _order_book() -> Target:
    b = crossbook.OrderBook(on_anomaly="count")
    return b, lambda: b.apply(order_events()), b.check_invariants


def _engine() -> Target:
    e = crossbook.MatchingEngine()
    return e, lambda: e.submit_batch(order_requests()), e.check_invariants


def _engine_view() -> Target:
    e, batch, check = _engine()
    return e.book, batch, check


def _scanner() -> Target:
    s = _core.ArbScanner(0, 0, [0, 0])
    return s, lambda: s.process(scan_events()), lambda: s.book_copy(0).check_invariants()


def _scanner_view() -> Target:
    s, batch, check = _scanner()
    return s.book(0), batch, check


TARGETS: dict[str, tuple[type[Any], dict[str, Call], Callable[[], Target]]] = {
    "L2Book": (_core.L2Book, _L2_CALLS, _l2_book),
    "OrderBook": (_core.OrderBook, _ORDER_BOOK_CALLS, _order_book),
    "MatchingEngine": (_core.MatchingEngine, _ENGINE_CALLS, _engine),
    "OrderBookView": (_core.OrderBookView, _L3_QUERIES, _engine_view),
    "ArbScanner": (_core.ArbScanner, _SCANNER_CALLS, _scanner),
    "ArbBookView": (_core.ArbBookView, _ARB_VIEW_CALLS, _scanner_view),
}

# Bound, but never touch an existing object: pybind11 ignores a second __init__ (and
# __setstate__, which unpickling calls on a fresh object) on a constructed instance.
NOT_STATE = {"__init__", "__setstate__", "_pybind11_conduit_v1_"}


def bound_methods(cls: type) -> set[str]:
    """Every attribute the compiled class defines itself (not inherited from object)."""
    return {n for n in vars(cls) if not (n.startswith("__") and n not in DUNDERS)} - NOT_STATE


DUNDERS = {"__len__", "__repr__", "__copy__", "__deepcopy__", "__getstate__"}


def hammer_during_batch(batch: Callable[[], object], call: Callable[[], object]) -> int:
    """Runs `batch` on a thread, again and again, calling `call` meanwhile until a
    BusyError refused it; returns how many refusals were seen. A batch refused
    with BusyError is run again: when `call` is a GIL-free batch call itself, it
    may take the object first and keep it while it waits for the GIL, which the
    batch thread holds. Any other exception, here or in the batch, propagates."""
    refusals = 0
    batch_errors: list[BaseException] = []
    deadline = time.monotonic() + _DEADLINE_S

    def run() -> None:
        try:
            batch()
        except BusyError:
            pass
        except BaseException as exc:  # reported by the test thread
            batch_errors.append(exc)

    while refusals == 0 and time.monotonic() < deadline:
        t = threading.Thread(target=run)
        t.start()
        while t.is_alive():
            try:
                call()
            except BusyError:
                refusals += 1
        t.join()
        if batch_errors:
            raise batch_errors[0]
    return refusals
