// Records of the execution simulator. The numpy dtypes SIM_* in
// src/crossbook/dtypes.py mirror these structs field for field; the bindings
// check that the two agree, so change both together.
#pragma once

#include <cstdint>

#include "crossbook/types.hpp"

namespace crossbook::sim {

/// One recorded trade of a venue. `side` is the aggressor's: Bid when a buyer
/// lifted the asks, Ask when a seller hit the bids.
struct TradeEvent {
  std::int64_t ts_exchange_ns;
  std::int64_t ts_recv_ns;
  Price price;
  Qty size;
  std::uint8_t side;
  std::uint8_t reserved[7];
};
static_assert(sizeof(TradeEvent) == 40, "TradeEvent layout is part of the numpy contract");

/// LEVEL_EVENT actions beyond ADD..CLEAR: the venue's book became usable or
/// stopped being so (the same numbers as the scanner's SCAN_SYNCED/UNSYNCED).
inline constexpr std::uint8_t kActionSynced = 16;
inline constexpr std::uint8_t kActionUnsynced = 17;

/// Stop (stop-market) and StopLimit wait at the venue until a recorded trade
/// reaches their trigger price, then act as a Market or a Limit order.
enum class OrderType : std::uint8_t { Limit = 1, Market = 2, Stop = 3, StopLimit = 4 };
enum class TimeInForce : std::uint8_t { Gtc = 1, Ioc = 2, Fok = 3 };
enum class Liquidity : std::uint8_t { Maker = 1, Taker = 2 };

enum class OrderStatus : std::uint8_t {
  Pending = 1,    // sent, not yet at the venue
  Open = 2,       // resting at the venue (possibly partly filled), or a stop waiting for its trigger
  Filled = 3,
  Cancelled = 4,  // by the strategy, or the unfilled rest of an IOC/market order
  Rejected = 5,
};

enum class Reason : std::uint8_t {
  None = 0,
  NotSynced = 1,            // the venue's book is not synced
  PostOnlyWouldCross = 2,
  FokNotFillable = 3,
  UnknownOrder = 4,         // cancel/modify of an order that is not open at the venue
  ImmediateRemainder = 5,   // what an IOC or market order could not fill at once
  ModifyWouldCross = 6,
  UserCancel = 7,
  StopWaiting = 8,          // modify of a stop order that has not triggered
  // The risk engine's, decided at the desk (crossbook/sim/risk.hpp).
  RiskOrderSize = 16,
  RiskOrderNotional = 17,
  RiskPosition = 18,
  RiskNetPosition = 19,
  RiskOpenOrders = 20,
  RiskRate = 21,
  CircuitBreaker = 22,
  KillSwitch = 23,     // also the reason of the kill's own cancels
  RiskLoss = 24,       // of a breaker trip or kill: loss over max_loss
  RiskDrawdown = 25,   // of a breaker trip or kill: drawdown over max_drawdown
};

/// What the strategy hears from a venue, after the response latency.
enum class ResponseKind : std::uint8_t {
  Accepted = 1,
  Fill = 2,
  Cancelled = 3,
  Rejected = 4,
  Modified = 5,
  CancelRejected = 6,
  ModifyRejected = 7,
  Triggered = 8,  // a stop order's trigger was reached; its market or limit order follows
};

inline constexpr std::uint8_t kPostOnly = 1u << 0;
inline constexpr std::uint8_t kTriggered = 1u << 1;  // a stop order whose trigger was reached

/// One order as the venue knows it (the results' view: the truth, not the
/// strategy's possibly stale one).
struct SimOrder {
  std::uint64_t order_id;
  std::int64_t ts_decision_ns;
  std::int64_t ts_arrival_ns;  // 0 until it reaches the venue
  Price price;                 // 0 for a market or stop-market order
  Price trigger_price;         // 0 unless a stop order
  Qty size;                    // current total size (a modify changes it)
  Qty filled;
  std::uint32_t venue;
  std::uint8_t side;
  std::uint8_t type;
  std::uint8_t tif;
  std::uint8_t flags;
  std::uint8_t status;
  std::uint8_t reason;
  std::uint8_t reserved[6];
};
static_assert(sizeof(SimOrder) == 72, "SimOrder layout is part of the numpy contract");

struct SimFill {
  std::int64_t ts_decision_ns;
  std::int64_t ts_arrival_ns;
  std::int64_t ts_fill_ns;
  std::uint64_t order_id;
  Price price;
  Qty size;
  std::int64_t fee;  // in units of 10^-(price_exp + size_exp); negative is a rebate
  std::uint32_t venue;
  std::uint8_t side;
  std::uint8_t liquidity;
  std::uint8_t reserved[2];
};
static_assert(sizeof(SimFill) == 64, "SimFill layout is part of the numpy contract");

/// One message from a venue to the strategy: sent at ts_venue_ns, heard at
/// ts_delivery_ns. For a fill, price/size/fee are the fill's; otherwise
/// price/size are the order's after the event.
struct SimResponse {
  std::int64_t ts_venue_ns;
  std::int64_t ts_delivery_ns;
  std::uint64_t order_id;
  Price price;
  Qty size;
  Qty leaves;        // open size after the event
  std::int64_t fee;
  std::uint32_t venue;
  std::uint8_t kind;
  std::uint8_t status;  // the order's status after the event
  std::uint8_t reason;
  std::uint8_t liquidity;
};
static_assert(sizeof(SimResponse) == 64, "SimResponse layout is part of the numpy contract");

/// A venue's account: position and volume (total size filled) in size units,
/// cash and fees in units of 10^-(price_exp + size_exp). Cash excludes fees:
/// pnl = cash + position * mark - fees. Cash and fees are 128-bit (a padded
/// venue exponent makes one BTC notional ~10^21 units), split as
/// value = hi * 2^64 + lo, as OPPORTUNITY_EVENT does.
struct SimAccount {
  Qty position;
  Qty volume;
  std::uint64_t cash_lo;
  std::int64_t cash_hi;
  std::uint64_t fees_lo;
  std::int64_t fees_hi;
};
static_assert(sizeof(SimAccount) == 48, "SimAccount layout is part of the numpy contract");

}  // namespace crossbook::sim
