"""nautilus_trader's BacktestEngine on compare_sim_peers.py's data and strategy.

Three venues (SPOT, USDM, COINM), one BTCUSDT CurrencyPair each at the common units
(prices at 2 decimals, sizes at 8), L2_MBP books fed one OrderBookDeltas per venue message
(UPDATE or DELETE per level row, CLEAR for a rebuilt book, F_LAST on the last) and trade
ticks; 2 ms latency on every order (nautilus has no separate response latency). The
strategy reads each venue's book top on every delta batch and applies the cross-arb rule
of crossbook.sim.builtin (counting no fees), IOC limit orders on both legs.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from benchmarks.bench_sim import PARAMS
from benchmarks.sim_workload import SimWorkload
from crossbook import dtypes

VENUES = ("SPOT", "USDM", "COINM")


def nautilus_rows(w: SimWorkload, repeats: int, entry_ns: int,
                  timed: Callable[..., tuple[float, float, Any]]) -> list[Any]:
    """compare_sim_peers.py's rows for nautilus_trader; ``timed`` is its timer."""
    try:
        import nautilus_trader
    except ImportError:
        nan = float("nan")
        return [("nautilus_trader", "not installed (pip install nautilus_trader)", nan, nan, "")]
    data, instruments = _data(w)
    engines: list[Any] = []

    def setup() -> Any:
        engines.append(_engine(instruments, data, entry_ns))
        return engines[-1][0]

    wall, cpu, _ = timed(setup, lambda engine: engine.run(), repeats)
    strategy = engines[-1][1]
    for engine, _ in engines:
        engine.dispose()
    return [(f"nautilus_trader {nautilus_trader.__version__}",
             "BacktestEngine, Python Strategy on deltas", wall, cpu,
             f"{strategy.touches} touches, {strategy.orders} orders")]


def _data(w: SimWorkload) -> tuple[list[Any], list[Any]]:
    from nautilus_trader.model.currencies import BTC, USDT
    from nautilus_trader.model.data import BookOrder, OrderBookDelta, OrderBookDeltas, TradeTick
    from nautilus_trader.model.enums import AggressorSide, BookAction, OrderSide, RecordFlag
    from nautilus_trader.model.identifiers import InstrumentId, Symbol, TradeId, Venue
    from nautilus_trader.model.instruments import CurrencyPair
    from nautilus_trader.model.objects import Price, Quantity

    pe, se = w.units.price_exp, w.units.size_exp
    instruments, data = [], []
    for name, v in zip(VENUES, w.venues):
        iid = InstrumentId(Symbol("BTCUSDT"), Venue(name))
        instruments.append(CurrencyPair(
            instrument_id=iid, raw_symbol=Symbol("BTCUSDT"), base_currency=BTC, quote_currency=USDT,
            price_precision=2, size_precision=8, price_increment=Price(0.01, 2),
            size_increment=Quantity(1e-8, 8), lot_size=None, max_quantity=None, min_quantity=None,
            max_notional=None, min_notional=None, max_price=None, min_price=None,
            margin_init=Decimal(0), margin_maint=Decimal(0), maker_fee=Decimal("0.0001"),
            taker_fee=Decimal("0.0004"), ts_event=0, ts_init=0))
        side = {1: OrderSide.BUY, 2: OrderSide.SELL}
        batch: list[Any] = []
        for _, ts, price, size, _, s, action, flags in v.levels.tolist():
            last = RecordFlag.F_LAST if flags & dtypes.F_LAST else 0
            if action == dtypes.CLEAR:
                batch.append(OrderBookDelta.clear(iid, 0, ts, ts))
            elif action in (dtypes.ADD, dtypes.UPDATE, dtypes.DELETE):
                gone = action == dtypes.DELETE or size == 0
                order = BookOrder(side[s], Price(price / 10**pe, 2), Quantity(size / 10**se, 8), 0)
                batch.append(OrderBookDelta(iid, BookAction.DELETE if gone else BookAction.UPDATE,
                                            order, last, 0, ts, ts))
            if last and batch:  # one OrderBookDeltas per venue message, as nautilus batches them
                data.append(OrderBookDeltas(iid, batch))
                batch = []
        for i, (_, ts, price, size, s, _) in enumerate(v.trades.tolist()):
            data.append(TradeTick(iid, Price(price / 10**pe, 2), Quantity(size / 10**se, 8),
                                  AggressorSide.BUYER if s == 1 else AggressorSide.SELLER,
                                  TradeId(str(i + 1)), ts, ts))
    return data, instruments


def _engine(instruments: list[Any], data: list[Any], entry_ns: int) -> tuple[Any, Any]:
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.backtest.models import LatencyModel
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import BTC, USDT
    from nautilus_trader.model.enums import AccountType, BookType, OmsType
    from nautilus_trader.model.identifiers import TraderId
    from nautilus_trader.model.objects import Money

    engine = BacktestEngine(BacktestEngineConfig(trader_id=TraderId("BENCH-001"),
                                                 logging=LoggingConfig(bypass_logging=True)))
    for inst in instruments:
        engine.add_venue(venue=inst.id.venue, oms_type=OmsType.NETTING, account_type=AccountType.CASH,
                         starting_balances=[Money(10_000_000, USDT), Money(1_000, BTC)],
                         latency_model=LatencyModel(base_latency_nanos=entry_ns),
                         book_type=BookType.L2_MBP)
        engine.add_instrument(inst)
    engine.add_data(data)
    strategy = _strategy([inst.id for inst in instruments])
    engine.add_strategy(strategy)
    return engine, strategy


def _strategy(ids: list[Any]) -> Any:
    from nautilus_trader.model.enums import BookType, OrderSide, TimeInForce
    from nautilus_trader.model.objects import Quantity
    from nautilus_trader.trading.strategy import Strategy

    max_qty = PARAMS.max_size / 10**8

    class CrossArb(Strategy):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.ids = ids
            self.index = {iid: i for i, iid in enumerate(ids)}
            self.top: list[tuple[Any, Any, Any, Any] | None] = [None] * len(ids)
            self.next_ok = [-(2**62)] * (len(ids) ** 2)
            self.touches = self.orders = 0

        def on_start(self) -> None:
            for iid in self.ids:
                self.subscribe_order_book_deltas(iid, BookType.L2_MBP)

        def on_order_book_deltas(self, deltas: Any) -> None:
            v = self.index[deltas.instrument_id]
            book = self.cache.order_book(deltas.instrument_id)
            top = (book.best_bid_price(), book.best_bid_size(), book.best_ask_price(),
                   book.best_ask_size())
            if top == self.top[v]:
                return
            self.top[v] = top
            self.touches += 1
            now, n = self.clock.timestamp_ns(), len(self.ids)
            for a, buy in enumerate(self.top):
                if buy is None or buy[2] is None:
                    continue
                for b, sell in enumerate(self.top):
                    if b == a or sell is None or sell[0] is None or buy[2] >= sell[0]:
                        continue
                    if now < self.next_ok[a * n + b]:
                        continue
                    qty = Quantity(min(float(buy[3]), float(sell[1]), max_qty), 8)
                    for i, side, px in ((a, OrderSide.BUY, buy[2]), (b, OrderSide.SELL, sell[0])):
                        self.submit_order(self.order_factory.limit(
                            self.ids[i], side, qty, px, time_in_force=TimeInForce.IOC))
                    self.orders += 2
                    self.next_ok[a * n + b] = now + PARAMS.cooldown_ns
                    return

    return CrossArb()
