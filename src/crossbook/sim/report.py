"""A backtest's results in people's terms: PnL, drawdown, slippage, inventory, and the JSON.

Money is exact. A venue's cash and fees are integers in units of ``10**-(price_exp +
size_exp)`` of its quote currency; the mark of a venue is its mid, a half-integer, so the
arithmetic here runs on twice every amount and divides once at the end: every figure is a
Fraction whose decimal expansion is finite, written as exact decimal text in the JSON.

* **PnL** = cash + position x mark - fees, summed over venues (one quote currency: a run
  over several is refused). Realized and unrealized split it by FIFO lots per venue
  (each sell closes the oldest open buys first), so both stay exact decimals:
  pnl = realized + unrealized - fees. ``fees`` is net: fees paid minus rebates.
* **Equity curve**: the PnL after every fill and every mark change of a venue holding a
  position; **max drawdown** the largest fall from a running peak of it.
* **Slippage per leg** (the strategy's label: "buy", "sell", "hedge", "unwind", "bid",
  "ask"): (fill price - decision price) x size, positive when it cost, from the decision
  price each order was logged with (crossbook.sim.strategies). **Leg risk**: the slippage
  plus fees of the repair legs ("hedge", "unwind"), what the missed legs cost against the
  plan.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from crossbook import L2Book, dtypes, format_fixed
from crossbook.sim.backtest import BacktestRun
from crossbook.sim.records import OrderStatus, Reason, RiskEventKind, TimeInForce
from crossbook.sim.strategies._base import Intent

__all__ = ["REPAIR_LEGS", "BacktestReport", "build_report", "decimal_text"]

REPAIR_LEGS = ("hedge", "unwind")
_BUY = 1
_BOOK_ACTIONS = (dtypes.ADD, dtypes.UPDATE, dtypes.DELETE, dtypes.CLEAR)


def decimal_text(value: Fraction | int) -> str:
    """Exact decimal text, no trailing zeros: Fraction(3, 2) -> "1.5". A value with no
    finite decimal expansion is a ValueError (money here never has one)."""
    v = Fraction(value)
    den, twos, fives = v.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        raise ValueError(f"{v} has no finite decimal expansion")
    exp = max(twos, fives)
    text = format_fixed(v.numerator * 10**exp // v.denominator, exp)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _dec(mantissa: int, exp: int) -> str:
    return decimal_text(Fraction(mantissa, 10**exp))


def _money(value2: int, exp: int) -> Fraction:
    """A doubled amount in units of 10**-exp, as a Fraction of the quote currency."""
    return Fraction(value2, 2 * 10**exp)


def mid_marks(levels: npt.NDArray[np.void], price_exp: int, size_exp: int,
              tick: int = 1) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(ts_recv_ns, twice the mid) after each receive time at which the book was synced and
    had both sides: the marks of a venue."""
    action = levels["action"]
    state = np.where(action == dtypes.SIM_SYNCED, 1, np.where(action == dtypes.SIM_UNSYNCED, 0, -1))
    marked = np.flatnonzero(state >= 0)
    # Each row's sync state: the last marker at or before it (a feed with none is trusted).
    pos = np.searchsorted(marked, np.arange(len(levels)), side="right") - 1
    synced = np.where(pos >= 0, state[marked[np.maximum(pos, 0)]], 1).astype(bool)
    book_rows = np.isin(action, _BOOK_ACTIONS)
    rows = levels[book_rows]
    bbo = np.zeros(len(rows), dtype=dtypes.BBO)
    L2Book(price_exp, size_exp, tick).apply(rows, bbo)
    ts = rows["ts_recv_ns"]
    last = np.append(ts[1:] != ts[:-1], True) if len(ts) else np.zeros(0, bool)
    ok = last & synced[book_rows] & (bbo["bid_size"] > 0) & (bbo["ask_size"] > 0)
    return ts[ok].astype(np.int64), (bbo["bid_price"][ok] + bbo["ask_price"][ok]).astype(np.int64)


@dataclass(slots=True)
class _Venue:
    name: str
    scale: int  # to the run's money exponent
    position: int = 0
    cash2: int = 0
    fees2: int = 0
    mark2: int | None = None
    realized2: int = 0

    def equity2(self) -> int:
        mark2 = 0 if self.mark2 is None else self.mark2
        return (self.cash2 + self.position * mark2 - self.fees2) * self.scale


