"""Plain-Python twin of the execution simulator (crossbook.sim): the test oracle.

Written from the rules in crossbook/sim/__init__.py (and crossbook/sim/risk.py for the
risk engine) with dicts and lists and no cleverness, so that a disagreement points at
one of the two. Same numbering as the core: sides 1/2, statuses, reasons, response
kinds and risk event kinds as crossbook.sim.records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.reference.ref_codes import (
    BID, ASK, DELETE, CLEAR, SYNCED, UNSYNCED, F_LAST, PENDING, OPEN, FILLED, CANCELLED,
    REJECTED, R_NONE, R_NOT_SYNCED, R_POST_ONLY, R_FOK, R_UNKNOWN, R_REMAINDER, R_MODIFY_CROSS,
    R_USER_CANCEL, R_STOP_WAITING, ACCEPTED, FILL, K_CANCELLED, K_REJECTED, MODIFIED,
    CANCEL_REJECTED, MODIFY_REJECTED, TRIGGERED, MAKER, TAKER, LIMIT, MARKET, STOP, STOP_LIMIT,
    F_POST_ONLY, F_TRIGGERED, GTC, FOK, ARRIVAL, ANSWER, TIMER, FEE_DENOMINATOR, R_KILL,
    E_REFUSED,
)
from tests.reference.ref_latency import RefEmpirical, RefTable, RefUniform
from tests.reference.ref_queue import level_change
from tests.reference.ref_risk import RefRisk


def fee_of(notional: int, cbps: int) -> int:
    """ceil(notional * cbps / 10**6)."""
    return -((-notional * cbps) // FEE_DENOMINATOR)


@dataclass
class RefVenue:
    """``latency``, when given, replaces the constant entry_ns/response_ns: an object whose
    ``delay(0 for entry or 1 for response, ts)`` gives each delay."""

    entry_ns: int
    response_ns: int
    maker_cbps: int
    taker_cbps: int
    synced: bool = True
    latency: RefEmpirical | RefUniform | RefTable | None = None
    last_arrival: int | None = None
    last_delivery: int | None = None
    queue: str = "conservative"  # a core queue model name (power as "power:<float repr>")
    book: dict[int, dict[int, int]] = field(default_factory=lambda: {BID: {}, ASK: {}})
    taken: dict[tuple[int, int], int] = field(default_factory=dict)
    traded: dict[tuple[int, int], int] = field(default_factory=dict)  # since the level's last row
    levels: list[tuple[int, ...]] = field(default_factory=list)
    trades: list[tuple[int, ...]] = field(default_factory=list)
    next_level: int = 0
    next_trade: int = 0
    position: int = 0
    cash: int = 0
    fees: int = 0
    volume: int = 0
    # Risk limits, VenueRisk's fields by name (absent or None: no limit), and the asset.
    risk: dict[str, int | None] = field(default_factory=dict)
    asset: str = ""


class RefSim:
    """Level rows are (ts_exchange_ns, ts_recv_ns, price, size, count, side, action, flags);
    trade rows (ts_exchange_ns, ts_recv_ns, price, size, aggressor_side)."""

    def __init__(self, venues: list[RefVenue], portfolio: dict[str, object] | None = None) -> None:
        """``portfolio``: PortfolioRisk's fields by name."""
        self.venues = venues
        self.risk = RefRisk(self, portfolio or {})
        self.now = 0
        self.orders: dict[int, dict[str, int]] = {}
        self.ahead: dict[int, int] = {}  # resting order id -> size ahead of it
        self.stops: set[int] = set()  # ids of the stop orders waiting for their trigger
        self.ahead_at_arrival: dict[int, int] = {}
        self.fills: list[dict[str, int]] = []
        self.responses: list[dict[str, int]] = []
        self.pending: list[tuple[int, int, int, str, tuple[int, ...]]] = []
        self.seq = 0
        self.timers = 0

    # -- requests -----------------------------------------------------------------------------
    def _delay(self, venue: int, which: int) -> int:
        v = self.venues[venue]
        if v.latency is None:
            return v.response_ns if which else v.entry_ns
        return v.latency.delay(which, self.now)

    def _request(self, venue: int, what: str, args: tuple[int, ...]) -> None:
        v = self.venues[venue]
        at = self.now + self._delay(venue, 0)
        if v.last_arrival is not None:
            at = max(at, v.last_arrival)
        v.last_arrival = at
        self.pending.append((at, ARRIVAL, self.seq, what, args))
        self.seq += 1

    def submit(self, venue: int, side: int, kind: int, tif: int, price: int, size: int,
               post_only: bool, trigger_price: int = 0, checked: bool = True) -> int:
        oid = len(self.orders) + 1
        o = dict(order_id=oid, ts_decision_ns=self.now, ts_arrival_ns=0,
                 price=0 if kind in (MARKET, STOP) else price, trigger_price=trigger_price,
                 size=size, filled=0, venue=venue, side=side, type=kind, tif=tif,
                 flags=F_POST_ONLY if post_only else 0, status=PENDING, reason=R_NONE)
        refusal = self.risk.check(o, o["price"], size, True) if checked else None
        self.orders[oid] = o
        if refusal:
            o["status"], o["reason"] = REJECTED, refusal[0]
            self.risk.event(E_REFUSED, venue, oid, refusal)
            self._local_answer(o, K_REJECTED, refusal[0])
            return oid
        self._request(venue, "new", (oid,))
        self.risk.sent[venue].append(self.now)
        return oid

    def cancel(self, oid: int) -> None:
        self._request(self.orders[oid]["venue"], "cancel", (oid,))

    def modify(self, oid: int, price: int, leaves: int) -> None:
        o = self.orders[oid]
        refusal = self.risk.check(o, price, leaves, False)
        if refusal:
            self.risk.event(E_REFUSED, o["venue"], oid, refusal)
            self._local_answer(o, MODIFY_REJECTED, refusal[0])
            return
        self._request(o["venue"], "modify", (oid, price, leaves))
        self.risk.sent[o["venue"]].append(self.now)
        self.risk.modifying[oid] = self.risk.modifying.get(oid, 0) + leaves

    def kill(self, flatten: bool) -> None:
        self.risk.kill(flatten, (R_KILL, 0, 0))

    def set_timer(self, ts: int) -> int:
        self.timers += 1
        self.pending.append((ts, TIMER, self.seq, "timer", (self.timers,)))
        self.seq += 1
        return self.timers

    # -- the loop -------------------------------------------------------------------------------
    def advance(self, until: int) -> None:
        while True:
            feed = None
            for vi, v in enumerate(self.venues):
                if v.next_trade < len(v.trades):
                    key = (v.trades[v.next_trade][1], vi, 0)
                    feed = key if feed is None or key < feed else feed
                if v.next_level < len(v.levels):
                    key = (v.levels[v.next_level][1], vi, 1)
                    feed = key if feed is None or key < feed else feed
            task = min(self.pending) if self.pending else None
            if feed is not None and (task is None or feed[0] <= task[0]):
                if feed[0] > until:
                    break
                self.now = feed[0]
                v = self.venues[feed[1]]
                if feed[2] == 0:
                    v.next_trade += 1
                    self.risk.last_trade[feed[1]] = v.trades[v.next_trade - 1][2]
                    self._trade(feed[1], v.trades[v.next_trade - 1])
                else:
                    v.next_level += 1
                    self._level(feed[1], v.levels[v.next_level - 1])
                self.risk.after_event()
            elif task is not None:
                if task[0] > until:
                    break
                self.pending.remove(task)
                self.now = task[0]
                self._task(task[3], task[4])
                self.risk.after_event()
            else:
                break
        self.now = max(self.now, until)

    def _task(self, what: str, args: tuple[int, ...]) -> None:
        if what == "new":
            self._new(self.orders[args[0]])
        elif what == "cancel":
            self._cancel(self.orders[args[0]])
        elif what == "modify":
            self._modify(self.orders[args[0]], args[1], args[2])
            self.risk.modifying[args[0]] -= args[2]
        elif what == "kill_cancel":
            self._cancel(self.orders[args[0]], R_KILL)
        elif what == "reset":
            self.risk.maybe_reset()

    # -- feed -------------------------------------------------------------------------------------
    def _level(self, vi: int, row: tuple[int, ...]) -> None:
        v = self.venues[vi]
        action = row[6]
        if action in (SYNCED, UNSYNCED):
            v.synced = action == SYNCED
        elif action == CLEAR:
            v.book = {BID: {}, ASK: {}}
            v.taken = {}
            v.traded = {}
        else:
            self._set_level(vi, row)
        if row[7] & F_LAST:
            self.risk.message_end(vi)

    def _set_level(self, vi: int, row: tuple[int, ...]) -> None:
        v = self.venues[vi]
        price, size, side, action = row[2], row[3], row[5], row[6]
        new = 0 if action == DELETE else size
        prev = v.book[side].get(price, 0)
        traded = v.traded.pop((side, price), 0)
        if new:
            v.book[side][price] = new
        else:
            v.book[side].pop(price, None)
        v.taken.pop((side, price), None)
        for oid, ahead in self.ahead.items():
            o = self.orders[oid]
            if o["venue"] == vi and o["side"] == side and o["price"] == price:
                self.ahead[oid] = level_change(v.queue, ahead, prev, new, traded)

    def _trade(self, vi: int, row: tuple[int, ...]) -> None:
        price, size, aggressor = row[2], row[3], row[4]
        hit = ASK if aggressor == BID else BID
        v = self.venues[vi]
        v.traded[(hit, price)] = v.traded.get((hit, price), 0) + size
        for oid in sorted(self.ahead):
            o = self.orders[oid]
            if o["venue"] != vi or o["side"] != hit:
                continue
            leaves = o["size"] - o["filled"]
            through = price < o["price"] if hit == BID else price > o["price"]
            if price == o["price"]:
                reach = max(0, size - self.ahead[oid])
                self.ahead[oid] = max(0, self.ahead[oid] - size)
            else:
                reach = leaves if through else 0
            if reach:
                self._fill(o, o["price"], min(reach, leaves), MAKER)
        for oid in [i for i in self.ahead if self.orders[i]["status"] == FILLED]:
            del self.ahead[oid]
            del self.ahead_at_arrival[oid]
        for oid in sorted(self.stops):
            o = self.orders[oid]
            if o["venue"] == vi and (price >= o["trigger_price"] if o["side"] == BID
                                     else price <= o["trigger_price"]):
                self.stops.remove(oid)
                self._trigger(o)

    def _trigger(self, o: dict[str, int]) -> None:
        o["flags"] |= F_TRIGGERED
        self._send(o, TRIGGERED)
        reason = self._refusal(o) if self.venues[o["venue"]].synced else R_NOT_SYNCED
        if reason:
            o["status"], o["reason"] = CANCELLED, reason
            self._send(o, K_CANCELLED, reason)
            return
        self._execute(o)

    # -- venue rules ------------------------------------------------------------------------------
    def _walk(self, vi: int, o: dict[str, int], want: int) -> list[tuple[int, int]]:
        """(price, size) the order could take now, best first."""
        v = self.venues[vi]
        book_side = ASK if o["side"] == BID else BID
        prices = sorted(v.book[book_side], reverse=book_side == BID)
        out = []
        for p in prices:
            if o["type"] in (LIMIT, STOP_LIMIT) and (p > o["price"] if o["side"] == BID
                                                     else p < o["price"]):
                break
            avail = max(0, v.book[book_side][p] - v.taken.get((book_side, p), 0))
            q = min(avail, want)
            if q:
                out.append((p, q))
            want -= q
            if want == 0:
                break
        return out

    def _crosses(self, vi: int, side: int, price: int) -> bool:
        probe = dict(side=side, type=LIMIT, price=price)
        return bool(self._walk(vi, probe, 1))

    def _refusal(self, o: dict[str, int]) -> int:
        """What the book refuses now: a crossing post-only order, an unfillable FOK."""
        vi = o["venue"]
        post_only = o["type"] == LIMIT and o["flags"] & F_POST_ONLY
        if post_only and self._crosses(vi, o["side"], o["price"]):
            return R_POST_ONLY
        if o["tif"] == FOK and sum(q for _, q in self._walk(vi, o, o["size"])) < o["size"]:
            return R_FOK
        return R_NONE

    def _new(self, o: dict[str, int]) -> None:
        v = self.venues[o["venue"]]
        o["ts_arrival_ns"] = self.now
        stop = o["type"] in (STOP, STOP_LIMIT)
        reason = R_NOT_SYNCED if not v.synced else R_NONE if stop else self._refusal(o)
        if reason:
            o["status"], o["reason"] = REJECTED, reason
            self._send(o, K_REJECTED, reason)
            return
        o["status"] = OPEN
        self._send(o, ACCEPTED)
        if stop:
            self.stops.add(o["order_id"])
            return
        self._execute(o)

    def _execute(self, o: dict[str, int]) -> None:
        vi = o["venue"]
        v = self.venues[vi]
        book_side = ASK if o["side"] == BID else BID
        for p, q in self._walk(vi, o, o["size"] - o["filled"]):
            v.taken[(book_side, p)] = v.taken.get((book_side, p), 0) + q
            self._fill(o, p, q, TAKER)
        if o["filled"] == o["size"]:
            return
        if o["type"] in (MARKET, STOP) or o["tif"] != GTC:
            o["status"], o["reason"] = CANCELLED, R_REMAINDER
            self._send(o, K_CANCELLED, R_REMAINDER)
            return
        self._join(o)

    def _join(self, o: dict[str, int]) -> None:
        ahead = self.venues[o["venue"]].book[o["side"]].get(o["price"], 0)
        self.ahead[o["order_id"]] = self.ahead_at_arrival[o["order_id"]] = ahead

    def _cancel(self, o: dict[str, int], reason: int = R_USER_CANCEL) -> None:
        if o["order_id"] in self.stops:
            self.stops.remove(o["order_id"])
        elif o["order_id"] in self.ahead:
            del self.ahead[o["order_id"]]
            del self.ahead_at_arrival[o["order_id"]]
        else:
            self._send(o, CANCEL_REJECTED, R_UNKNOWN)
            return
        o["status"], o["reason"] = CANCELLED, reason
        self._send(o, K_CANCELLED, reason)

    def _modify(self, o: dict[str, int], price: int, leaves: int) -> None:
        vi = o["venue"]
        reason = R_NONE
        if o["order_id"] in self.stops:
            reason = R_STOP_WAITING
        elif o["order_id"] not in self.ahead:
            reason = R_UNKNOWN
        elif not self.venues[vi].synced:
            reason = R_NOT_SYNCED
        elif price != o["price"] and self._crosses(vi, o["side"], price):
            reason = R_MODIFY_CROSS
        if reason:
            self._send(o, MODIFY_REJECTED, reason)
            return
        keeps = price == o["price"] and leaves <= o["size"] - o["filled"]
        o["size"] = o["filled"] + leaves
        if not keeps:
            o["price"] = price
            self._join(o)
        self._send(o, MODIFIED)

    def _fill(self, o: dict[str, int], price: int, size: int, liquidity: int) -> None:
        v = self.venues[o["venue"]]
        notional = price * size
        fee = fee_of(notional, v.maker_cbps if liquidity == MAKER else v.taker_cbps)
        sign = 1 if o["side"] == BID else -1
        v.position += sign * size
        v.cash -= sign * notional
        v.fees += fee
        v.volume += size
        o["filled"] += size
        if o["filled"] == o["size"]:
            o["status"] = FILLED
        self.fills.append(dict(ts_decision_ns=o["ts_decision_ns"], ts_arrival_ns=o["ts_arrival_ns"],
                               ts_fill_ns=self.now, order_id=o["order_id"], price=price, size=size,
                               fee=fee, venue=o["venue"], side=o["side"], liquidity=liquidity))
        self._answer(dict(order_id=o["order_id"], price=price, size=size,
                          leaves=o["size"] - o["filled"], fee=fee, venue=o["venue"], kind=FILL,
                          status=o["status"], reason=R_NONE, liquidity=liquidity))

    def _send(self, o: dict[str, int], kind: int, reason: int = R_NONE) -> None:
        leaves = o["size"] - o["filled"] if o["status"] == OPEN else 0
        self._answer(dict(order_id=o["order_id"], price=o["price"], size=o["size"], leaves=leaves,
                          fee=0, venue=o["venue"], kind=kind, status=o["status"], reason=reason,
                          liquidity=0))

    def _answer(self, r: dict[str, int]) -> None:
        v = self.venues[r["venue"]]
        delivery = self.now + self._delay(r["venue"], 1)
        if v.last_delivery is not None:
            delivery = max(delivery, v.last_delivery)
        v.last_delivery = delivery
        self.responses.append(dict(ts_venue_ns=self.now, ts_delivery_ns=delivery, **r))
        self.pending.append((delivery, ANSWER, self.seq, "answer", (len(self.responses) - 1,)))
        self.seq += 1

    def _local_answer(self, o: dict[str, int], kind: int, reason: int) -> None:
        leaves = o["size"] - o["filled"] if o["status"] == OPEN else 0
        self.responses.append(dict(ts_venue_ns=self.now, ts_delivery_ns=self.now,
                                   order_id=o["order_id"], price=o["price"], size=o["size"],
                                   leaves=leaves, fee=0, venue=o["venue"], kind=kind,
                                   status=o["status"], reason=reason, liquidity=0))
        self.pending.append((self.now, ANSWER, self.seq, "answer", (len(self.responses) - 1,)))
        self.seq += 1

    def pnl(self, vi: int, mark: int) -> int:
        v = self.venues[vi]
        return v.cash + v.position * mark - v.fees
