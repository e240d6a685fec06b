"""The simulator's risk engine (crossbook.sim.risk): each limit at its edge (one unit under,
at, one unit over), the circuit breaker's exact trip and reset, the kill switch, the risk
events row for row, and the volatility sizer."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from crossbook import dtypes
from crossbook.sim import (
    BookRow,
    ConstantLatency,
    OrderStatus,
    PortfolioRisk,
    Reason,
    Response,
    ResponseKind,
    RiskEventKind,
    Simulator,
    Strategy,
    TimeInForce,
    VenueConfig,
    VenueRisk,
    VolatilitySizer,
)
from tests.sim._util import as_dicts, level_rows

BID, ASK = 1, 2
NO_VENUE = 2**32 - 1


def _book(sim: Simulator, venue: int, ts: int, bid: int, ask: int, size: int = 100) -> None:
    sim.add_levels(venue, level_rows([(ts, ts, 0, 0, 0, 0, dtypes.CLEAR, 0),
                                      (ts, ts, bid, size, 0, BID, dtypes.UPDATE, 0),
                                      (ts, ts, ask, size, 0, ASK, dtypes.UPDATE, dtypes.F_LAST)]))


def _sim(*risks: VenueRisk, portfolio: PortfolioRisk | None = None, entry_ns: int = 0,
         response_ns: int = 0, asset: str = "") -> Simulator:
    sim = Simulator([VenueConfig(latency=ConstantLatency(entry_ns, response_ns), risk=r, asset=asset)
                     for r in risks or (VenueRisk(),)], portfolio)
    for v in range(len(sim.venues)):
        _book(sim, v, 1, 99, 101)
    sim.advance(1)
    return sim


def _event(ts: int, kind: RiskEventKind, reason: Reason, value: int = 0, limit: int = 0,
           venue: int = NO_VENUE, order_id: int = 0) -> dict[str, int]:
    return dict(ts_ns=ts, order_id=order_id, value_lo=value % 2**64, value_hi=value >> 64,
                limit_lo=limit % 2**64, limit_hi=limit >> 64, venue=venue, kind=kind, reason=reason)


def _refused(sim: Simulator, oid: int) -> Reason | None:
    """The order's risk refusal, after checking its answer came back at once; None if sent."""
    order = sim.results().orders[oid - 1]
    if order["status"] != OrderStatus.REJECTED:
        return None
    answer = [r for r in as_dicts(sim.results().responses) if r["order_id"] == oid][-1]
    assert answer["kind"] == ResponseKind.REJECTED
    assert answer["ts_venue_ns"] == answer["ts_delivery_ns"] == order["ts_decision_ns"] == sim.now
    assert order["ts_arrival_ns"] == 0 and answer["reason"] == order["reason"]
    return Reason(int(order["reason"]))


EDGES = [(-1, None), (0, None), (1, "refused")]  # how far over the limit, and the outcome


@pytest.mark.parametrize(("over", "outcome"), EDGES)
def test_max_order_size(over: int, outcome: str | None) -> None:
    sim = _sim(VenueRisk(max_order_size=5))
    oid = sim.submit(0, BID, 5 + over, 90)
    assert _refused(sim, oid) == (Reason.RISK_ORDER_SIZE if outcome else None)
    if outcome:
        assert as_dicts(sim.results().risk_events) == [
            _event(1, RiskEventKind.ORDER_REFUSED, Reason.RISK_ORDER_SIZE, 6, 5, 0, oid)]


@pytest.mark.parametrize(("over", "outcome"), EDGES)
def test_max_order_notional_of_a_limit_and_a_market_order(over: int, outcome: str | None) -> None:
    sim = _sim(VenueRisk(max_order_notional=450 - over))
    assert _refused(sim, sim.submit(0, BID, 5, 90)) == (Reason.RISK_ORDER_NOTIONAL if outcome else None)
    # A market buy of 5 is valued at the deepest ask its walk reaches: 101 * 5 = 505.
    sim = _sim(VenueRisk(max_order_notional=505 - over))
    assert _refused(sim, sim.submit(0, BID, 5)) == (Reason.RISK_ORDER_NOTIONAL if outcome else None)