@dataclass(slots=True)
class BacktestReport:
    """The summary (JSON-ready), the order and fill records of the contract, and the series
    the plots draw (floats: for drawing only)."""

    summary: dict[str, Any]
    orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    risk_events: list[dict[str, Any]]
    equity_ts_ns: npt.NDArray[np.int64]
    equity: npt.NDArray[np.float64]
    drawdown: npt.NDArray[np.float64]
    inventory: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]
    mids: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]

    def as_json(self) -> dict[str, Any]:
        return {"orders": self.orders, "fills": self.fills, "risk_events": self.risk_events,
                "summary": self.summary}


def _name(enum_value: Any) -> str:
    return str(enum_value.name).lower()


def _orders(run: BacktestRun, intents: Mapping[int, Intent]) -> list[dict[str, Any]]:
    out = []
    for o in run.results.orders:
        f = run.feeds[int(o["venue"])]
        market = int(o["type"]) == 2
        reason = Reason(int(o["reason"]))
        oid = int(o["order_id"])
        out.append({
            "order_id": oid, "venue": f.venue, "symbol": f.symbol,
            "side": "buy" if int(o["side"]) == _BUY else "sell",
            "type": "market" if market else "limit",
            "price": None if market else _dec(int(o["price"]), f.price_exp),
            "size": _dec(int(o["size"]), f.size_exp),
            "status": _name(OrderStatus(int(o["status"]))),
            "reason": None if reason is Reason.NONE else _name(reason),
            "tif": _name(TimeInForce(int(o["tif"]))), "post_only": bool(o["flags"] & 1),
            "filled": _dec(int(o["filled"]), f.size_exp),
            "ts_decision_ns": int(o["ts_decision_ns"]), "ts_arrival_ns": int(o["ts_arrival_ns"]),
            "leg": intents[oid].leg if oid in intents else None,
        })
    return out


# How a risk event's value and limit read, by its reason: a size, a notional or an amount of
# money in the venue's units, or a plain count or time.
_SIZE_REASONS = frozenset({Reason.RISK_ORDER_SIZE, Reason.RISK_POSITION, Reason.RISK_NET_POSITION})
_MONEY_REASONS = frozenset({Reason.RISK_ORDER_NOTIONAL, Reason.RISK_LOSS, Reason.RISK_DRAWDOWN})
_NO_VENUE = 2**32 - 1


def _risk_events(run: BacktestRun) -> list[dict[str, Any]]:
    """SIM_RISK_EVENT rows as JSON objects: value and limit as decimal strings in the venue's
    units for sizes and money (the run's first venue for a portfolio event), counts and times
    as integers' text."""
    out = []
    for e in run.results.risk_events:
        v = int(e["venue"])
        f = run.feeds[0 if v == _NO_VENUE else v]
        reason = Reason(int(e["reason"]))
        value = (int(e["value_hi"]) << 64) | int(e["value_lo"])
        limit = (int(e["limit_hi"]) << 64) | int(e["limit_lo"])
        exp = (f.size_exp if reason in _SIZE_REASONS
               else f.price_exp + f.size_exp if reason in _MONEY_REASONS else 0)
        out.append({
            "ts_ns": int(e["ts_ns"]), "kind": _name(RiskEventKind(int(e["kind"]))),
            "venue": None if v == _NO_VENUE else f.venue,
            "symbol": None if v == _NO_VENUE else f.symbol,
            "order_id": int(e["order_id"]) or None,
            "reason": None if reason is Reason.NONE else _name(reason),
            "value": _dec(value, exp), "limit": _dec(limit, exp),
        })
    return out


def _fills(run: BacktestRun) -> list[dict[str, Any]]:
    out = []
    for x in run.results.fills:
        f = run.feeds[int(x["venue"])]
        out.append({
            "order_id": int(x["order_id"]), "venue": f.venue, "symbol": f.symbol,
            "side": "buy" if int(x["side"]) == _BUY else "sell",
            "price": _dec(int(x["price"]), f.price_exp),
            "size": _dec(int(x["size"]), f.size_exp),
            "fee": _dec(int(x["fee"]), f.price_exp + f.size_exp),
            "liquidity": "maker" if int(x["liquidity"]) == dtypes.SIM_MAKER else "taker",
            "ts_decision_ns": int(x["ts_decision_ns"]), "ts_arrival_ns": int(x["ts_arrival_ns"]),
            "ts_fill_ns": int(x["ts_fill_ns"]),
        })
    return out


