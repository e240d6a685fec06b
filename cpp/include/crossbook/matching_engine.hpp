// A venue that matches: price-time priority over its own OrderBook, with the
// safety controls exchanges run (size and notional limits, a price band, a
// volatility halt, a kill switch per owner) and self-trade prevention.
//
// Semantics (see order_types.hpp for the request fields):
// - Fills are at the resting order's price, oldest first at each level.
// - A limit GTC remainder rests; an IOC or market remainder expires (Reject
//   Expired, or PriceBand when the band stopped a market order); a FOK order
//   either trades its whole size at once or is rejected with nothing changed.
// - Post-only is rejected if it would take at all, even from its own owner.
// - FOK counts only the size it can trade: with CancelNewest, CancelBoth or
//   Decrement it stops counting at the first order of its own owner, with
//   CancelOldest it skips those orders (they are cancelled when it executes).
// - Cancel: `size` 0 or >= the resting size removes the order; a smaller size
//   reduces it, keeping its queue place. Accepted while halted.
// - Modify keeps the queue place when the price is unchanged and the size
//   does not grow; otherwise it is cancel + new GTC limit with the same id,
//   which may match (as CME and most venues treat cancel/replace). A rejected
//   modify leaves the order as it was.
// - Price band: with band_bps > 0 and a reference price, a limit priced
//   outside [ref - ref*band, ref + ref*band] (the offset rounded down to a
//   tick) is rejected, and a market order trades only inside that interval.
//   With no reference price set there is no band.
// - Max notional: price * size (128-bit) of a limit, or of a market order at
//   the band edge. With no band a market order's notional is unknown up front
//   and is not checked.
// - Volatility halt: each trade's price enters a window of halt_window_ns on
//   the requests' ts_ns; when (highest - lowest) in the window exceeds
//   halt_move_bps of the lowest, the engine halts once the current request is
//   done (its fills stand, a GTC remainder rests). Halted, it accepts cancels
//   only (others: Halted) until resume(), which also forgets the window.
// - Kill switch: kill(owner) cancels the owner's resting orders (each reported
//   as KillSwitch) and rejects the owner's new orders and modifies until
//   release(owner).
// - Check order for a new order: halted, killed, side, tif, stp, flags, size,
//   price, max size, band, notional, duplicate id, room in the level's int64
//   total (InvalidSize), post-only, FOK. For a modify: halted, unknown id,
//   owner, stp, flags, size, price, max size, band, notional, room, post-only.
// Order ids must be unique among resting orders only; a finished id may return.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <unordered_set>
#include <vector>

#include "crossbook/order_book.hpp"
#include "crossbook/order_types.hpp"

namespace crossbook {

/// Caller-owned outputs: the engine only appends, so a caller reuses one
/// vector across batches (clear() keeps the capacity) and loses nothing.
using FillSink = std::vector<Fill>;
using RejectSink = std::vector<Reject>;

struct EngineConfig {
  StpMode stp = StpMode::None;         // mode for requests with stp = Default; not Default
  Qty max_order_size = 0;              // 0 = no limit
  Int128 max_notional = 0;             // price * size mantissas, 0 = no limit
  std::int64_t band_bps = 0;           // half-width of the price band, 0 = no band
  bool reference_follows_trades = false;  // the band re-centres on each request's last trade
  std::int64_t halt_move_bps = 0;      // 0 = no volatility halt
  std::int64_t halt_window_ns = 0;
};

class MatchingEngine {
 public:
  /// Throws InvalidInput for a negative limit or an stp of Default.
  explicit MatchingEngine(EngineConfig config = {}, int price_exp = 0, int size_exp = 0);

  /// Handles one request, appending its fills and rejects. Returns false when
  /// the request itself was rejected. O(1) for a non-crossing order near the
  /// touch, plus O(1) per order filled or level emptied; never throws on bad
  /// requests (they are rejected with a reason).
  bool submit(const OrderRequest& request, FillSink& fills, RejectSink& rejects);
  /// submit() over `n` requests in order.
  void submit_batch(const OrderRequest* requests, std::size_t n, FillSink& fills,
                    RejectSink& rejects);

  /// Reference price of the band; nullopt = no band.
  void set_reference_price(std::optional<Price> price);
  std::optional<Price> reference_price() const { return reference_; }
  /// Replaces the controls (validated as in the constructor). Resting orders stay.
  void set_config(const EngineConfig& config);
  const EngineConfig& config() const { return config_; }