def test_a_market_order_with_no_price_to_value_it_is_refused() -> None:
    sim = Simulator([VenueConfig(risk=VenueRisk(max_order_notional=10**9))])
    oid = sim.submit(0, BID, 1)
    assert _refused(sim, oid) == Reason.RISK_ORDER_NOTIONAL
    assert as_dicts(sim.results().risk_events)[0]["value_hi"] == -1  # value -1: no price


def _long_3_and_bid_4(sim: Simulator, venue: int = 0) -> None:
    sim.submit(venue, BID, 3, 101, tif=TimeInForce.IOC)
    sim.submit(venue, BID, 4, 90)
    sim.advance(2)
    assert sim.account(venue).position == 3


@pytest.mark.parametrize(("over", "outcome"), EDGES)
def test_max_position_counts_the_position_every_open_order_of_the_side_and_the_order(
        over: int, outcome: str | None) -> None:
    sim = _sim(VenueRisk(max_position=10), entry_ns=1)
    _long_3_and_bid_4(sim)
    oid = sim.submit(0, BID, 3 + over, 90)  # worst long: 3 + 4 + size
    assert _refused(sim, oid) == (Reason.RISK_POSITION if outcome else None)
    if outcome:
        assert as_dicts(sim.results().risk_events) == [
            _event(2, RiskEventKind.ORDER_REFUSED, Reason.RISK_POSITION, 11, 10, 0, oid)]
    # The other side's worst case starts from the long 3: a sell of 13 ends at short 10.
    assert _refused(sim, sim.submit(0, ASK, 13, 110)) is None


def test_a_modify_in_flight_counts_until_it_lands() -> None:
    sim = _sim(VenueRisk(max_position=10), entry_ns=5)
    oid = sim.submit(0, BID, 4, 90)
    sim.advance(6)
    sim.modify(oid, 91, 6)  # worst: 4 now, plus 6 once it lands, whatever fills before
    assert _refused(sim, sim.submit(0, BID, 1, 90)) == Reason.RISK_POSITION
    sim.advance(11)  # landed: the order's open size is 6
    assert _refused(sim, sim.submit(0, BID, 4, 90)) is None
    sim.modify(oid, 91, 1)
    responses = as_dicts(sim.results().responses)
    assert (responses[-1]["kind"], responses[-1]["reason"], responses[-1]["ts_delivery_ns"]) == (
        ResponseKind.MODIFY_REJECTED, Reason.RISK_POSITION, 11)


@pytest.mark.parametrize(("over", "outcome"), EDGES)
def test_max_net_position_sums_the_venues_of_the_asset(over: int, outcome: str | None) -> None:
    sim = _sim(VenueRisk(), VenueRisk(), portfolio=PortfolioRisk(max_net_position={"BTC": 10}),
               entry_ns=1, asset="BTC")
    sim.submit(0, BID, 3, 101, tif=TimeInForce.IOC)
    sim.submit(1, BID, 4, 90)
    sim.advance(2)
    oid = sim.submit(1, BID, 3 + over, 90)
    assert _refused(sim, oid) == (Reason.RISK_NET_POSITION if outcome else None)


@pytest.mark.parametrize(("over", "outcome"), EDGES)
def test_max_open_orders_counts_open_and_in_flight(over: int, outcome: str | None) -> None:
    sim = _sim(VenueRisk(max_open_orders=3 - over), entry_ns=5)
    sim.submit(0, BID, 1, 90)
    sim.advance(6)
    sim.submit(0, BID, 1, 90)  # in flight
    assert _refused(sim, sim.submit(0, BID, 1, 90)) == (Reason.RISK_OPEN_ORDERS if outcome else None)