def _close_lots(lots: deque[list[int]], sign: int, price: int, size: int) -> tuple[int, int]:
    """Closes open lots of the other sign FIFO; returns (realized pnl, size left to open)."""
    realized = 0
    while size and lots and (lots[0][1] > 0) != (sign > 0):
        lot = lots[0]
        q = min(size, abs(lot[1]))
        realized += (price - lot[0]) * q * (1 if lot[1] > 0 else -1)
        lot[1] += q if lot[1] < 0 else -q
        size -= q
        if lot[1] == 0:
            lots.popleft()
    return realized, size


class _Ledger:
    """Replays fills and marks in time order: the equity curve, FIFO lots and inventory."""

    def __init__(self, run: BacktestRun) -> None:
        feeds = run.feeds
        self.exp = max(f.price_exp + f.size_exp for f in feeds)
        self.venues = [_Venue(f.name, 10 ** (self.exp - f.price_exp - f.size_exp)) for f in feeds]
        self.lots: list[deque[list[int]]] = [deque() for _ in feeds]
        self.inventory: list[tuple[list[int], list[int]]] = [([], []) for _ in feeds]
        self.ts: list[int] = []
        self.equity2: list[int] = []
        self.marks = [mid_marks(f.levels, f.price_exp, f.size_exp, f.tick) for f in feeds]

    def run(self, fills: npt.NDArray[np.void], end_ns: int) -> None:
        events: list[tuple[int, int, int, int]] = []  # (ts, 0 mark / 1 fill, venue, index)
        for v, (ts, _) in enumerate(self.marks):
            events += [(int(t), 0, v, i) for i, t in enumerate(ts.tolist()) if t <= end_ns]
        events += [(int(x["ts_fill_ns"]), 1, int(x["venue"]), i) for i, x in enumerate(fills)]
        events.sort()
        total = 0
        for ts_ns, kind, v, i in events:
            ven = self.venues[v]
            before = ven.equity2()
            if kind == 0:
                ven.mark2 = int(self.marks[v][1][i])
                if ven.position == 0:
                    continue
            else:
                self._fill(v, fills[i])
            total += ven.equity2() - before
            self.ts.append(ts_ns)
            self.equity2.append(total)

    def _fill(self, v: int, x: np.void) -> None:
        ven = self.venues[v]
        sign = 1 if int(x["side"]) == _BUY else -1
        price, size = int(x["price"]), int(x["size"])
        ven.position += sign * size
        ven.cash2 -= 2 * sign * price * size
        ven.fees2 += 2 * int(x["fee"])
        if ven.mark2 is None:
            ven.mark2 = 2 * price
        realized, left = _close_lots(self.lots[v], sign, price, size)
        ven.realized2 += 2 * realized
        if left:
            self.lots[v].append([price, sign * left])
        ts, pos = self.inventory[v]
        ts.append(int(x["ts_fill_ns"]))
        pos.append(ven.position)

    def unrealized2(self, v: int) -> int:
        mark2 = self.venues[v].mark2 or 0
        return sum((mark2 - 2 * p) * q for p, q in self.lots[v])

    def max_drawdown2(self) -> int:
        peak, worst = 0, 0
        for e in self.equity2:
            peak = max(peak, e)
            worst = max(worst, peak - e)
        return worst


def _legs(run: BacktestRun, intents: Mapping[int, Intent], exp: int) -> dict[str, dict[str, Any]]:
    """Per leg: fills, size, slippage from the decision price (quote currency, + = cost), fees."""
    acc: dict[str, list[Any]] = {}  # leg -> [fills, size, slippage, decision notional, fees]
    for x in run.results.fills:
        intent = intents.get(int(x["order_id"]))
        if intent is None or intent.decision_price is None:
            continue
        f = run.feeds[int(x["venue"])]
        scale = 10 ** (exp - f.price_exp - f.size_exp)
        size, sign = int(x["size"]), 1 if int(x["side"]) == _BUY else -1
        a = acc.setdefault(intent.leg, [0, Fraction(0), 0, 0, 0])
        a[0] += 1
        a[1] += Fraction(size, 10**f.size_exp)
        a[2] += sign * (int(x["price"]) - intent.decision_price) * size * scale
        a[3] += intent.decision_price * size * scale
        a[4] += int(x["fee"]) * scale
    return {leg: {"fills": n, "size": decimal_text(size),
                  "slippage": _dec(slip, exp), "fees": _dec(fees, exp),
                  "slippage_bps": slip / notional * 1e4 if notional else 0.0}
            for leg, (n, size, slip, notional, fees) in sorted(acc.items())}


