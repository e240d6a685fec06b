// Plain value types of the order-level core: the feed event an OrderBook
// replays, the request a MatchingEngine takes, and what the engine writes back.
// Every struct is a numpy record: fixed size, explicit reserved fields instead
// of compiler padding, so that the dtype in src/crossbook/dtypes.py can mirror it
// field for field (the bindings check sizes and offsets). Change both together.
#pragma once

#include <cstdint>

#include "crossbook/types.hpp"

namespace crossbook {

/// What an OrderEvent does to the book. The first four share their numbers
/// with Action (ADD=1 ... CLEAR=4); EXECUTE has no L2 counterpart.
///   Add     = 1: a new resting order `order_id` of `size` at `price` on `side`.
///   Modify  = 2: the order now rests at `price` with `size` (the new open size,
///                not a delta). It keeps its queue place only when the price is
///                unchanged and the size does not grow; otherwise it goes to the
///                back of the queue at the new price. `side` is ignored.
///   Cancel  = 3: `size` is the amount cancelled (a partial cancel keeps the
///                queue place); 0 cancels the whole order. `price`, `side` ignored.
///   Clear   = 4: removes every order on `side` (0 = both sides).
///   Execute = 5: the venue filled `size` of the resting order; it leaves the
///                book at zero. `price`, `side` ignored.
enum class OrderAction : std::uint8_t { Add = 1, Modify = 2, Cancel = 3, Clear = 4, Execute = 5 };

struct OrderEvent {
  std::int64_t ts_exchange_ns;
  std::int64_t ts_recv_ns;
  std::uint64_t order_id;
  Price price;
  Qty size;
  std::uint8_t side;    // Side; 0 only for a Clear of both sides
  std::uint8_t action;  // OrderAction
  std::uint16_t flags;  // flags::kLast, flags::kSnapshot, passed on to the level events
  std::uint32_t reserved;
};
static_assert(sizeof(OrderEvent) == 48, "OrderEvent layout is part of the numpy contract");

// ------------------------------------------------------------ matching engine

enum class OrderType : std::uint8_t { Limit = 1, Market = 2, Cancel = 3, Modify = 4 };

/// Time in force. A market order never rests: GTC and IOC both mean "fill what
/// the book (within the price band) allows, expire the rest".
enum class TimeInForce : std::uint8_t { Gtc = 1, Ioc = 2, Fok = 3 };

/// Self-trade prevention: what happens when an incoming order (the taker)
/// would match a resting order of the same owner. The taker's mode decides, as
/// on Binance and Coinbase. Fills made before the self-match stand.
///   None         : the two trade like any others.
///   CancelNewest : the taker's remaining size is cancelled; the resting order
///                  stays (Binance EXPIRE_TAKER, CME "cancel newest").
///   CancelOldest : the resting order is cancelled and the taker goes on
///                  matching (Binance EXPIRE_MAKER, CME "cancel oldest").
///   CancelBoth   : both the resting order and the taker's remainder are
///                  cancelled (Binance EXPIRE_BOTH).
///   Decrement    : both are reduced by the smaller of the two sizes, without a
///                  trade; whichever reaches zero leaves the book, and a taker
///                  with size left goes on matching (Binance DECREMENT,
///                  Coinbase "decrement and cancel").
enum class StpMode : std::uint8_t {
  Default = 0,  // in a request: use the engine's configured mode
  None = 1,
  CancelNewest = 2,
  CancelOldest = 3,
  CancelBoth = 4,
  Decrement = 5,
};

namespace order_flags {
/// Limit GTC only: rejected (PostOnlyWouldTake) instead of taking liquidity.
/// On a Modify: the moved order is rejected, and left as it was, if it would take.
inline constexpr std::uint16_t kPostOnly = 1u << 0;
}  // namespace order_flags

/// One request to the engine.
///   Limit : `size` at `price` on `side`, with `tif`, `flags`, `stp`.
///   Market: `size` on `side`; `price` ignored; trades only inside the price band.
///   Cancel: `order_id` of a resting order of the same `owner`; `size` 0 cancels
///           it all, a positive size reduces it by that much (keeping its place).
///   Modify: the resting order `order_id` (same `owner`) now wants `size` at
///           `price`: same price and no larger size keeps the queue place;
///           otherwise it is taken out and re-entered as a new GTC limit order
///           with the same id, which may match (as a venue treats cancel/replace).
///           `side` and `tif` are ignored; `flags` and `stp` apply to the re-entry.
struct OrderRequest {
  std::int64_t ts_ns;  // exchange time: fills, halts and rejections carry it
  std::uint64_t order_id;
  std::uint64_t owner;
  Price price;
  Qty size;
  std::uint8_t side;  // Side
  std::uint8_t type;  // OrderType
  std::uint8_t tif;   // TimeInForce (ignored for Cancel and Modify)
  std::uint8_t stp;   // StpMode, Default = the engine's mode
  std::uint16_t flags;
  std::uint16_t reserved;
};
static_assert(sizeof(OrderRequest) == 48, "OrderRequest layout is part of the numpy contract");

/// One trade, always at the resting (maker) order's price.
struct Fill {
  std::int64_t ts_ns;
  std::uint64_t taker_id;
  std::uint64_t maker_id;
  Price price;
  Qty size;
  std::uint8_t taker_side;  // Side of the incoming order
  std::uint8_t reserved[7];
};
static_assert(sizeof(Fill) == 48, "Fill layout is part of the numpy contract");

/// Why a request was refused or an order left the book without trading.
enum class RejectReason : std::uint8_t {
  InvalidType = 1,
  InvalidSide = 2,
  InvalidTif = 3,
  InvalidStp = 4,
  InvalidFlags = 5,        // post-only on anything but a limit GTC (or a modify)
  InvalidPrice = 6,        // negative limit price
  InvalidSize = 7,         // size <= 0 (< 0 on a cancel), or a level total past int64
  DuplicateOrderId = 8,    // an order with this id rests already
  UnknownOrder = 9,        // cancel/modify of an id that does not rest
  OwnerMismatch = 10,      // cancel/modify by another owner than the order's
  MaxOrderSize = 11,
  MaxNotional = 12,
  PriceBand = 13,          // limit outside the band; or a market order stopped at its edge
  Halted = 14,             // the engine is halted: only cancels are accepted
  KillSwitch = 15,         // owner is killed; also each resting order the kill removed
  PostOnlyWouldTake = 16,
  FokNotFillable = 17,     // nothing happened: the whole size could not trade at once
  SelfTrade = 18,          // size removed by self-trade prevention (taker or resting)
  Expired = 19,            // IOC / market remainder with nothing more to match
};

/// A refused request, or size the engine removed on its own (an IOC/market
/// remainder, self-trade prevention, the kill switch). Every order that leaves
/// other than by a fill or by its owner's cancel shows up here.
struct Reject {
  std::int64_t ts_ns;
  std::uint64_t order_id;
  Qty size;             // size refused or removed
  std::uint8_t reason;  // RejectReason
  std::uint8_t reserved[7];
};
static_assert(sizeof(Reject) == 32, "Reject layout is part of the numpy contract");

}  // namespace crossbook
