"""Enumerations and records of the simulator (numbers shared with cpp/include/crossbook/sim/types.hpp)."""

from __future__ import annotations

import enum
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "Account", "BookRow", "EventKind", "Liquidity", "OrderStatus", "Reason", "Response", "ResponseKind",
    "SimResults", "TimeInForce", "TradeRow",
]  # fmt: skip


class OrderStatus(enum.IntEnum):
    PENDING = 1  # sent, not yet at the venue
    OPEN = 2  # resting (possibly partly filled)
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


class ResponseKind(enum.IntEnum):
    ACCEPTED = 1
    FILL = 2
    CANCELLED = 3
    REJECTED = 4
    MODIFIED = 5
    CANCEL_REJECTED = 6
    MODIFY_REJECTED = 7


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
    """A run's results: SIM_ORDER, SIM_FILL, SIM_RESPONSE rows and one SIM_ACCOUNT row per venue."""

    orders: npt.NDArray[np.void]
    fills: npt.NDArray[np.void]
    responses: npt.NDArray[np.void]
    accounts: npt.NDArray[np.void]
