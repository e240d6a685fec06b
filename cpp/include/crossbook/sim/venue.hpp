// A simulated venue for one (venue, symbol): the recorded L2 book, fed at its
// receive time, plus the strategy's own orders, which the recorded book never
// contains. It asks its fee and queue models; latency is the simulator's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "crossbook/l2_book.hpp"
#include "crossbook/sim/fee_model.hpp"
#include "crossbook/sim/impact_model.hpp"
#include "crossbook/sim/queue_model.hpp"
#include "crossbook/sim/types.hpp"

namespace crossbook::sim {

/// What the venues write to: every order (indexed by order_id - 1), every fill,
/// and the messages sent to the strategy and not yet given a delivery time.
struct Ledger {
  std::vector<SimOrder> orders;
  std::vector<SimFill> fills;
  std::vector<SimResponse> outbox;

  SimOrder& order(std::uint64_t id) { return orders[id - 1]; }
};

class SimVenue {
 public:
  SimVenue(std::uint32_t index, L2Book book, std::unique_ptr<FeeModel> fees,
           std::unique_ptr<QueueModel> queue, bool synced);

  /// A recorded level change, or a sync status row (kActionSynced/Unsynced).
  /// Preconditions: the row passed check_level_row.
  void apply_level(const LevelEvent& e);
  /// A recorded trade: advances or fills the resting orders at and through its
  /// price, then triggers the waiting stops it reaches (see trigger_stops).
  void apply_trade(const TradeEvent& t, std::int64_t now_ns, Ledger& ledger);

  /// The order reaches the venue: it is rejected, taken against the book, rests,
  /// or a mix; a stop order is accepted and waits for its trigger.
  void arrive_new(std::uint64_t id, std::int64_t now_ns, Ledger& ledger);
  /// `reason` is what the cancelled order records: the strategy's cancel, or the kill switch's.
  void arrive_cancel(std::uint64_t id, std::int64_t now_ns, Ledger& ledger,
                     Reason reason = Reason::UserCancel);
  /// New price and total size. A size decrease at the same price keeps the
  /// queue place; any other change re-queues at the back. A change that would
  /// cross the book, or a size not above what has filled, is rejected, and so
  /// is a stop that waits for its trigger (Reason::StopWaiting).
  void arrive_modify(std::uint64_t id, Price price, Qty size, std::int64_t now_ns, Ledger& ledger);

  const L2Book& book() const { return book_; }
  bool synced() const { return synced_; }
  SimAccount account() const;
  Qty position() const { return position_; }
  Int128 cash() const { return cash_; }
  Int128 fees() const { return fees_paid_; }
  /// Size of the level at (side, price) the strategy's taker fills have used
  /// since the feed last changed it.
  Qty taken(Side side, Price price) const;
  /// Queue place of an open resting order; nullptr when it is not resting here.
  const QueueState* queue_of(std::uint64_t id) const;
  /// True while stop order `id` waits here for its trigger.
  bool stop_waiting(std::uint64_t id) const;
  /// Resting orders and waiting stops.
  std::size_t open_count() const { return resting_.size() + stops_.size(); }
  /// Turns on market impact (impact_model.hpp) for the orders that arrive from now on.
  void set_impact(std::unique_ptr<LinearDecayImpact> impact) { impact_ = std::move(impact); }

 private:
  // Side and price are copied from the order so that a feed row, which comes
  // with no ledger, can find the queues it moves.
  struct Resting {
    std::uint64_t id;
    Side side;
    Price price;
    QueueState queue;
  };

  struct WaitingStop {
    std::uint64_t id;
    Side side;
    Price trigger;
  };
  // A size at one price: liquidity the strategy took from a level, or the size traded
  // there, since the feed last set that level.
  struct AtPrice {
    Price price;
    Qty size;
  };

  Qty available(Side side, const Level& level) const;
  void add_taken(Side side, Price price, Qty size);
  /// The feed set the level: what was taken there is back in play. O(1) when
  /// nothing is taken on that side, as on almost every feed row.
  void untake(Side side, Price price);
  /// The feed set the level: the size traded there since is returned and forgotten.
  Qty untrade(Side side, Price price);
  /// Open size available to a taker order on `book_side` within `limit` (any
  /// price when `market`).
  Qty fillable(Side book_side, Price limit, bool market, Qty want) const;
  bool would_cross(Side order_side, Price price) const;
  /// Why the venue would refuse `o` against the book now (post-only, FOK); None if it would not.
  Reason book_refusal(const SimOrder& o) const;
  /// Takes what `o` can, then rests a GTC limit remainder or cancels any other.
  void execute(SimOrder& o, std::int64_t now_ns, Ledger& ledger);
  /// A buy stop triggers on a trade at or above its trigger price, a sell stop
  /// at or below, whatever the trade's aggressor; stops trigger in id order,
  /// after the trade's maker fills, against the book as received by then.
  void trigger_stops(const TradeEvent& t, std::int64_t now_ns, Ledger& ledger);
  void take(SimOrder& o, std::int64_t now_ns, Ledger& ledger);
  void rest(SimOrder& o);
  void fill(SimOrder& o, Price price, Qty size, Liquidity liq, std::int64_t now_ns, Ledger& ledger);
  void close(SimOrder& o, OrderStatus status, Reason reason);
  void send(const SimOrder& o, ResponseKind kind, std::int64_t now_ns, Ledger& ledger,
            Reason reason = Reason::None);
  void erase_resting(std::uint64_t id);
  /// Sets shift_ to the impact at `now_ns`; every arrival starts with it.
  void update_shift(std::int64_t now_ns);
  /// A recorded level's price as the strategy's order meets it: shifted by the
  /// impact, and kept within [1, INT64_MAX].
  Price met(Price level_price) const;

  std::uint32_t index_;
  L2Book book_;
  std::unique_ptr<FeeModel> fees_;
  std::unique_ptr<QueueModel> queue_;
  bool synced_;
  Qty position_ = 0;
  Qty volume_ = 0;
  Int128 cash_ = 0;       // sums of notionals: no overflow for any int64 prices and sizes
  Int128 fees_paid_ = 0;  // in practice (2^127 is ~10^38)
  // [bid, ask], by price: only the levels taken and not set since, so few.
  std::vector<AtPrice> taken_[2];
  // Size traded at each price since the feed last set that level: the part of
  // the level's next decrease that trades explain (queue models). Few, as taken_.
  std::vector<AtPrice> traded_[2];
  std::vector<Resting> resting_;             // by order id, ascending
  std::vector<WaitingStop> stops_;           // by order id, ascending
  std::unique_ptr<LinearDecayImpact> impact_;  // null: no impact
  Price shift_ = 0;                            // the impact at the current arrival
};

/// Throws InvalidInput naming row `index` of `what` when it is not a usable
/// level row (side, action, negative price or size).
void check_level_row(const LevelEvent& e, std::size_t index, const char* what);
void check_trade_row(const TradeEvent& t, std::size_t index, const char* what);

}  // namespace crossbook::sim
