// Order-level (L3) book: every resting order, a FIFO queue per price level.
// Rebuilds a venue's book from an order-level feed (OrderEvent) and is the book
// under MatchingEngine. It never matches: a feed may leave it crossed.
//
// Layout, chosen for O(1) operations near the touch and few cache lines each:
// orders live in a pool of 40-byte slots addressed by 32-bit index (the pool
// grows without invalidating anything); an OrderIndex maps id -> slot; each
// order links to its neighbours in its level's FIFO and to its level record by
// index; level records (price, total size, order count, FIFO head and tail)
// come from a second pool; a LevelIndex per side maps price -> level record.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crossbook/level_index.hpp"
#include "crossbook/order_index.hpp"
#include "crossbook/order_types.hpp"
#include "crossbook/types.hpp"

namespace crossbook {

class MatchingEngine;

/// What to do with feed input the book cannot apply as given.
enum class AnomalyPolicy : std::uint8_t {
  Throw = 0,  // throw FeedError; the offending operation changes nothing
  Count = 1,  // count it (anomaly_count) and skip or clamp it, as documented per kind
};

/// Kinds of bad feed input, with what AnomalyPolicy::Count does about each.
enum class Anomaly : std::uint8_t {
  UnknownOrder = 0,        // cancel/execute/modify of an id not in the book: skipped
  DuplicateOrder = 1,      // add of an id already resting: the old order is replaced (the
                           // feed's latest word on an id wins; an id re-used after a lost
                           // delete is the usual cause), the new one joins the back
  ExecuteExceedsSize = 2,  // execute of more than rests: clamped, the order leaves
  CancelExceedsSize = 3,   // partial cancel of more than rests: clamped, the order leaves
  NonPositiveSize = 4,     // add/execute/modify size <= 0, or a negative cancel size: skipped
  NegativePrice = 5,       // add/modify price < 0: skipped
  InvalidSide = 6,         // add with a side not Bid/Ask, Clear with one not 0-2: skipped
  InvalidAction = 7,       // OrderEvent action outside 1-5: skipped
  SizeOverflow = 8,        // add/modify that would take a level's total past int64: skipped
};
inline constexpr std::size_t kAnomalyKinds = 9;

/// Lower-case name of an anomaly kind, e.g. "unknown_order".
const char* anomaly_name(Anomaly a);

/// Bad feed input under AnomalyPolicy::Throw. Carries the evidence.
class FeedError : public InvalidInput {
 public:
  static constexpr std::size_t kNoEvent = static_cast<std::size_t>(-1);
  FeedError(Anomaly kind, std::uint64_t order_id, std::size_t event_index, const std::string& what)
      : InvalidInput(what), kind_(kind), order_id_(order_id), event_index_(event_index) {}
  Anomaly kind() const { return kind_; }
  std::uint64_t order_id() const { return order_id_; }
  /// Index in the batch given to apply(); kNoEvent for a direct call.
  std::size_t event_index() const { return event_index_; }

 private:
  Anomaly kind_;
  std::uint64_t order_id_;
  std::size_t event_index_;
};

struct OrderInfo {
  Side side;
  Price price;
  Qty size;
  std::uint64_t owner;
};

/// A resting order as for_each_order() visits it.
struct OrderView {
  std::uint64_t order_id;
  Price price;
  Qty size;
  std::uint64_t owner;
};

/// Copyable; a copy shares the level sink pointer (set it anew if needed).
class OrderBook {
 public:
  explicit OrderBook(AnomalyPolicy policy = AnomalyPolicy::Throw, int price_exp = 0,
                     int size_exp = 0);

  int price_exp() const { return price_exp_; }
  int size_exp() const { return size_exp_; }
  AnomalyPolicy policy() const { return policy_; }

  // Feed operations. Each returns true when applied as given and false when an
  // anomaly was counted (policy Count); under policy Throw bad input throws
  // FeedError instead and leaves the book unchanged. O(1) near the touch.

