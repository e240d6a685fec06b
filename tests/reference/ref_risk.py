"""The reference's risk engine: the rules of crossbook/sim/risk.py, recomputed from the
orders and fills at each use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.reference.ref_codes import (
    BID, ASK, PENDING, OPEN, LIMIT, MARKET, STOP, STOP_LIMIT, GTC, RESET, R_SIZE, R_NOTIONAL,
    R_POSITION, R_NET, R_OPEN, R_RATE, R_BREAKER, R_KILL, R_LOSS, R_DRAWDOWN, E_TRIPPED,
    E_RESET, E_KILL, NO_VENUE,
)

if TYPE_CHECKING:
    from tests.reference.ref_sim import RefSim


class RefRisk:
    """The risk engine's rules (crossbook/sim/risk.py), recomputed from the orders and
    fills at each use."""

    def __init__(self, sim: RefSim, portfolio: dict[str, object]) -> None:
        self.sim = sim
        self.p = portfolio
        self.events: list[dict[str, int]] = []
        self.sent: list[list[int]] = [[] for _ in sim.venues]  # send times per venue
        self.modifying: dict[int, int] = {}  # order id -> open size of its modifies in flight
        self.last_trade: list[int | None] = [None] * len(sim.venues)
        self.fills_seen = 0
        self.peak = 0
        self.tripped = False
        self.reset_ns = 0
        self.killed = False
        self.flattening = False
        self.flatten_from = 0
        self.flatten_ids: set[int] = set()

    def event(self, kind: int, venue: int, oid: int, why: tuple[int, int, int]) -> None:
        self.events.append(dict(ts_ns=self.sim.now, order_id=oid, value_lo=why[1] % 2**64,
                                value_hi=why[1] >> 64, limit_lo=why[2] % 2**64,
                                limit_hi=why[2] >> 64, venue=venue, kind=kind, reason=why[0]))

    def _live(self, o: dict[str, int]) -> bool:
        return o["status"] in (PENDING, OPEN)

    def _worst(self, venue: int, side: int) -> int:
        sign = 1 if side == BID else -1
        return sign * self.sim.venues[venue].position + sum(
            o["size"] - o["filled"] + self.modifying.get(o["order_id"], 0)
            for o in self.sim.orders.values()
            if o["venue"] == venue and o["side"] == side and self._live(o))

    def _notional(self, o: dict[str, int], price: int, size: int) -> int | None:
        if o["type"] in (LIMIT, STOP_LIMIT):
            return price * size
        if o["type"] == STOP:
            return o["trigger_price"] * size
        v = self.sim.venues[o["venue"]]
        book_side = ASK if o["side"] == BID else BID
        deepest, want = None, size
        for p in sorted(v.book[book_side], reverse=book_side == BID):
            avail = max(0, v.book[book_side][p] - v.taken.get((book_side, p), 0))
            if avail:
                deepest = p
            want -= min(avail, want)
            if want == 0:
                break
        if deepest is None:
            deepest = self.mark(o["venue"])
        return None if deepest is None else deepest * size

    def check(self, o: dict[str, int], price: int, size: int, new: bool) -> tuple[int, int, int] | None:
        self.maybe_reset()
        venue, lim = o["venue"], self.sim.venues[o["venue"]].risk
        if self.killed:
            return R_KILL, 0, 0
        if self.tripped:
            return R_BREAKER, self.reset_ns, 0
        if (cap := lim.get("max_order_size")) is not None and size > cap:
            return R_SIZE, size, cap
        if (cap := lim.get("max_order_notional")) is not None:
            n = self._notional(o, price, size)
            if n is None or n > cap:
                return R_NOTIONAL, -1 if n is None else n, cap
        if (cap := lim.get("max_position")) is not None and self._worst(venue, o["side"]) + size > cap:
            return R_POSITION, self._worst(venue, o["side"]) + size, cap
        asset = self.sim.venues[venue].asset
        nets: dict[str, int] = self.p.get("max_net_position", {})  # type: ignore[assignment]
        if asset in nets:
            worst = size + sum(self._worst(i, o["side"]) for i, v in enumerate(self.sim.venues)
                               if v.asset == asset)
            if worst > nets[asset]:
                return R_NET, worst, nets[asset]
        if new and (cap := lim.get("max_open_orders")) is not None:
            n = 1 + sum(1 for x in self.sim.orders.values() if x["venue"] == venue and self._live(x))
            if n > cap:
                return R_OPEN, n, cap
        if (cap := lim.get("max_orders_per_window")) is not None:
            window = lim.get("window_ns") or 1_000_000_000
            n = 1 + sum(1 for t in self.sent[venue] if self.sim.now - t < window)
            if n > cap:
                return R_RATE, n, cap
        return None

    def maybe_reset(self) -> None:
        if self.tripped and self.sim.now >= self.reset_ns:
            self.tripped = False
            now, self.sim.now = self.sim.now, self.reset_ns
            self.event(E_RESET, NO_VENUE, 0, (R_BREAKER, 0, 0))
            self.sim.now = now

    def mark(self, venue: int) -> int | None:
        v = self.sim.venues[venue]
        if v.book[BID] and v.book[ASK]:
            return (max(v.book[BID]) + min(v.book[ASK])) // 2
        if self.last_trade[venue] is not None:
            return self.last_trade[venue]
        fills = [f for f in self.sim.fills[:self.fills_seen] if f["venue"] == venue]
        return fills[-1]["price"] if fills else None

    def equity(self) -> int:
        total = 0
        for vi in range(len(self.sim.venues)):
            fills = [f for f in self.sim.fills[:self.fills_seen] if f["venue"] == vi]
            pos = sum(f["size"] if f["side"] == BID else -f["size"] for f in fills)
            total += sum((-1 if f["side"] == BID else 1) * f["price"] * f["size"] - f["fee"]
                         for f in fills)
            if pos:
                total += pos * (self.mark(vi) or 0)
        return total

    def _check_equity(self) -> None:
        if self.p.get("max_loss") is None and self.p.get("max_drawdown") is None:
            return
        self.maybe_reset()
        eq = self.equity()
        self.peak = max(self.peak, eq)
        if self.killed or self.tripped:
            return
        loss, dd = self.p.get("max_loss"), self.p.get("max_drawdown")
        if isinstance(loss, int) and -eq > loss:
            self._breach((R_LOSS, -eq, loss))
        elif isinstance(dd, int) and self.peak - eq > dd:
            self._breach((R_DRAWDOWN, self.peak - eq, dd))

    def _breach(self, why: tuple[int, int, int]) -> None:
        if self.p.get("on_breach") == "kill":
            self.kill(bool(self.p.get("flatten_on_kill")), why)
            return
        pause_ns = self.p.get("pause_ns", 60_000_000_000)
        assert isinstance(pause_ns, int)
        self.tripped = True
        self.reset_ns = min(self.sim.now + pause_ns, 2**63 - 1)
        self.event(E_TRIPPED, NO_VENUE, 0, why)
        self.sim.pending.append((self.reset_ns, RESET, self.sim.seq, "reset", ()))
        self.sim.seq += 1

    def message_end(self, venue: int) -> None:
        if self.sim.venues[venue].position:
            self._check_equity()

    def after_event(self) -> None:
        while self.fills_seen < len(self.sim.fills):
            f = self.sim.fills[self.fills_seen]
            self.fills_seen += 1
            self._check_equity()
            if self.flattening and self.fills_seen - 1 >= self.flatten_from \
                    and f["order_id"] not in self.flatten_ids:
                self._flatten(f["venue"], ASK if f["side"] == BID else BID, f["size"])

    def kill(self, flatten: bool, why: tuple[int, int, int]) -> None:
        if self.killed and (not flatten or self.flattening):
            return
        self.event(E_KILL, NO_VENUE, 0, why)
        if not self.killed:
            self.killed = True
            for oid in sorted(self.sim.orders):
                o = self.sim.orders[oid]
                if self._live(o):
                    self.sim._request(o["venue"], "kill_cancel", (oid,))
        if flatten:
            self.flattening = True
            self.flatten_from = len(self.sim.fills)
            for vi, v in enumerate(self.sim.venues):
                if v.position:
                    self._flatten(vi, ASK if v.position > 0 else BID, abs(v.position))

    def _flatten(self, venue: int, side: int, size: int) -> None:
        oid = self.sim.submit(venue, side, MARKET, GTC, 0, size, False, checked=False)
        self.flatten_ids.add(oid)
