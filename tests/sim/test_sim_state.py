"""The C++ simulator and the plain-Python reference (tests/reference/ref_sim.py), driven alike.

Two venues with random latency models (constant, seeded uniform, seeded samples, a table
over time) fees (rebates included) and queue models; random feed rows (adds, updates, deletes, clears,
sync changes) and trades, orders of every kind (limit GTC, IOC, FOK, post-only, market,
stop-market and stop-limit), cancels and modifies (known and unknown ids), trades aimed at
resting orders and at waiting stops' triggers, and time advancing.
After every step: every order, fill, answer (with its delivery time), account and pnl
agree, and so do the risk engine's events (random per-venue and run-wide limits, loss and
drawdown breakers that pause or kill, and kill switches pulled at random); and, checked
from the inputs alone: no fill before its order's arrival; the taker
fills against one version of a level never exceed that level's size (no filling twice); a
maker fill happens only at a trade at or through its price; pnl at a mark equals the sum of
(mark - price) * signed size - fee over the fills.
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from crossbook import dtypes
from crossbook.sim import (
    ConstantLatency,
    EmpiricalLatency,
    Fees,
    Latency,
    PortfolioRisk,
    Simulator,
    TableLatency,
    UniformLatency,
    VenueConfig,
    VenueRisk,
)
from tests.reference.ref_latency import RefEmpirical, RefTable, RefUniform
from tests.reference.ref_sim import RefSim, RefVenue
from tests.sim._util import as_dicts, level_rows, trade_rows

VENUES = 2
venues = st.integers(0, VENUES - 1)
sides = st.sampled_from([1, 2])
prices = st.integers(95, 105)
sizes = st.integers(1, 12)
gaps = st.integers(0, 3)
latencies = st.sampled_from([0, 1, 2, 5])
fees = st.sampled_from([-200, 0, 1, 250, 1000])
delays = st.integers(0, 5)
seeds = st.integers(0, 2**64 - 1)

LatencyPair = tuple[Latency, RefEmpirical | RefUniform | RefTable | None]


def _pair(model: Latency) -> LatencyPair:
    """A core model and its reference twin (None: the reference's constant delays)."""
    if isinstance(model, EmpiricalLatency):
        return model, RefEmpirical(model.entry_ns, model.response_ns, model.seed)
    if isinstance(model, UniformLatency):
        return model, RefUniform(model.entry, model.response, model.seed)
    if isinstance(model, TableLatency):
        return model, RefTable(model.rows)
    return model, None


def _range(draw: st.DrawFn) -> tuple[int, int]:
    lo = draw(delays)
    return lo, draw(st.integers(lo, 5))


@st.composite
def latency_models(draw: st.DrawFn) -> LatencyPair:
    kind = draw(st.sampled_from(["constant", "uniform", "empirical", "table"]))
    if kind == "uniform":
        return _pair(UniformLatency(_range(draw), _range(draw), draw(seeds)))
    if kind == "empirical":
        samples = st.lists(delays, min_size=1, max_size=4)
        return _pair(EmpiricalLatency(draw(samples), draw(samples), draw(seeds)))
    if kind == "table":
        starts = draw(st.lists(st.integers(0, 60), min_size=1, max_size=4, unique=True))
        return _pair(TableLatency([(t, draw(delays), draw(delays)) for t in sorted(starts)]))
    return _pair(ConstantLatency(draw(latencies), draw(latencies)))


def _limit(high: int) -> st.SearchStrategy[int | None]:
    """No limit two times in three, so that the venues still trade."""
    return st.one_of(st.none(), st.none(), st.integers(0, high))


# Half the runs have no venue limit, so that enough trades happen for the loss checks.
venue_risks: st.SearchStrategy[dict[str, int | None]] = st.one_of(st.just({}), st.fixed_dictionaries({
    "max_order_size": _limit(12), "max_order_notional": _limit(1_300), "max_position": _limit(30),
    "max_open_orders": _limit(6), "max_orders_per_window": _limit(6), "window_ns": st.integers(1, 10),
}))
portfolios = st.fixed_dictionaries({
    "max_net_position": st.sampled_from([{}, {"X": 8}, {"X": 40}]), "max_loss": _limit(20),
    "max_drawdown": _limit(20), "on_breach": st.sampled_from(["pause", "kill"]),
    "pause_ns": st.integers(0, 40), "flatten_on_kill": st.booleans(),
})

# Canonical names (as VenueConfig passes them to the core), the exponent's edges included.
queues = st.sampled_from(["conservative", "linear", "log", "power:0.0", "power:0.5", "power:1.0",
                          "power:3.0", "power:400.0"])


def _has_resting(machine: SimMachine) -> bool:
    return bool(getattr(machine, "ref", None) and machine.ref.ahead)


def _has_stops(machine: SimMachine) -> bool:
    return bool(getattr(machine, "ref", None) and machine.ref.stops)


class SimMachine(RuleBasedStateMachine):
    @initialize(lat=st.lists(latency_models(), min_size=VENUES, max_size=VENUES),
                fee=st.lists(st.tuples(fees, fees), min_size=VENUES, max_size=VENUES),
                queue=st.lists(queues, min_size=VENUES, max_size=VENUES),
                risk=st.lists(venue_risks, min_size=VENUES, max_size=VENUES), portfolio=portfolios)
    def setup(self, lat: list[LatencyPair], fee: list[tuple[int, int]], queue: list[str],
              risk: list[dict[str, int | None]], portfolio: dict[str, object]) -> None:
        self.sim = Simulator([VenueConfig(latency=model, fees=Fees(m, t), queue=q,
                                          risk=VenueRisk(**vr), asset="X")  # type: ignore[arg-type]
                              for (model, _), (m, t), q, vr in zip(lat, fee, queue, risk)],
                             PortfolioRisk(**portfolio))  # type: ignore[arg-type]
        self.ref = RefSim([
            RefVenue(model.entry_ns, model.response_ns, m, t, queue=q, risk=vr, asset="X")
            if isinstance(model, ConstantLatency)
            else RefVenue(0, 0, m, t, latency=ref, queue=q, risk=vr, asset="X")
            for (model, ref), (m, t), q, vr in zip(lat, fee, queue, risk)
        ], portfolio)
        self.last_ts = [0] * VENUES  # per venue: feed rows must not go back
        self.levels: list[list[tuple[int, ...]]] = [[] for _ in range(VENUES)]
        self.trades: list[list[tuple[int, ...]]] = [[] for _ in range(VENUES)]

    def _ts(self, venue: int, gap: int) -> int:
        # After the loop ran events at now, a row at now is refused (it would break the tie-break).
        ts = max(self.last_ts[venue], self.sim.now + 1) + gap
        self.last_ts[venue] = ts
        return ts

    def _add_level(self, venue: int, row: tuple[int, ...]) -> None:
        self.sim.add_levels(venue, level_rows([row]))
        self.ref.venues[venue].levels.append(row)
        self.levels[venue].append(row)

    # Bids mostly below asks, so that orders both rest and take.
    @rule(venue=venues, gap=gaps, side=sides, off=st.integers(0, 4), size=st.integers(0, 15),
          action=st.sampled_from([dtypes.ADD, dtypes.UPDATE, dtypes.UPDATE, dtypes.DELETE]))
    def level(self, venue: int, gap: int, side: int, off: int, size: int, action: int) -> None:
        ts = self._ts(venue, gap)
        price = 100 - off if side == 1 else 100 + off
        self._add_level(venue, (ts - 1, ts, price, size, 0, side, action, dtypes.F_LAST))

    # Rarer than level rows: a venue out of sync refuses everything.
    @rule(venue=venues, gap=gaps,
          action=st.sampled_from([dtypes.CLEAR] + [dtypes.SIM_SYNCED] * 3 + [dtypes.SIM_UNSYNCED]),
          really=st.integers(0, 2))
    def status(self, venue: int, gap: int, action: int, really: int) -> None:
        if really == 0:
            ts = self._ts(venue, gap)
            self._add_level(venue, (ts, ts, 0, 0, 0, 0, action, 0))

    @rule(venue=venues, gap=gaps, side=sides, price=prices, size=sizes)
    def trade(self, venue: int, gap: int, side: int, price: int, size: int) -> None:
        ts = self._ts(venue, gap)
        row = (ts - 1, ts, price, size, side)
        self.sim.add_trades(venue, trade_rows([row]))
        self.ref.venues[venue].trades.append(row)
        self.trades[venue].append(row)

    def _resting(self, pick: int) -> dict[str, int] | None:
        ids = sorted(self.ref.ahead)
        return self.ref.orders[ids[pick % len(ids)]] if ids else None

    # Aimed at a resting order, and only offered when there is one: the feed moving its
    # level, and trades at or through its price (both twice as likely as other rules).
    @precondition(_has_resting)
    @rule(pick=st.integers(0, 1000), gap=gaps, size=st.integers(0, 15))
    def level_at_order(self, pick: int, gap: int, size: int) -> None:
        if (o := self._resting(pick)) is not None:
            ts = self._ts(o["venue"], gap)
            self._add_level(o["venue"], (ts, ts, o["price"], size, 0, o["side"], dtypes.UPDATE,
                                         dtypes.F_LAST))

    @precondition(_has_resting)
    @rule(pick=st.integers(0, 1000), gap=gaps, size=st.integers(0, 15))
    def level_at_order_again(self, pick: int, gap: int, size: int) -> None:
        self.level_at_order(pick, gap, size)

    # An order joins a level, orders join behind it, maybe a trade at its price, then
    # part of the level leaves and the feed runs: the path where the queue models split
    # a decrease that the trade (if any) explains only in part.
    @rule(venue=venues, side=sides, pick=st.integers(0, 1000), grow=st.integers(1, 9),
          traded=st.integers(0, 4), drop=st.integers(1, 15))
    def queue_churn(self, venue: int, side: int, pick: int, grow: int, traded: int,
                    drop: int) -> None:
        levels = sorted(self.ref.venues[venue].book[side])
        if not levels:
            return
        price = levels[pick % len(levels)]
        self.join_level(venue, side, pick, 1)
        self._advance(max(v.entry_ns for v in self.ref.venues) + 1)
        size = self.ref.venues[venue].book[side].get(price, 0) + grow
        ts = self._ts(venue, 0)
        self._add_level(venue, (ts, ts, price, size, 0, side, dtypes.UPDATE, dtypes.F_LAST))
        if traded:  # after the row that grew the level: it explains part of the drop
            row = (ts + 1, ts + 1, price, traded, 2 if side == 1 else 1)
            self.sim.add_trades(venue, trade_rows([row]))
            self.ref.venues[venue].trades.append(row)
            self.trades[venue].append(row)
        ts = self._ts(venue, 2)
        self._add_level(venue, (ts, ts, price, max(0, size - drop), 0, side, dtypes.UPDATE,
                                dtypes.F_LAST))
        self._advance(ts - self.sim.now)

    @precondition(_has_resting)
    @rule(pick=st.integers(0, 1000), gap=gaps, size=sizes, through=st.integers(-1, 1))
    def trade_at_order_again(self, pick: int, gap: int, size: int, through: int) -> None:
        self.trade_at_order(pick, gap, size, through)

    @precondition(_has_resting)
    @rule(pick=st.integers(0, 1000), gap=gaps, size=sizes, through=st.integers(-1, 1))
    def trade_at_order(self, pick: int, gap: int, size: int, through: int) -> None:
        if (o := self._resting(pick)) is not None:
            ts = self._ts(o["venue"], gap)
            row = (ts, ts, o["price"] + through, size, 2 if o["side"] == 1 else 1)
            self.sim.add_trades(o["venue"], trade_rows([row]))
            self.ref.venues[o["venue"]].trades.append(row)
            self.trades[o["venue"]].append(row)

    @rule(venue=venues, side=sides, pick=st.integers(0, 1000), size=sizes)
    def join_level(self, venue: int, side: int, pick: int, size: int) -> None:
        """A GTC order at a price the venue's book has on its side: it queues behind something."""
        levels = sorted(self.ref.venues[venue].book[side])
        if levels:
            price = levels[pick % len(levels)]
            assert self.sim.submit(venue, side, size, price) == self.ref.submit(
                venue, side, 1, 1, price, size, False)

    @rule(venue=venues, side=sides, size=sizes)
    def take(self, venue: int, side: int, size: int) -> None:
        """A market order when the other side has levels: fills, and so the risk engine's
        equity checks, which random prices alone reach rarely."""
        if self.ref.venues[venue].book[2 if side == 1 else 1]:
            assert self.sim.submit(venue, side, size) == self.ref.submit(venue, side, 2, 1, 0, size, False)

    @rule(venue=venues, side=sides, price=prices, size=sizes,
          kind=st.sampled_from(["gtc", "gtc", "ioc", "fok", "post", "market"]))
    def submit(self, venue: int, side: int, price: int, size: int, kind: str) -> None:
        tif = {"ioc": 2, "fok": 3}.get(kind, 1)
        market = kind == "market"
        got = self.sim.submit(venue, side, size, None if market else price, tif=tif,
                              post_only=kind == "post")
        want = self.ref.submit(venue, side, 2 if market else 1, tif, price, size, kind == "post")
        assert got == want

    @rule(venue=venues, side=sides, trigger=prices, limit=st.one_of(st.none(), prices), size=sizes,
          tif=st.sampled_from([1, 1, 2, 3]))
    def stop(self, venue: int, side: int, trigger: int, limit: int | None, size: int,
             tif: int) -> None:
        got = self.sim.submit(venue, side, size, limit, stop=trigger, tif=tif)
        want = self.ref.submit(venue, side, 3 if limit is None else 4, tif, limit or 0, size, False,
                               trigger)
        assert got == want

    @precondition(_has_stops)
    @rule(pick=st.integers(0, 1000), gap=gaps, size=sizes, off=st.integers(-1, 1),
          aggressor=sides)
    def trade_at_stop(self, pick: int, gap: int, size: int, off: int, aggressor: int) -> None:
        """A trade one tick short of a waiting stop's trigger, at it, or through it."""
        ids = sorted(self.ref.stops)
        o = self.ref.orders[ids[pick % len(ids)]]
        ts = self._ts(o["venue"], gap)
        row = (ts, ts, o["trigger_price"] + (off if o["side"] == 1 else -off), size, aggressor)
        self.sim.add_trades(o["venue"], trade_rows([row]))
        self.ref.venues[o["venue"]].trades.append(row)
        self.trades[o["venue"]].append(row)

    @rule(pick=st.integers(0, 1000))
    def cancel(self, pick: int) -> None:
        if self.ref.orders:
            oid = pick % len(self.ref.orders) + 1
            self.sim.cancel(oid)
            self.ref.cancel(oid)

    @rule(pick=st.integers(0, 1000), price=prices, leaves=sizes)
    def modify(self, pick: int, price: int, leaves: int) -> None:
        limits = [i for i, o in self.ref.orders.items() if o["type"] in (1, 4)]  # limit, stop-limit
        if limits:
            oid = limits[pick % len(limits)]
            self.sim.modify(oid, price, leaves)
            self.ref.modify(oid, price, leaves)

    # Rare: after a kill everything is refused.
    @rule(flatten=st.booleans(), really=st.integers(0, 19))
    def kill(self, flatten: bool, really: int) -> None:
        if really == 0:
            self.sim.kill(flatten)
            self.ref.kill(flatten)

    @rule(gap=st.integers(0, 6))
    def advance(self, gap: int) -> None:
        self._advance(gap)

    @rule(gap=st.integers(0, 6))
    def advance_again(self, gap: int) -> None:
        self._advance(gap)

    def _advance(self, gap: int) -> None:
        until = self.sim.now + gap
        self.sim.advance(until)
        self.ref.advance(until)
        assert self.sim.now == self.ref.now

    @invariant()
    def same_as_reference(self) -> None:
        if not hasattr(self, "sim"):
            return
        res = self.sim.results()
        assert as_dicts(res.orders) == [self.ref.orders[i] for i in sorted(self.ref.orders)]
        assert as_dicts(res.fills) == self.ref.fills
        assert as_dicts(res.responses) == self.ref.responses
        assert as_dicts(res.risk_events) == self.ref.risk.events
        for vi, v in enumerate(self.ref.venues):
            assert self.sim.account(vi) == (v.position, v.cash, v.fees, v.volume)
        for vi in range(VENUES):
            for oid, o in self.ref.orders.items():
                if o["venue"] == vi:
                    assert self.sim.queue_ahead(oid) == self.ref.ahead.get(oid)
                    assert self.sim._core.queue_state(oid) == (
                        None if oid not in self.ref.ahead
                        else (self.ref.ahead[oid], self.ref.ahead_at_arrival[oid]))

    @invariant()
    def fills_after_arrival(self) -> None:
        if not hasattr(self, "sim"):
            return
        for f in as_dicts(self.sim.results().fills):
            assert f["ts_decision_ns"] <= f["ts_arrival_ns"] <= f["ts_fill_ns"]

    def _level_version(self, venue: int, side: int, price: int, ts: int,
                       at_trade: bool) -> tuple[int, int]:
        """(index of the last row that set the level by time ts, its size then): the feed
        rows at ts run before an arrival at ts, but after a trade at ts (which is when a
        stop order triggers and takes)."""
        version, size = -1, 0
        for i, r in enumerate(self.levels[venue]):
            if r[1] > ts or (at_trade and r[1] == ts):
                break
            if r[6] == dtypes.CLEAR:
                version, size = i, 0
            elif r[5] == side and r[2] == price and r[6] in (dtypes.ADD, dtypes.UPDATE, dtypes.DELETE):
                version, size = i, 0 if r[6] == dtypes.DELETE else r[3]
        return version, size

    @invariant()
    def no_filling_twice(self) -> None:
        if not hasattr(self, "sim"):
            return
        used: dict[tuple[int, int, int, int], int] = defaultdict(int)
        for f in as_dicts(self.sim.results().fills):
            if f["liquidity"] != dtypes.SIM_TAKER:
                continue
            book_side = 2 if f["side"] == 1 else 1
            stop = self.ref.orders[f["order_id"]]["type"] in (3, 4)
            version, size = self._level_version(f["venue"], book_side, f["price"], f["ts_fill_ns"],
                                                stop)
            key = (f["venue"], book_side, f["price"], version)
            used[key] += f["size"]
            assert used[key] <= size, (f, size)

    @invariant()
    def maker_fills_only_at_or_through_trades(self) -> None:
        if not hasattr(self, "sim"):
            return
        for f in as_dicts(self.sim.results().fills):
            if f["liquidity"] != dtypes.SIM_MAKER:
                continue
            buy = f["side"] == 1
            assert any(t[1] == f["ts_fill_ns"] and t[4] == (2 if buy else 1)
                       and (t[2] <= f["price"] if buy else t[2] >= f["price"])
                       for t in self.trades[f["venue"]]), f

    @invariant()
    def pnl_identity(self) -> None:
        if not hasattr(self, "sim"):
            return
        fills = as_dicts(self.sim.results().fills)
        for vi in range(VENUES):
            for mark in (0, 97, 100, 103):
                want = sum((mark - f["price"]) * f["size"] * (1 if f["side"] == 1 else -1) - f["fee"]
                           for f in fills if f["venue"] == vi)
                assert self.sim.pnl(vi, mark) == want == self.ref.pnl(vi, mark)


SimMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSimMachine = SimMachine.TestCase
