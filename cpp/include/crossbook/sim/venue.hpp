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
  /// A recorded trade: advances or fills the resting orders at and through its price.
  void apply_trade(const TradeEvent& t, std::int64_t now_ns, Ledger& ledger);

  /// The order reaches the venue: it is rejected, taken against the book, rests, or a mix.
  void arrive_new(std::uint64_t id, std::int64_t now_ns, Ledger& ledger);
  void arrive_cancel(std::uint64_t id, std::int64_t now_ns, Ledger& ledger);
  /// New price and total size. A size decrease at the same price keeps the
  /// queue place; any other change re-queues at the back. A change that would
  /// cross the book, or a size not above what has filled, is rejected.
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
  std::size_t open_count() const { return resting_.size(); }

 private:
  // Side and price are copied from the order so that a feed row, which comes
  // with no ledger, can find the queues it moves.
  struct Resting {
    std::uint64_t id;
    Side side;
    Price price;
    QueueState queue;
  };

  // Liquidity the strategy took from one level since the feed last set it.
  struct Taken {
    Price price;
    Qty size;
  };

  Qty available(Side side, const Level& level) const;
  void add_taken(Side side, Price price, Qty size);
  /// The feed set the level: what was taken there is back in play. O(1) when
  /// nothing is taken on that side, as on almost every feed row.
  void untake(Side side, Price price);
  /// Open size available to a taker order on `book_side` within `limit` (any
  /// price when `market`).
  Qty fillable(Side book_side, Price limit, bool market, Qty want) const;
  bool would_cross(Side order_side, Price price) const;
  void take(SimOrder& o, std::int64_t now_ns, Ledger& ledger);
  void rest(SimOrder& o);
  void fill(SimOrder& o, Price price, Qty size, Liquidity liq, std::int64_t now_ns, Ledger& ledger);
  void close(SimOrder& o, OrderStatus status, Reason reason);
  void send(const SimOrder& o, ResponseKind kind, std::int64_t now_ns, Ledger& ledger,
            Reason reason = Reason::None);
  void erase_resting(std::uint64_t id);

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
  std::vector<Taken> taken_[2];
  std::vector<Resting> resting_;             // by order id, ascending
};

/// Throws InvalidInput naming row `index` of `what` when it is not a usable
/// level row (side, action, negative price or size).
void check_level_row(const LevelEvent& e, std::size_t index, const char* what);
void check_trade_row(const TradeEvent& t, std::size_t index, const char* what);

}  // namespace crossbook::sim
