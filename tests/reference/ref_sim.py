"""Plain-Python twin of the execution simulator (crossbook.sim): the test oracle.

Written from the rules in crossbook/sim/__init__.py with dicts and lists and no
cleverness, so that a disagreement points at one of the two. Same numbering as the
core: sides 1/2, statuses, reasons and response kinds as crossbook.sim.records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.reference.ref_queue import level_change

BID, ASK = 1, 2
ADD, UPDATE, DELETE, CLEAR, SYNCED, UNSYNCED = 1, 2, 3, 4, 16, 17
F_LAST = 1
PENDING, OPEN, FILLED, CANCELLED, REJECTED = 1, 2, 3, 4, 5
(R_NONE, R_NOT_SYNCED, R_POST_ONLY, R_FOK, R_UNKNOWN, R_REMAINDER, R_MODIFY_CROSS,
 R_USER_CANCEL) = range(8)
ACCEPTED, FILL, K_CANCELLED, K_REJECTED, MODIFIED, CANCEL_REJECTED, MODIFY_REJECTED = range(1, 8)
MAKER, TAKER = 1, 2
LIMIT, MARKET = 1, 2
GTC, IOC, FOK = 1, 2, 3
ARRIVAL, ANSWER, TIMER = 1, 2, 3
FEE_DENOMINATOR = 1_000_000


def fee_of(notional: int, cbps: int) -> int:
    """ceil(notional * cbps / 10**6)."""
    return -((-notional * cbps) // FEE_DENOMINATOR)


@dataclass
class RefVenue:
    entry_ns: int
    response_ns: int
    maker_cbps: int
    taker_cbps: int
    synced: bool = True
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


class RefSim:
    """Level rows are (ts_exchange_ns, ts_recv_ns, price, size, count, side, action, flags);
    trade rows (ts_exchange_ns, ts_recv_ns, price, size, aggressor_side)."""

    def __init__(self, venues: list[RefVenue]) -> None:
        self.venues = venues
        self.now = 0
        self.orders: dict[int, dict[str, int]] = {}
        self.ahead: dict[int, int] = {}  # resting order id -> size ahead of it
        self.ahead_at_arrival: dict[int, int] = {}
        self.fills: list[dict[str, int]] = []
        self.responses: list[dict[str, int]] = []
        self.pending: list[tuple[int, int, int, str, tuple[int, ...]]] = []
        self.seq = 0
        self.timers = 0

    # -- requests -----------------------------------------------------------------------------
    def _request(self, venue: int, what: str, args: tuple[int, ...]) -> None:
        self.pending.append((self.now + self.venues[venue].entry_ns, ARRIVAL, self.seq, what, args))
        self.seq += 1

    def submit(self, venue: int, side: int, kind: int, tif: int, price: int, size: int,
               post_only: bool) -> int:
        oid = len(self.orders) + 1
        self.orders[oid] = dict(order_id=oid, ts_decision_ns=self.now, ts_arrival_ns=0,
                                price=0 if kind == MARKET else price, size=size, filled=0,
                                venue=venue, side=side, type=kind, tif=tif,
                                flags=1 if post_only else 0, status=PENDING, reason=R_NONE)
        self._request(venue, "new", (oid,))
        return oid

    def cancel(self, oid: int) -> None:
        self._request(self.orders[oid]["venue"], "cancel", (oid,))

    def modify(self, oid: int, price: int, leaves: int) -> None:
        self._request(self.orders[oid]["venue"], "modify", (oid, price, leaves))

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
                    self._trade(feed[1], v.trades[v.next_trade - 1])
                else:
                    v.next_level += 1
                    self._level(feed[1], v.levels[v.next_level - 1])
            elif task is not None:
                if task[0] > until:
                    break
                self.pending.remove(task)
                self.now = task[0]
                self._task(task[3], task[4])
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

    # -- feed -------------------------------------------------------------------------------------
    def _level(self, vi: int, row: tuple[int, ...]) -> None:
        v = self.venues[vi]
        price, size, side, action = row[2], row[3], row[5], row[6]
        if action in (SYNCED, UNSYNCED):
            v.synced = action == SYNCED
            return
        if action == CLEAR:
            v.book = {BID: {}, ASK: {}}
            v.taken = {}
            v.traded = {}
            return
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

    # -- venue rules ------------------------------------------------------------------------------
    def _walk(self, vi: int, o: dict[str, int], want: int) -> list[tuple[int, int]]:
        """(price, size) the order could take now, best first."""
        v = self.venues[vi]
        book_side = ASK if o["side"] == BID else BID
        prices = sorted(v.book[book_side], reverse=book_side == BID)
        out = []
        for p in prices:
            if o["type"] == LIMIT and (p > o["price"] if o["side"] == BID else p < o["price"]):
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

    def _new(self, o: dict[str, int]) -> None:
        vi = o["venue"]
        v = self.venues[vi]
        o["ts_arrival_ns"] = self.now
        reason = R_NONE
        if not v.synced:
            reason = R_NOT_SYNCED
        elif o["type"] == LIMIT and o["flags"] and self._crosses(vi, o["side"], o["price"]):
            reason = R_POST_ONLY
        elif o["tif"] == FOK and sum(q for _, q in self._walk(vi, o, o["size"])) < o["size"]:
            reason = R_FOK
        if reason:
            o["status"], o["reason"] = REJECTED, reason
            self._send(o, K_REJECTED, reason)
            return
        o["status"] = OPEN
        self._send(o, ACCEPTED)
        book_side = ASK if o["side"] == BID else BID
        for p, q in self._walk(vi, o, o["size"]):
            v.taken[(book_side, p)] = v.taken.get((book_side, p), 0) + q
            self._fill(o, p, q, TAKER)
        if o["filled"] == o["size"]:
            return
        if o["type"] == MARKET or o["tif"] != GTC:
            o["status"], o["reason"] = CANCELLED, R_REMAINDER
            self._send(o, K_CANCELLED, R_REMAINDER)
            return
        self._join(o)

    def _join(self, o: dict[str, int]) -> None:
        ahead = self.venues[o["venue"]].book[o["side"]].get(o["price"], 0)
        self.ahead[o["order_id"]] = self.ahead_at_arrival[o["order_id"]] = ahead

    def _cancel(self, o: dict[str, int]) -> None:
        if o["order_id"] not in self.ahead:
            self._send(o, CANCEL_REJECTED, R_UNKNOWN)
            return
        del self.ahead[o["order_id"]]
        del self.ahead_at_arrival[o["order_id"]]
        o["status"], o["reason"] = CANCELLED, R_USER_CANCEL
        self._send(o, K_CANCELLED, R_USER_CANCEL)

    def _modify(self, o: dict[str, int], price: int, leaves: int) -> None:
        vi = o["venue"]
        reason = R_NONE
        if o["order_id"] not in self.ahead:
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
        delivery = self.now + self.venues[r["venue"]].response_ns
        self.responses.append(dict(ts_venue_ns=self.now, ts_delivery_ns=delivery, **r))
        self.pending.append((delivery, ANSWER, self.seq, "answer", (len(self.responses) - 1,)))
        self.seq += 1

    def pnl(self, vi: int, mark: int) -> int:
        v = self.venues[vi]
        return v.cash + v.position * mark - v.fees