def _quote_currency(run: BacktestRun) -> str:
    quotes = sorted({f.quote for f in run.feeds})
    if len(quotes) != 1:
        raise ValueError(f"a backtest sums money in one quote currency; these feeds quote "
                         f"{', '.join(quotes)}")
    return quotes[0]


def build_report(run: BacktestRun) -> BacktestReport:
    """The summary and records of a run (ValueError when its venues quote several currencies)."""
    quote = _quote_currency(run)
    intents: Mapping[int, Intent] = getattr(run.strategy, "intents", {})
    res = run.results
    ledger = _Ledger(run)
    ledger.run(res.fills, run.end_ns)
    exp = ledger.exp
    v2 = ledger.venues
    pnl2 = sum(v.equity2() for v in v2)
    fees = [int(x["fee"]) * 10 ** (exp - run.feeds[int(x["venue"])].price_exp
                                   - run.feeds[int(x["venue"])].size_exp) for x in res.fills]
    realized2 = sum(v.realized2 * v.scale for v in v2)
    unrealized2 = sum(ledger.unrealized2(i) * v.scale for i, v in enumerate(v2))
    turnover = sum(int(x["price"]) * int(x["size"]) * v2[int(x["venue"])].scale for x in res.fills)
    ordered = int(res.orders["size"].sum()) if len(res.orders) else 0
    filled = int(res.orders["filled"].sum()) if len(res.orders) else 0
    legs = _legs(run, intents, exp)
    repair = [legs[k] for k in REPAIR_LEGS if k in legs]
    leg_risk = sum(Fraction(leg["slippage"]) + Fraction(leg["fees"]) for leg in repair)
    positions: dict[str, dict[str, str]] = {}
    marks: dict[str, dict[str, str | None]] = {}
    inventory: dict[str, dict[str, list[list[Any]]]] = {}
    for i, f in enumerate(run.feeds):
        positions.setdefault(f.venue, {})[f.symbol] = _dec(v2[i].position, f.size_exp)
        m2 = v2[i].mark2
        marks.setdefault(f.venue, {})[f.symbol] = (None if m2 is None
                                                   else decimal_text(_money(m2, f.price_exp)))
        ts, pos = ledger.inventory[i]
        inventory.setdefault(f.venue, {})[f.symbol] = [[t, _dec(p, f.size_exp)]
                                                        for t, p in zip(ts, pos, strict=True)]
    statuses = [_name(OrderStatus(int(s))) for s in res.orders["status"]]
    summary: dict[str, Any] = {
        "quote_currency": quote, "start_ns": run.start_ns, "end_ns": run.end_ns,
        "pnl": decimal_text(_money(pnl2, exp)),
        "realized": decimal_text(_money(realized2, exp)),
        "unrealized": decimal_text(_money(unrealized2, exp)),
        "fees": _dec(sum(fees), exp),
        "fees_paid": _dec(sum(x for x in fees if x > 0), exp),
        "rebates": _dec(-sum(x for x in fees if x < 0), exp),
        "max_drawdown": decimal_text(_money(ledger.max_drawdown2(), exp)),
        "turnover": _dec(turnover, exp),
        "orders": len(res.orders), "fills": len(res.fills),
        "orders_by_status": {s: statuses.count(s) for s in sorted(set(statuses))},
        "fill_ratio": filled / ordered if ordered else 0.0,
        "legs": legs, "leg_risk_cost": decimal_text(leg_risk),
        "positions": positions, "marks": marks, "inventory": inventory,
    }
    return BacktestReport(summary, _orders(run, intents), _fills(run), _risk_events(run),
                          *_series(run, ledger))


def _series(run: BacktestRun, ledger: _Ledger) -> tuple[Any, ...]:
    ts = np.asarray(ledger.ts, dtype=np.int64)
    eq2 = np.asarray(ledger.equity2, dtype=np.float64)
    equity = eq2 / (2 * 10.0**ledger.exp)
    peak = np.maximum.accumulate(np.concatenate([[0.0], eq2]))[1:]
    drawdown = (peak - eq2) / (2 * 10.0**ledger.exp)
    inventory = {f.name: (np.asarray(t, np.int64), np.asarray(p, np.float64) * 10.0**-f.size_exp)
                 for f, (t, p) in zip(run.feeds, ledger.inventory, strict=True)}
    mids = {f.name: (t, m * 10.0**-f.price_exp / 2)
            for f, (t, m) in zip(run.feeds, ledger.marks, strict=True)}
    return ts, equity, drawdown, inventory, mids
