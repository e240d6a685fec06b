"""Enums of the order-level core, numbered as in cpp/include/crossbook/order_types.hpp.

They are IntEnums, so they go straight into the core's methods and numpy
arrays, and a number read back from an array names itself:
``RejectReason(rejects["reason"][0]).name``. tests/unit/test_contract.py checks
every value against the compiled core.
"""

from __future__ import annotations

import enum

__all__ = ["OrderAction", "OrderType", "RejectReason", "StpMode", "TimeInForce"]


class OrderAction(enum.IntEnum):
    """What an ORDER_EVENT does to an OrderBook (the first four match the L2 actions)."""

    ADD = 1
    MODIFY = 2  # new price and open size; keeps its place only if the price holds and size does not grow
    CANCEL = 3  # size = amount cancelled, 0 = all
    CLEAR = 4  # side 0 = both sides
    EXECUTE = 5  # the venue filled size of the resting order


class OrderType(enum.IntEnum):
    LIMIT = 1
    MARKET = 2  # never rests; trades only inside the price band
    CANCEL = 3
    MODIFY = 4


class TimeInForce(enum.IntEnum):
    GTC = 1  # the remainder rests
    IOC = 2  # the remainder expires
    FOK = 3  # the whole size trades at once, or nothing happens


class StpMode(enum.IntEnum):
    """Self-trade prevention: what happens when an order meets one of its owner's own."""

    DEFAULT = 0  # in a request: the engine's configured mode
    NONE = 1  # they trade
    CANCEL_NEWEST = 2  # the incoming order's remainder is cancelled
    CANCEL_OLDEST = 3  # the resting order is cancelled; the incoming one matches on
    CANCEL_BOTH = 4
    DECREMENT = 5  # both shrink by the smaller size without a trade


class RejectReason(enum.IntEnum):
    """Why a request was refused, or why size left the book without trading."""

    INVALID_TYPE = 1
    INVALID_SIDE = 2
    INVALID_TIF = 3
    INVALID_STP = 4
    INVALID_FLAGS = 5  # post-only on anything but a limit GTC (or a modify)
    INVALID_PRICE = 6  # negative limit price
    INVALID_SIZE = 7  # size <= 0 (< 0 on a cancel), or a level total past int64
    DUPLICATE_ORDER_ID = 8
    UNKNOWN_ORDER = 9
    OWNER_MISMATCH = 10
    MAX_ORDER_SIZE = 11
    MAX_NOTIONAL = 12
    PRICE_BAND = 13  # limit outside the band, or a market order stopped at its edge
    HALTED = 14
    KILL_SWITCH = 15  # owner is killed; also each resting order the kill removed
    POST_ONLY_WOULD_TAKE = 16
    FOK_NOT_FILLABLE = 17
    SELF_TRADE = 18  # size removed by self-trade prevention
    EXPIRED = 19  # IOC or market remainder with nothing more to match