@pytest.mark.parametrize(("over", "outcome"), EDGES)
def test_max_orders_per_window_counts_submits_and_modifies(over: int, outcome: str | None) -> None:
    sim = _sim(VenueRisk(max_orders_per_window=3 - over, window_ns=100))
    oid = sim.submit(0, BID, 1, 90)
    sim.advance(2)
    sim.modify(oid, 91, 1)
    assert _refused(sim, sim.submit(0, BID, 1, 90)) == (Reason.RISK_RATE if outcome else None)


def test_the_rate_window_slides_at_the_exact_nanosecond() -> None:
    sim = _sim(VenueRisk(max_orders_per_window=1, window_ns=100))
    sim.submit(0, BID, 1, 90)  # at 1: counts in (now - 100, now] until now = 101
    sim.advance(100)
    assert _refused(sim, sim.submit(0, BID, 1, 90)) == Reason.RISK_RATE
    sim.advance(101)
    assert _refused(sim, sim.submit(0, BID, 1, 90)) is None


def test_the_first_failing_check_is_the_reason() -> None:
    sim = _sim(VenueRisk(max_order_size=1, max_position=0, max_open_orders=0))
    assert _refused(sim, sim.submit(0, BID, 2, 90)) == Reason.RISK_ORDER_SIZE
    assert _refused(sim, sim.submit(0, BID, 1, 90)) == Reason.RISK_POSITION


@pytest.mark.parametrize("max_loss", [9, 10])
def test_the_breaker_trips_on_a_loss_and_resets_at_the_exact_time(max_loss: int) -> None:
    sim = _sim(portfolio=PortfolioRisk(max_loss=max_loss, pause_ns=100))
    sim.submit(0, BID, 10, 101, tif=TimeInForce.IOC)
    sim.advance(2)  # paid 1010 at 1 for 10 at mid 100: equity -10
    if max_loss == 10:
        _book(sim, 0, 50, 97, 101)  # mid 99: equity -20
        sim.advance(50)
    trip = 1 if max_loss == 9 else 50
    loss = 10 if max_loss == 9 else 20
    sim.advance(trip + 99)
    assert _refused(sim, sim.submit(0, BID, 1, 90)) == Reason.CIRCUIT_BREAKER
    sim.advance(trip + 100)
    assert _refused(sim, sim.submit(0, BID, 1, 90)) is None
    assert as_dicts(sim.results().risk_events) == [
        _event(trip, RiskEventKind.BREAKER_TRIPPED, Reason.RISK_LOSS, loss, max_loss),
        _event(trip + 99, RiskEventKind.ORDER_REFUSED, Reason.CIRCUIT_BREAKER, trip + 100, 0, 0, 2),
        _event(trip + 100, RiskEventKind.BREAKER_RESET, Reason.CIRCUIT_BREAKER),
    ]


@pytest.mark.parametrize("max_drawdown", [39, 40])
def test_drawdown_from_the_peak_kills_and_flattens(max_drawdown: int) -> None:
    sim = _sim(portfolio=PortfolioRisk(max_drawdown=max_drawdown, on_breach="kill", flatten_on_kill=True))
    sim.submit(0, BID, 10, 101, tif=TimeInForce.IOC)
    sim.advance(2)
    _book(sim, 0, 3, 103, 105)  # mid 104: equity 30, the peak
    _book(sim, 0, 4, 99, 101)  # mid 100: equity -10, drawdown 40
    sim.advance(4)
    events = as_dicts(sim.results().risk_events)
    if max_drawdown == 40:
        assert events == [] and sim.account(0).position == 10
        return
    assert events == [_event(4, RiskEventKind.KILL, Reason.RISK_DRAWDOWN, 40, 39)]
    assert sim.account(0).position == 0  # the flatten order sold 10 at the bid 99
    flatten = sim.results().orders[-1]
    assert (flatten["side"], flatten["size"], flatten["status"]) == (ASK, 10, OrderStatus.FILLED)
    assert _refused(sim, sim.submit(0, BID, 1, 90)) == Reason.KILL_SWITCH