  /// A new order joins the back of its level. `owner` is free for the caller.
  /// Anomalies: InvalidSide, NegativePrice, NonPositiveSize, SizeOverflow,
  /// DuplicateOrder (under Count the new order replaces the old one).
  bool add(std::uint64_t order_id, Side side, Price price, Qty size, std::uint64_t owner = 0);
  /// Cancels `size` of the order (keeping its queue place), or all of it when
  /// `size` is nullopt. Anomalies: UnknownOrder, NonPositiveSize (a given
  /// size <= 0), CancelExceedsSize (Count: the order leaves).
  bool cancel(std::uint64_t order_id, std::optional<Qty> size = std::nullopt);
  /// The venue filled `size` of the order; at zero it leaves the book.
  /// Anomalies: UnknownOrder, NonPositiveSize, ExecuteExceedsSize (Count: the
  /// order leaves).
  bool execute(std::uint64_t order_id, Qty size);
  /// New price and open size. Keeps the queue place only when the price is
  /// unchanged and the size does not grow; otherwise the order moves to the
  /// back of the queue at `price`. The side never changes. Anomalies:
  /// UnknownOrder, NegativePrice, NonPositiveSize, SizeOverflow.
  bool modify(std::uint64_t order_id, Price price, Qty size);
  /// Removes every order of one side, or of both when `side` is nullopt.
  /// O(orders removed); both sides: O(1) plus the index and window resets.
  void clear(std::optional<Side> side = std::nullopt);

  /// Applies `n` events in order. When `bbo_out` is not null it receives the
  /// best bid and ask after each event. Under policy Throw the first bad event
  /// throws FeedError (event_index() says which) with the events before it
  /// applied and their bbo rows written. O(n), no allocation near the touch.
  void apply(const OrderEvent* events, std::size_t n, BboRow* bbo_out);

  /// Level events (action Update, the level's new total size and order count;
  /// size 0 = the level is gone; one Clear event per clear) are appended here
  /// for every level change, so an L2 view can follow. nullptr turns it off.
  /// The vector is the caller's; it must outlive its use here.
  void set_level_sink(std::vector<LevelEvent>* sink) { sink_ = sink; }
  /// Timestamps put on level events from direct calls (apply() uses the events').
  void set_timestamps(std::int64_t ts_exchange_ns, std::int64_t ts_recv_ns) {
    ts_exchange_ns_ = ts_exchange_ns;
    ts_recv_ns_ = ts_recv_ns;
  }

  // Queries.
  /// Best prices with the total size resting there. O(1).
  BboRow bbo() const;
  /// Up to `n` levels of `side`, best first, count = orders at the level;
  /// returns how many were written. O(n) plus bitmap scans.
  std::size_t depth(Side side, DepthRow* out, std::size_t n) const;
  /// The resting order's side, price, open size and owner; nullopt when it
  /// does not rest. O(1).
  std::optional<OrderInfo> order(std::uint64_t order_id) const;
  /// Total size queued ahead of the order at its level. O(orders ahead).
  std::optional<Qty> queue_position(std::uint64_t order_id) const;
  /// Resting orders. O(1).
  std::size_t size() const { return index_.size(); }
  /// Price levels on `side`. O(1).
  std::size_t level_count(Side side) const { return levels_of(side).size(); }
  /// Visits the orders of `side`, best level first, FIFO order within a level;
  /// `visit(const OrderView&)` returns false to stop.
  template <class Visit>
  void for_each_order(Side side, Visit&& visit) const;

  /// Anomalies counted under policy Count (always 0 under Throw).
  std::uint64_t anomaly_count(Anomaly kind) const {
    return anomalies_[static_cast<std::size_t>(kind)];
  }
  std::uint64_t anomaly_total() const;

  /// Pre-sizes the pools and the index for `orders` resting orders.
  void reserve(std::size_t orders);
  /// Bytes held by the book, counting capacity not yet used.
  std::size_t memory_bytes() const;
  /// Throws InvariantViolation describing the first broken invariant: level
  /// totals and counts equal the sums over their FIFOs, FIFO links agree both
  /// ways, index and levels agree, the cached bests are right. Not "never
  /// crossed": a feed book may be crossed. O(orders + levels + window).
  void check_invariants() const;

 private:
  friend class MatchingEngine;

  struct OrderSlot {
    std::uint64_t id;
    Qty size;
    std::uint64_t owner;
    std::uint32_t level;  // level record; the next free slot while on the free list
    std::uint32_t prev;
    std::uint32_t next;
  };
  struct LevelRec {
    Price price;
    Qty total;
    std::uint32_t count;
    std::uint32_t head;  // the next free record while on the free list
    std::uint32_t tail;
    std::uint8_t side;
  };