  bool halted() const { return halted_; }
  void halt() { halted_ = true; }
  /// Resumes trading and forgets the trades of the halt window.
  void resume();

  /// Cancels all resting orders of `owner` (each appended to `rejects` with
  /// reason KillSwitch, bids best first then asks) and refuses the owner's
  /// new orders until release(). Returns how many orders went. O(orders).
  std::size_t kill(std::uint64_t owner, std::int64_t ts_ns, RejectSink& rejects);
  void release(std::uint64_t owner) { killed_.erase(owner); }
  bool killed(std::uint64_t owner) const { return killed_.count(owner) != 0; }

  /// Removes every resting order (one Clear level event); controls stay.
  void clear() { book_.clear(); }

  // The trade tape's running totals (the fills themselves go to the sinks).
  std::optional<Price> last_trade_price() const { return last_trade_; }
  std::uint64_t trade_count() const { return trade_count_; }
  Int128 traded_volume() const { return traded_volume_; }

  const OrderBook& book() const { return book_; }
  /// Level events for every level change, as OrderBook::set_level_sink.
  void set_level_sink(std::vector<LevelEvent>* sink) { book_.set_level_sink(sink); }
  void reserve(std::size_t orders) { book_.reserve(orders); }
  std::size_t memory_bytes() const { return sizeof(*this) + book_.memory_bytes() - sizeof(book_); }
  /// The book's invariants, and never crossed.
  void check_invariants() const;

 private:
  struct Taker {
    std::uint64_t id;
    std::uint64_t owner;
    Side side;
    Price limit;  // worst price it may trade at (the band edge for a market order)
    Qty remaining;
    StpMode stp;
    std::int64_t ts_ns;
  };
  struct TradePoint {
    std::int64_t ts_ns;
    Price price;
  };

  bool submit_new(const OrderRequest& r, FillSink& fills, RejectSink& rejects);
  bool cancel(const OrderRequest& r, RejectSink& rejects);
  bool modify(const OrderRequest& r, FillSink& fills, RejectSink& rejects);
  /// First failing check shared by new orders and modifies, or 0.
  std::uint8_t check_limits(bool is_market, Price price, Qty size) const;
  std::uint8_t check_fields(const OrderRequest& r) const;
  bool crosses(const Taker& t, Price resting) const {
    return t.side == Side::Bid ? resting <= t.limit : resting >= t.limit;
  }
  bool would_take(const Taker& t) const;
  bool fok_fillable(const Taker& t) const;
  /// Matches until the taker is done or nothing crosses; returns false when a
  /// self-trade rule cancelled the taker's remainder.
  void match(Taker& t, FillSink& fills, RejectSink& rejects);
  void match_level(Taker& t, std::uint32_t lvl, FillSink& fills, RejectSink& rejects);
  void self_trade(Taker& t, std::uint32_t lvl, RejectSink& rejects);
  void rest(const Taker& t);
  void record_trade(std::int64_t ts_ns, Price price, Qty size);
  void end_request();
  bool reject(RejectSink& rejects, const OrderRequest& r, Qty size, RejectReason reason) {
    rejects.push_back(Reject{r.ts_ns, r.order_id, size, static_cast<std::uint8_t>(reason), {}});
    return false;
  }
  void update_band();

  OrderBook book_;
  EngineConfig config_;
  std::optional<Price> reference_;
  bool band_on_ = false;
  Price band_lo_ = 0;
  Price band_hi_ = 0;
  bool halted_ = false;
  bool halt_pending_ = false;
  bool traded_ = false;  // in the current request
  std::unordered_set<std::uint64_t> killed_;
  std::deque<TradePoint> window_min_;  // increasing prices: the front is the window's low
  std::deque<TradePoint> window_max_;  // decreasing prices: the front is the window's high
  // The halt window's clock: the latest trade time seen. It never goes back, so a
  // request stamped earlier than one before it trades "now" and the deques stay ordered.
  std::int64_t trade_clock_ = std::numeric_limits<std::int64_t>::min();
  std::optional<Price> last_trade_;
  std::uint64_t trade_count_ = 0;
  Int128 traded_volume_ = 0;
};

}  // namespace crossbook