class KillOnThirdBook(Strategy):
    """Rests orders, then pulls the kill switch on the third book event and keeps trying."""

    def __init__(self, flatten: bool) -> None:
        self.flatten = flatten
        self.books = 0
        self.heard: list[tuple[str, int, object]] = []
        self.killed_at: int | None = None

    def on_book(self, sim: Simulator, venue: int, row: BookRow) -> None:
        self.heard.append(("book", sim.now, row))
        self.books += 1
        if self.books == 1:
            sim.submit(0, BID, 5, 101, tif=TimeInForce.IOC)  # long 5
            sim.submit(0, BID, 2, 95)
            sim.submit(0, ASK, 2, 105)
        elif self.books == 3:
            sim.submit(0, BID, 1, 96)  # in flight at the kill
            sim.kill(flatten=self.flatten)
            self.killed_at = sim.now
            sim.submit(0, BID, 1, 96)  # refused at once, and not heard

    def on_order(self, sim: Simulator, response: Response) -> None:
        self.heard.append(("order", sim.now, response))
        if self.killed_at is not None:
            sim.submit(0, BID, 1, 96)

    def on_fill(self, sim: Simulator, fill: Response) -> None:
        self.heard.append(("fill", sim.now, fill))

    def on_timer(self, sim: Simulator, timer_id: int) -> None:
        self.heard.append(("timer", sim.now, timer_id))


@pytest.mark.parametrize("flatten", [False, True])
def test_a_kill_from_a_callback_cancels_everything_refuses_everything_and_silences_the_feed(
        flatten: bool) -> None:
    sim = Simulator([VenueConfig(latency=ConstantLatency(10, 5))])
    for ts in (1, 100, 200, 300, 400):
        _book(sim, 0, ts, 99, 101)
    strat = KillOnThirdBook(flatten)
    res = sim.run(strat)
    killed_at = strat.killed_at
    assert killed_at == 200
    after = [(k, r) for k, t, r in strat.heard if t >= killed_at and k != "book" or t > killed_at]
    # The kill's next events are its cancels' answers (and the flatten's): no book, no refusal.
    assert after and all(k in ("order", "fill") for k, _ in after)
    cancels = [r for k, r in after if isinstance(r, Response) and r.kind == ResponseKind.CANCELLED]
    assert sorted(r.order_id for r in cancels) == [2, 3, 4]
    assert all(r.reason == Reason.KILL_SWITCH and r.ts_venue_ns == killed_at + 10 for r in cancels)
    assert not any(o["status"] in (OrderStatus.OPEN, OrderStatus.PENDING) for o in res.orders)
    refused = [o for o in as_dicts(res.orders) if o["reason"] == Reason.KILL_SWITCH
               and o["status"] == OrderStatus.REJECTED]
    assert len(refused) == 1 + len([k for k, _ in after if k == "order"])  # one per later try
    assert sim.account(0).position == (0 if flatten else 5)
    kill_row = as_dicts(res.risk_events)[0]
    assert kill_row == _event(killed_at, RiskEventKind.KILL, Reason.KILL_SWITCH)


