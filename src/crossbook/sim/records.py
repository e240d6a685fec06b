"""Enumerations and records of the simulator (numbers shared with cpp/include/crossbook/sim/types.hpp)."""

from __future__ import annotations

import enum
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from crossbook import dtypes

__all__ = [
    "Account", "BookRow", "EventKind", "Liquidity", "OrderStatus", "OrderType", "Reason", "Response",
    "ResponseKind", "RiskEventKind", "SimResults", "TimeInForce", "TradeRow",
]  # fmt: skip


class OrderType(enum.IntEnum):
    LIMIT = 1
    MARKET = 2
    STOP = 3  # stop-market: a market order once a trade reaches the trigger price
    STOP_LIMIT = 4  # a limit order once a trade reaches the trigger price


_BID = 1


class OrderStatus(enum.IntEnum):
    PENDING = 1  # sent, not yet at the venue
    OPEN = 2  # resting (possibly partly filled), or a stop waiting for its trigger
    FILLED = 3
    CANCELLED = 4  # by the strategy, or the unfilled rest of an IOC/market order
    REJECTED = 5


class Reason(enum.IntEnum):
    NONE = 0
    NOT_SYNCED = 1
    POST_ONLY_WOULD_CROSS = 2
    FOK_NOT_FILLABLE = 3
    UNKNOWN_ORDER = 4  # cancel/modify of an order not open at the venue
    IMMEDIATE_REMAINDER = 5  # what an IOC or market order could not fill at once
    MODIFY_WOULD_CROSS = 6
    USER_CANCEL = 7
    STOP_WAITING = 8  # modify of a stop order that has not triggered
    # The risk engine's (crossbook.sim.risk), decided at the desk with no venue round trip.
    RISK_ORDER_SIZE = 16
    RISK_ORDER_NOTIONAL = 17
    RISK_POSITION = 18
    RISK_NET_POSITION = 19
    RISK_OPEN_ORDERS = 20
    RISK_RATE = 21
    CIRCUIT_BREAKER = 22
    KILL_SWITCH = 23  # also the reason of the kill's own cancels
    RISK_LOSS = 24  # of a breaker trip or kill: loss over max_loss
    RISK_DRAWDOWN = 25  # of a breaker trip or kill: drawdown over max_drawdown


class ResponseKind(enum.IntEnum):
    ACCEPTED = 1
    FILL = 2
    CANCELLED = 3
    REJECTED = 4
    MODIFIED = 5
    CANCEL_REJECTED = 6
    MODIFY_REJECTED = 7
    TRIGGERED = 8  # a stop order's trigger was reached; its market or limit order follows


class RiskEventKind(enum.IntEnum):
    """The ``kind`` of a SIM_RISK_EVENT row."""

    ORDER_REFUSED = 1
    BREAKER_TRIPPED = 2
    BREAKER_RESET = 3
    KILL = 4


class Liquidity(enum.IntEnum):
    MAKER = 1
    TAKER = 2


class TimeInForce(enum.IntEnum):
    GTC = 1
    IOC = 2
    FOK = 3


class EventKind(enum.IntEnum):
    BOOK = 1
    TRADE = 2
    ORDER = 3
    FILL = 4
    TIMER = 5
    TOUCH = 6


class BookRow(NamedTuple):
    """A LEVEL_EVENT row as a strategy sees it (action may be SIM_SYNCED/SIM_UNSYNCED)."""

    ts_exchange_ns: int
    ts_recv_ns: int
    price: int
    size: int
    level_count: int  # LEVEL_EVENT.count (orders at the level; 0 when not given)
    side: int
    action: int
    flags: int


class TradeRow(NamedTuple):
    ts_exchange_ns: int
    ts_recv_ns: int
    price: int
    size: int
    side: int  # the aggressor's


class Response(NamedTuple):
    """An answer from a venue (a SIM_RESPONSE row). For a fill, price/size/fee are the
    fill's; otherwise price/size are the order's after the event."""

    ts_venue_ns: int
    ts_delivery_ns: int
    order_id: int
    price: int
    size: int
    leaves: int
    fee: int
    venue: int
    kind: int
    status: int
    reason: int
    liquidity: int


class Account(NamedTuple):
    """One venue's account as Python ints: pnl at mark = cash + position * mark - fees."""

    position: int
    cash: int
    fees: int
    volume: int


class SimResults(NamedTuple):
    """A run's results: SIM_ORDER, SIM_FILL, SIM_RESPONSE rows, one SIM_ACCOUNT row per
    venue, and the risk engine's SIM_RISK_EVENT rows; :meth:`position_changes` derives the
    SIM_POSITION rows from the fills."""

    orders: npt.NDArray[np.void]
    fills: npt.NDArray[np.void]
    responses: npt.NDArray[np.void]
    accounts: npt.NDArray[np.void]
    risk_events: npt.NDArray[np.void]

    def position_changes(self) -> npt.NDArray[np.void]:
        """Every position change, as SIM_POSITION rows in fill order: one per fill, with the
        venue's position after it (a run starts flat)."""
        fills = self.fills
        out = np.zeros(len(fills), dtype=dtypes.SIM_POSITION)
        if not len(fills):
            return out
        change = np.where(fills["side"] == _BID, fills["size"], -fills["size"]).astype(np.int64)
        out["ts_ns"] = fills["ts_fill_ns"]
        out["fill"] = np.arange(len(fills))
        out["change"] = change
        out["venue"] = fills["venue"]
        for v in np.unique(fills["venue"]):
            mine = fills["venue"] == v
            # Exact: each venue's position is an int64 in the core, so no partial sum overflows.
            out["position"][mine] = np.cumsum(change[mine])
        return out