  detail::LevelIndex& levels_of(Side s) { return s == Side::Bid ? bids_ : asks_; }
  const detail::LevelIndex& levels_of(Side s) const { return s == Side::Bid ? bids_ : asks_; }
  detail::LevelIndex& levels_of(std::uint8_t s) { return s == 1 ? bids_ : asks_; }
  std::uint32_t find(std::uint64_t id) const {
    return index_.find(id, [this](std::uint32_t s) { return orders_[s].id; });
  }
  /// Batch loops call this at item i: it starts loading the index bucket of
  /// item i+2 so that the table's cache miss overlaps the work in between.
  /// (Prefetching the order slot as well measured slower: reading the bucket
  /// to find the slot stalls when it has not arrived yet.)
  template <class Record>
  void prefetch_ahead(const Record* items, std::size_t i, std::size_t n) const {
    if (i + 2 < n) index_.prefetch(items[i + 2].order_id);
  }
  std::size_t find_bucket(std::uint64_t id) const {
    return index_.find_bucket(id, [this](std::uint32_t s) { return orders_[s].id; });
  }

  // Unchecked primitives shared with MatchingEngine.
  /// Precondition: `bucket` from index_.find_for_insert for `id`, untouched since.
  std::uint32_t insert_at(std::size_t bucket, std::uint64_t id, Side side, Price price, Qty size,
                          std::uint64_t owner);
  /// Takes the order out of its FIFO, the index and the pool, emits its
  /// level and frees the level when empty. `bucket`: the order's index bucket
  /// when the caller has it (saves a probe), else kNoBucket.
  void erase_order(std::uint32_t o, std::size_t bucket = detail::OrderIndex::kNoBucket);
  /// Takes the head order of `lvl` out of the FIFO, the index and the pool.
  /// The level's total and count drop; the level stays even when empty and
  /// nothing is emitted (the engine emits once per level it matched at).
  void pop_head(std::uint32_t lvl) {
    const std::uint32_t o = levels_[lvl].head;
    unlink(o);
    index_.erase(orders_[o].id, o);
    orders_[o].level = free_order_;
    free_order_ = o;
  }
  /// Precondition: 0 < by < the order's size.
  void reduce_order(std::uint32_t o, Qty by) {
    orders_[o].size -= by;
    LevelRec& l = levels_[orders_[o].level];
    l.total -= by;
    emit_level(l);
  }
  void emit_level(const LevelRec& l) {
    if (sink_)
      sink_->push_back(LevelEvent{ts_exchange_ns_, ts_recv_ns_, l.price, l.total,
                                  static_cast<std::int32_t>(l.count), l.side,
                                  static_cast<std::uint8_t>(Action::Update), flags_});
  }
  /// True when `size` more fits in the total of the level at `price` once
  /// order `moving` (kNil for none) has left it: totals never wrap.
  bool fits(Side side, Price price, Qty size, std::uint32_t moving) const;
  std::uint32_t alloc_order();
  /// The level record at `price`, created (empty) when there is none.
  std::uint32_t level_for(Side side, Price price);
  /// Precondition: the level is empty. Drops it from its LevelIndex.
  void free_level(std::uint32_t lvl);
  /// Out of its FIFO; the level's total and count drop, the level stays.
  void unlink(std::uint32_t o);
  void link_back(std::uint32_t o, std::uint32_t lvl);
  void move_to_back(std::uint32_t o, Price price, Qty size);

  /// Throws FeedError (policy Throw) or counts and returns false. `detail()`
  /// returns the text naming the values.
  template <class Detail>
  bool anomaly(Anomaly kind, std::uint64_t id, Detail&& detail);
  void apply_one(const OrderEvent& e);
  void check_level(std::uint32_t lvl, std::size_t* orders_seen) const;

  int price_exp_;
  int size_exp_;
  AnomalyPolicy policy_;
  std::vector<OrderSlot> orders_;
  std::uint32_t free_order_ = detail::kNil;
  std::vector<LevelRec> levels_;
  std::uint32_t free_level_ = detail::kNil;
  detail::OrderIndex index_;
  detail::LevelIndex bids_;
  detail::LevelIndex asks_;
  std::array<std::uint64_t, kAnomalyKinds> anomalies_{};
  std::vector<LevelEvent>* sink_ = nullptr;
  std::int64_t ts_exchange_ns_ = 0;
  std::int64_t ts_recv_ns_ = 0;
  std::uint16_t flags_ = 0;
  std::size_t event_index_ = FeedError::kNoEvent;
};

template <class Visit>
void OrderBook::for_each_order(Side side, Visit&& visit) const {
  bool go = true;
  levels_of(side).for_each([&](std::uint32_t lvl) {
    const LevelRec& l = levels_[lvl];
    for (std::uint32_t o = l.head; go && o != detail::kNil; o = orders_[o].next) {
      const OrderSlot& s = orders_[o];
      go = visit(OrderView{s.id, l.price, s.size, s.owner});
    }
    return go;
  });
}

}  // namespace crossbook
