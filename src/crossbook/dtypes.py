"""numpy dtypes: the data contract between the C++ core and Python.

Defined once, here. The compiled core registers the same layouts and refuses an
array whose dtype differs, so a mismatch is a TypeError, never garbage.
Prices and sizes are int64 mantissas (real value = mantissa * 10**-exp);
timestamps are int64 nanoseconds since the epoch.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "LEVEL_EVENT", "DEPTH", "BBO", "BOOK_FEATURES", "FEAT_TWO_SIDED", "ADD", "UPDATE", "DELETE", "CLEAR", "F_LAST", "F_SNAPSHOT",
    "ORDER_EVENT", "ORDER_REQUEST", "FILL", "REJECT", "RESTING_ORDER",
    "ORDER_ADD", "ORDER_MODIFY", "ORDER_CANCEL", "ORDER_CLEAR", "ORDER_EXECUTE",
    "LIMIT", "MARKET", "CANCEL", "MODIFY", "GTC", "IOC", "FOK",
    "STP_DEFAULT", "STP_NONE", "STP_CANCEL_NEWEST", "STP_CANCEL_OLDEST", "STP_CANCEL_BOTH",
    "STP_DECREMENT", "POST_ONLY",
    "SCAN_EVENT", "OPPORTUNITY_EVENT", "SCAN_SYNCED", "SCAN_UNSYNCED", "SCAN_HEARTBEAT",
    "TRADE_EVENT", "SIM_ORDER", "SIM_FILL", "SIM_RESPONSE", "SIM_ACCOUNT", "SIM_POSITION", "SIM_RISK_EVENT", "SIM_MAKER", "SIM_TAKER",
    "SIM_SYNCED", "SIM_UNSYNCED",
    "MAX_TICK_HINT",
]  # fmt: skip

#: The core's largest price tick (mantissa units) for its default ladder width;
#: a larger tick hint is ignored there, so callers do not pass one.
MAX_TICK_HINT = 1 << 40

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

#: Book features after an event, as ``L2Book.apply(..., features_out=, n=)`` records
#: them. Exact integers where the quantity is exact, float64 only for ratios:
#:
#: - ``mid_x2``: best bid + best ask, i.e. the mid in half-ticks (twice the mid, in
#:   price mantissa units); unsigned because the sum of two int64 prices may pass
#:   int64 (it never passes uint64). 0 unless FEAT_TWO_SIDED.
#: - ``spread``: best ask - best bid in price mantissa units, negative when crossed;
#:   0 unless FEAT_TWO_SIDED.
#: - ``microprice``: (bid * A + ask * B) / (A + B) in price mantissa units, B and A
#:   the summed sizes of the top n bid and ask levels (n=1: ``L2Book.microprice()``);
#:   NaN unless FEAT_TWO_SIDED.
#: - ``imbalance``: (B - A) / (B + A), as ``L2Book.imbalance(n)``; NaN on an empty book.
#: - ``ofi``: the event's order-flow imbalance at the touch (Cont, Kukanov and
#:   Stoikov 2014), ``ofi_bid - ofi_ask`` in size mantissa units, with
#:   ``ofi_bid = [P >= P'] q - [P <= P'] q'`` over the best bid before (primed) and
#:   after the event and ``ofi_ask = [P <= P'] q - [P >= P'] q'`` over the best ask.
#:   An empty bid counts as an infinitely low price and an empty ask as an
#:   infinitely high one. The first event of a batch is measured from the book as
#:   the batch found it. Exact: an event moves one side, or clears both (then both
#:   parts are <= 0), so the difference always fits int64.
BOOK_FEATURES = np.dtype(
    [
        ("mid_x2", "<u8"),
        ("spread", "<i8"),
        ("microprice", "<f8"),
        ("imbalance", "<f8"),
        ("ofi", "<i8"),
        ("ofi_bid", "<i8"),
        ("ofi_ask", "<i8"),
        ("flags", "<u4"),
        ("reserved", "<u4"),
    ],
    align=True,
)

#: Flag bits of BOOK_FEATURES.flags.
FEAT_TWO_SIDED = 1 << 0  # both sides have a level: mid_x2, spread and microprice mean something

# Actions share nautilus_trader's BookAction numbering.
ADD, UPDATE, DELETE, CLEAR = 1, 2, 3, 4

#: Flag bits of LEVEL_EVENT.flags.
F_LAST = 1 << 0  # last event of a venue message
F_SNAPSHOT = 1 << 1  # event belongs to a snapshot

# -- order level (L3): mirrors cpp/include/crossbook/order_types.hpp -------------

#: One order-level feed event for OrderBook.apply. ``action`` is one of
#: ORDER_ADD .. ORDER_EXECUTE; ``size`` on a cancel is the amount cancelled (0 = all).
ORDER_EVENT = np.dtype(
    [
        ("ts_exchange_ns", "<i8"),
        ("ts_recv_ns", "<i8"),
        ("order_id", "<u8"),
        ("price", "<i8"),
        ("size", "<i8"),
        ("side", "u1"),
        ("action", "u1"),
        ("flags", "<u2"),
        ("reserved", "<u4"),
    ],
    align=True,
)

#: One request to a MatchingEngine (submit_batch).
ORDER_REQUEST = np.dtype(
    [
        ("ts_ns", "<i8"),
        ("order_id", "<u8"),
        ("owner", "<u8"),
        ("price", "<i8"),
        ("size", "<i8"),
        ("side", "u1"),
        ("type", "u1"),
        ("tif", "u1"),
        ("stp", "u1"),
        ("flags", "<u2"),
        ("reserved", "<u2"),
    ],
    align=True,
)

#: One trade, at the resting (maker) order's price.
FILL = np.dtype(
    [
        ("ts_ns", "<i8"),
        ("taker_id", "<u8"),
        ("maker_id", "<u8"),
        ("price", "<i8"),
        ("size", "<i8"),
        ("taker_side", "u1"),
        ("reserved", "u1", (7,)),
    ],
    align=True,
)

#: A refused request, or an order that left the book without trading; ``reason``
#: is a RejectReason value.
REJECT = np.dtype(
    [("ts_ns", "<i8"), ("order_id", "<u8"), ("size", "<i8"), ("reason", "u1"), ("reserved", "u1", (7,))],
    align=True,
)

#: One resting order as OrderBook.orders(side) lists them, in priority order.
RESTING_ORDER = np.dtype(
    [("order_id", "<u8"), ("price", "<i8"), ("size", "<i8"), ("owner", "<u8")], align=True
)

# OrderEvent actions (the first four share their numbers with the L2 actions).
ORDER_ADD, ORDER_MODIFY, ORDER_CANCEL, ORDER_CLEAR, ORDER_EXECUTE = 1, 2, 3, 4, 5
# OrderRequest types, times in force, self-trade prevention modes, flags.
LIMIT, MARKET, CANCEL, MODIFY = 1, 2, 3, 4
GTC, IOC, FOK = 1, 2, 3
STP_DEFAULT, STP_NONE, STP_CANCEL_NEWEST, STP_CANCEL_OLDEST, STP_CANCEL_BOTH, STP_DECREMENT = range(6)
POST_ONLY = 1 << 0


# -- arbitrage scanner: mirrors cpp/include/crossbook/arb.hpp ------------------------

#: One input of ArbScanner.process: a LEVEL_EVENT (same first 40 bytes) plus the index
#: of its book. ``action`` may also be SCAN_SYNCED, SCAN_UNSYNCED or SCAN_HEARTBEAT.
SCAN_EVENT = np.dtype(
    [
        ("ts_exchange_ns", "<i8"),
        ("ts_recv_ns", "<i8"),
        ("price", "<i8"),
        ("size", "<i8"),
        ("count", "<i4"),
        ("side", "u1"),
        ("action", "u1"),
        ("flags", "<u2"),
        ("book", "<u4"),
        ("reserved", "<u4"),
    ],
    align=True,
)

#: One change of an opportunity on an ordered (buy_book, sell_book) pair. 128-bit
#: values are split: value = hi * 2**64 + lo. pnl = pnl_num / 10**6 (fees are in
#: hundredths of a basis point), in units of 10**-(price_exp + size_exp).
OPPORTUNITY_EVENT = np.dtype(
    [
        ("ts_ns", "<i8"),
        ("open_ts_ns", "<i8"),
        ("duration_ns", "<i8"),
        ("size", "<i8"),
        ("buy_price", "<i8"),
        ("sell_price", "<i8"),
        ("peak_size", "<i8"),
        ("edge_bps", "<f8"),
        ("peak_edge_bps", "<f8"),
        ("pnl_num_lo", "<u8"),
        ("pnl_num_hi", "<i8"),
        ("buy_notional_lo", "<u8"),
        ("buy_notional_hi", "<i8"),
        ("sell_notional_lo", "<u8"),
        ("sell_notional_hi", "<i8"),
        ("buy_book", "<u4"),
        ("sell_book", "<u4"),
        ("kind", "u1"),
        ("reason", "u1"),
        ("reserved0", "<u2"),
        ("reserved1", "<u4"),
    ],
    align=True,
)

SCAN_SYNCED, SCAN_UNSYNCED, SCAN_HEARTBEAT = 16, 17, 18


# -- execution simulator: mirrors cpp/include/crossbook/sim/types.hpp ----------------

#: One recorded trade. ``side`` is the aggressor's: BID when a buyer lifted the
#: asks, ASK when a seller hit the bids.
TRADE_EVENT = np.dtype(
    [
        ("ts_exchange_ns", "<i8"),
        ("ts_recv_ns", "<i8"),
        ("price", "<i8"),
        ("size", "<i8"),
        ("side", "u1"),
        ("reserved", "u1", (7,)),
    ],
    align=True,
)

#: One simulated order as its venue knows it at the end of a run. ``price`` is 0
#: for a market or stop-market order; ``trigger_price`` is 0 unless the order is a
#: stop; ``size`` is the current total size (a modify changes it); ``type`` is an
#: OrderType value, ``status`` an OrderStatus value, ``reason`` a Reason value
#: (crossbook.sim); ``flags`` has bit 0 for post-only and bit 1 for a triggered stop.
SIM_ORDER = np.dtype(
    [
        ("order_id", "<u8"),
        ("ts_decision_ns", "<i8"),
        ("ts_arrival_ns", "<i8"),
        ("price", "<i8"),
        ("trigger_price", "<i8"),
        ("size", "<i8"),
        ("filled", "<i8"),
        ("venue", "<u4"),
        ("side", "u1"),
        ("type", "u1"),
        ("tif", "u1"),
        ("flags", "u1"),
        ("status", "u1"),
        ("reason", "u1"),
        ("reserved", "u1", (6,)),
    ],
    align=True,
)

#: One simulated fill. ``fee`` is in units of 10**-(price_exp + size_exp) (negative
#: is a rebate); ``liquidity`` is SIM_MAKER or SIM_TAKER.
SIM_FILL = np.dtype(
    [
        ("ts_decision_ns", "<i8"),
        ("ts_arrival_ns", "<i8"),
        ("ts_fill_ns", "<i8"),
        ("order_id", "<u8"),
        ("price", "<i8"),
        ("size", "<i8"),
        ("fee", "<i8"),
        ("venue", "<u4"),
        ("side", "u1"),
        ("liquidity", "u1"),
        ("reserved", "u1", (2,)),
    ],
    align=True,
)

#: One answer from a venue to the strategy, sent at ``ts_venue_ns`` and heard at
#: ``ts_delivery_ns``. For a fill, price/size/fee are the fill's; otherwise the order's.
SIM_RESPONSE = np.dtype(
    [
        ("ts_venue_ns", "<i8"),
        ("ts_delivery_ns", "<i8"),
        ("order_id", "<u8"),
        ("price", "<i8"),
        ("size", "<i8"),
        ("leaves", "<i8"),
        ("fee", "<i8"),
        ("venue", "<u4"),
        ("kind", "u1"),
        ("status", "u1"),
        ("reason", "u1"),
        ("liquidity", "u1"),
    ],
    align=True,
)

#: A venue's account at the end of a run: pnl at mark = cash + position * mark - fees
#: (cash and fees in units of 10**-(price_exp + size_exp), position and volume in size
#: units). Cash and fees are 128-bit, split: value = hi * 2**64 + lo (see OPPORTUNITY_EVENT).
SIM_ACCOUNT = np.dtype(
    [
        ("position", "<i8"),
        ("volume", "<i8"),
        ("cash_lo", "<u8"),
        ("cash_hi", "<i8"),
        ("fees_lo", "<u8"),
        ("fees_hi", "<i8"),
    ],
    align=True,
)

#: One change of a simulated venue's position: the fill ``fill`` (its index in the run's
#: SIM_FILL rows) at ``ts_ns`` moved venue ``venue``'s position by ``change`` to ``position``
#: (size mantissas). Derived from the fills (SimResults.position_changes), not kept by the core.
SIM_POSITION = np.dtype(
    [
        ("ts_ns", "<i8"),
        ("fill", "<i8"),
        ("change", "<i8"),
        ("position", "<i8"),
        ("venue", "<u4"),
        ("reserved", "u1", (4,)),
    ],
    align=True,
)

#: One state change of the simulator's risk engine (crossbook.sim.risk): ``kind`` is a
#: RiskEventKind, ``reason`` a Reason; ``venue`` is 2**32 - 1 and ``order_id`` 0 when not
#: about one. value and limit are 128-bit, split: value = hi * 2**64 + lo (as SIM_ACCOUNT);
#: a refusal or breach has value > limit.
SIM_RISK_EVENT = np.dtype(
    [
        ("ts_ns", "<i8"),
        ("order_id", "<u8"),
        ("value_lo", "<u8"),
        ("value_hi", "<i8"),
        ("limit_lo", "<u8"),
        ("limit_hi", "<i8"),
        ("venue", "<u4"),
        ("kind", "u1"),
        ("reason", "u1"),
        ("reserved", "u1", (2,)),
    ],
    align=True,
)

SIM_MAKER, SIM_TAKER = 1, 2
#: LEVEL_EVENT actions that mark a venue's book usable or not (same numbers as the scanner's).
SIM_SYNCED, SIM_UNSYNCED = SCAN_SYNCED, SCAN_UNSYNCED
