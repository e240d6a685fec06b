"""The compiled ArbScanner (cpp/include/crossbook/arb.hpp) behind ScanCore's methods.

``Scanner(units, core_factory=CompiledScanCore)`` runs the same scan with the C++
core: books and pair states live in C++, the walks run there, and the events
come back as the same ``OpportunityEvent`` values the Python core produces (the
Python core is the C++ one's twin, rule for rule, in its MessageEnd mode).

Two differences a user can see: books are fixed once the first event has been
processed (the C++ scanner is built then, with one taker fee per book), and
``book(i)`` returns a copy. Peak edges are kept exact here, from the events
(the C++ scanner reports doubles).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from crossbook import L2Book, _core, dtypes
from crossbook.arb.opportunity import Opportunity, _from_compiled
from crossbook.arb.scanner import CloseReason, EventKind, OpportunityEvent

__all__ = ["OPPORTUNITY_EVENT", "SCAN_EVENT", "CompiledScanCore", "available"]

#: ScanEvent (48 bytes): a LEVEL_EVENT plus the index of its book.
SCAN_EVENT = dtypes.SCAN_EVENT
OPPORTUNITY_EVENT = dtypes.OPPORTUNITY_EVENT
_SYNCED, _UNSYNCED, _HEARTBEAT = dtypes.SCAN_SYNCED, dtypes.SCAN_UNSYNCED, dtypes.SCAN_HEARTBEAT


def available() -> bool:
    return hasattr(_core, "ArbScanner")


def _int128(lo: int, hi: int) -> int:
    return hi * (1 << 64) + lo


class CompiledScanCore:
    """ScanCore's interface (see crossbook.arb.scanner) over ``_core.ArbScanner``."""

    def __init__(self, price_exp: int, size_exp: int, max_age_ns: int | None = None,
                 max_size: int | None = None) -> None:
        if not available():
            raise RuntimeError("crossbook._core has no ArbScanner (the compiled core is older)")
        self.price_exp, self.size_exp = price_exp, size_exp
        self.max_age_ns, self.max_size = max_age_ns, max_size
        self._names: list[str] = []
        self._fees: list[int] = []
        self._latency: list[int] = []
        self._ticks: list[int] = []
        self._scanner: Any = None
        self._peaks: dict[tuple[int, int], Fraction | float] = {}

    # -- books ---------------------------------------------------------------------

    def add_book(self, name: str, fee_cbps: int, latency_ns: int = 0, tick: int = 1) -> int:
        if self._scanner is not None:
            raise RuntimeError(f"cannot add {name}: the compiled scanner's books are fixed once "
                               "it has processed an event")
        self._names.append(name)
        self._fees.append(fee_cbps)
        self._latency.append(latency_ns)
        self._ticks.append(tick)
        return len(self._names) - 1

    def set_tick(self, i: int, tick: int) -> None:
        if self._scanner is None:
            self._ticks[i] = tick  # a hint only: once the books exist it is not worth a rebuild

    def _core(self) -> Any:
        if self._scanner is None:
            self._scanner = _core.ArbScanner(
                self.price_exp, self.size_exp, self._fees, self._ticks, self.max_age_ns,
                self.max_size, "message_end")
        return self._scanner

    def __len__(self) -> int:
        return len(self._names)

    def name(self, i: int) -> str:
        return self._names[i]

    def fee_cbps(self, i: int) -> int:
        return self._fees[i]

    def book(self, i: int) -> L2Book:
        # A no-copy read-only view with the reading half of L2Book's interface.
        return self._core().book(i)  # type: ignore[no-any-return]

    def usable(self, i: int) -> bool:
        return bool(self._core().usable(i))

    @property
    def open_count(self) -> int:
        return int(self._core().open_count)

    @property
    def now(self) -> int:
        return int(self._core().now)

    def open_opportunity(self, buy: int, sell: int) -> Opportunity | None:
        raw = self._core().open_opportunity(buy, sell)
        return None if raw is None else _from_compiled(raw, self.price_exp, self.size_exp)

    # -- input -----------------------------------------------------------------------

    def apply(self, i: int, levels: npt.NDArray[np.void],
              ts_recv_ns: int) -> list[OpportunityEvent]:
        if not len(levels):
            return self.heartbeat(i, ts_recv_ns)
        ev = np.zeros(len(levels), dtype=SCAN_EVENT)
        for f in ("ts_exchange_ns", "price", "size", "count", "side", "action"):
            ev[f] = levels[f]
        ev["ts_recv_ns"] = ts_recv_ns
        ev["book"] = i
        # One message is one step in MessageEnd mode: only its last event ends it.
        ev["flags"] = levels["flags"] & np.uint16(0xFFFF ^ dtypes.F_LAST)
        ev["flags"][-1] |= dtypes.F_LAST
        return self._events(self._core().process(ev))

    def heartbeat(self, i: int, ts_recv_ns: int) -> list[OpportunityEvent]:
        ev = np.zeros(1, dtype=SCAN_EVENT)
        ev[0] = (ts_recv_ns, ts_recv_ns, 0, 0, 0, 0, _HEARTBEAT, dtypes.F_LAST, i, 0)
        return self._events(self._core().process(ev))

    def set_synced(self, i: int, synced: bool, ts_ns: int) -> list[OpportunityEvent]:
        return self._events(self._core().set_synced(i, synced, ts_ns))

    def flush(self, ts_ns: int) -> list[OpportunityEvent]:
        return self._events(self._core().flush(ts_ns))

    # -- output ----------------------------------------------------------------------

    def _events(self, rows: npt.NDArray[np.void]) -> list[OpportunityEvent]:
        return [self._event(r) for r in rows.tolist()]

    def _event(self, r: tuple[Any, ...]) -> OpportunityEvent:
        row = dict(zip(OPPORTUNITY_EVENT.names or (), r, strict=True))
        buy, sell = int(row["buy_book"]), int(row["sell_book"])
        opp = Opportunity(
            int(row["size"]), _int128(row["buy_notional_lo"], row["buy_notional_hi"]),
            _int128(row["sell_notional_lo"], row["sell_notional_hi"]), int(row["buy_price"]),
            int(row["sell_price"]), _int128(row["pnl_num_lo"], row["pnl_num_hi"]),
            self.price_exp, self.size_exp)
        kind = EventKind(row["kind"])
        edge: Fraction | float = math.inf if opp.buy_notional == 0 else opp.edge
        # Peaks over the emitted states: a state that is not emitted has the same size and
        # (double) edge as the last one that was.
        key = (buy, sell)
        if kind is EventKind.OPENED:
            self._peaks[key] = edge
        elif kind is EventKind.UPDATED:
            self._peaks[key] = max(self._peaks.get(key, edge), edge)
        peak = self._peaks.get(key, edge)
        if kind is EventKind.CLOSED:
            self._peaks.pop(key, None)
        return OpportunityEvent(kind, CloseReason(row["reason"]), int(row["ts_ns"]),
                                int(row["open_ts_ns"]), buy, sell, self._names[buy],
                                self._names[sell], opp, peak, int(row["peak_size"]),
                                max(self._latency[buy], self._latency[sell]))
