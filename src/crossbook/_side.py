from __future__ import annotations

import enum


class Side(enum.IntEnum):
    """Side of a book. The values match the core's and nautilus_trader's OrderSide."""

    BID = 1
    ASK = 2

    @property
    def opposite(self) -> Side:
        return Side.ASK if self is Side.BID else Side.BID