class Recorder(Strategy):
    """Hears everything."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, int, object]] = []

    def on_book(self, sim: Simulator, venue: int, row: BookRow) -> None:
        self.heard.append(("book", sim.now, row))

    def on_trade(self, sim: Simulator, venue: int, trade: object) -> None:
        self.heard.append(("trade", sim.now, trade))

    def on_order(self, sim: Simulator, response: Response) -> None:
        self.heard.append(("order", sim.now, response))

    def on_fill(self, sim: Simulator, fill: Response) -> None:
        self.heard.append(("fill", sim.now, fill))

    def on_timer(self, sim: Simulator, timer_id: int) -> None:
        self.heard.append(("timer", sim.now, timer_id))


def test_a_user_kill_between_advances_takes_effect_on_the_very_next_event() -> None:
    sim = Simulator([VenueConfig(latency=ConstantLatency(3, 2))])
    _book(sim, 0, 1, 99, 101)
    sim.advance(1)
    sim.submit(0, BID, 2, 101, tif=TimeInForce.IOC)
    resting = sim.submit(0, ASK, 2, 110)
    sim.set_timer(12)
    sim.advance(10)
    _book(sim, 0, 11, 98, 101)
    sim.kill(flatten=True)
    strat = Recorder()
    sim.advance(100, strat)
    # Not the book at 11 nor the timer at 12: the cancel's answer (10 + 3 + 2) and the flatten's.
    kinds = [(k, t) for k, t, _ in strat.heard]
    assert kinds == [("order", 15), ("order", 15), ("fill", 15)]
    cancel = strat.heard[0][2]
    assert isinstance(cancel, Response) and (cancel.order_id, cancel.reason) == (resting, Reason.KILL_SWITCH)
    assert sim.account(0).position == 0
    orders = as_dicts(sim.results().orders)
    assert (orders[-1]["side"], orders[-1]["size"], orders[-1]["ts_decision_ns"]) == (ASK, 2, 10)


def test_risk_events_carry_the_cores_dtype_and_128_bit_values() -> None:
    sim = _sim(VenueRisk(max_order_notional=2**70))
    oid = sim.submit(0, BID, 2**62, 2**10)
    events = sim.results().risk_events
    assert events.dtype == dtypes.SIM_RISK_EVENT
    assert as_dicts(events) == [_event(1, RiskEventKind.ORDER_REFUSED, Reason.RISK_ORDER_NOTIONAL,
                                       2**72, 2**70, 0, oid)]


def test_configuration_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="price_exp \\+ size_exp"):
        Simulator([VenueConfig(price_exp=2), VenueConfig()], PortfolioRisk(max_loss=1))
    with pytest.raises(ValueError, match="share size_exp"):
        Simulator([VenueConfig(size_exp=2, asset="BTC"), VenueConfig(asset="BTC")],
                  PortfolioRisk(max_net_position={"BTC": 1}))
    with pytest.raises(ValueError, match="no venue has"):
        Simulator([VenueConfig(asset="ETH")], PortfolioRisk(max_net_position={"BTC": 1}))
    with pytest.raises(ValueError, match="window_ns"):
        VenueRisk(window_ns=0)
    with pytest.raises(TypeError, match="max_position"):
        VenueRisk(max_position=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="on_breach"):
        PortfolioRisk(on_breach="panic")  # type: ignore[arg-type]


def test_volatility_sizer_scales_the_size_down_as_realized_volatility_rises() -> None:
    sizer = VolatilitySizer(base_size=1_000, target_vol=0.01, window=2)
    assert sizer.size() == 1_000  # no return yet
    sizer.update(10_000)
    sizer.update(10_050)  # a 0.5% move: under the target
    assert sizer.size() == 1_000
    sizer.update(10_452)  # ~4%: rms of the last two returns ~2.8%
    realized = math.sqrt((math.log(10_050 / 10_000) ** 2 + math.log(10_452 / 10_050) ** 2) / 2)
    assert sizer.realized_vol == pytest.approx(realized)
    assert sizer.size() == math.floor(Fraction(0.01) / Fraction(sizer.realized_vol or 1) * 1_000) == 357
    sizer.update(10_452)  # the window keeps 2 returns: the 0.5% move is gone
    assert sizer.realized_vol == pytest.approx(math.log(10_452 / 10_050) / math.sqrt(2))
    sim = _sim()
    sizer.update_from(sim, 0)  # mid 100
    assert sizer._last_mid == 100
    with pytest.raises(ValueError, match="positive"):
        sizer.update(0)
