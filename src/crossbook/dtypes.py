"""numpy dtypes: the data contract between the C++ core and Python.

Defined once, here. The compiled core registers the same layouts and refuses an
array whose dtype differs, so a mismatch is a TypeError, never garbage.
Prices and sizes are int64 mantissas (real value = mantissa * 10**-exp);
timestamps are int64 nanoseconds since the epoch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LEVEL_EVENT", "DEPTH", "BBO", "ADD", "UPDATE", "DELETE", "CLEAR", "F_LAST", "F_SNAPSHOT"]

#: One change to a price level (L2). ``count`` is the number of orders at the
#: level, 0 when the venue does not say.
LEVEL_EVENT = np.dtype(
    [
        ("ts_exchange_ns", "<i8"),
        ("ts_recv_ns", "<i8"),
        ("price", "<i8"),
        ("size", "<i8"),
        ("count", "<i4"),
        ("side", "u1"),
        ("action", "u1"),
        ("flags", "<u2"),
    ],
    align=True,
)

#: One row of a depth read, best first.
DEPTH = np.dtype([("price", "<i8"), ("size", "<i8"), ("count", "<i4")], align=True)

#: Best bid and ask after an event; a side with no level has size 0.
BBO = np.dtype(
    [("bid_price", "<i8"), ("bid_size", "<i8"), ("ask_price", "<i8"), ("ask_size", "<i8")],
    align=True,
)

# Actions share nautilus_trader's BookAction numbering.
ADD, UPDATE, DELETE, CLEAR = 1, 2, 3, 4

#: Flag bits of LEVEL_EVENT.flags.
F_LAST = 1 << 0  # last event of a venue message
F_SNAPSHOT = 1 << 1  # event belongs to a snapshot
