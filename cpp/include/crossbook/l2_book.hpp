// Price-level (L2) book as an exchange feed describes it: a level is set to an
// absolute size and size 0 removes it. The book never matches; a feed may
// leave it crossed for a moment and is_crossed() says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <vector>

#include "crossbook/far_levels.hpp"
#include "crossbook/ladder.hpp"
#include "crossbook/types.hpp"

namespace crossbook {

struct Level {
  Price price;
  Qty size;
  std::int32_t count;
};

/// Result of walking one side of the book for a given size.
struct FillEstimate {
  Qty filled = 0;
  Int128 notional = 0;  // sum of price * size, in units of 10^-(price_exp + size_exp)
  std::optional<Price> worst_price;
};

/// One side of an L2 book.
///
/// Levels near the touch live in a Ladder (ladder.hpp) keyed by price in ticks;
/// everything outside the window lives in FarLevels. Invariants: every price on
/// the side is a multiple of the tick; when the side is not empty the best price
/// lies inside the window, so every far level is worse than every ladder level;
/// the window re-centres to keep it so.
///
/// The tick is a hint (venues pad decimals, so one tick may be 10^6 mantissa
/// units): a price off the grid refines the tick to the gcd, at most ~60 times.
///
/// The window widens (4x, up to kMaxWidth) when a quarter of recent updates land
/// near the touch but outside it: feeds that churn deep levels (Binance's diff
/// stream) get an O(1) path there too, while quiet books stay small.
class BookSide {
 public:
  static constexpr std::uint32_t kDefaultWidth = 4096;
  static constexpr std::uint32_t kMaxWidth = 65536;

  explicit BookSide(bool is_bid, std::uint32_t width = kDefaultWidth, Price tick = 1);

  /// Sets a level (size > 0) or removes it (size == 0). Returns false when a
  /// removal found no level. Preconditions: price >= 0, size >= 0. O(1) in the
  /// window, O(log n) outside it.
  bool set(Price price, Qty size, std::int32_t count);
  void clear();
  /// Keeps the best `n` levels and removes the rest; returns how many went.
  /// O(n) to find the cut plus O(1)/O(log n) per removed level.
  std::size_t truncate(std::size_t n);
  /// Takes `tick` as the new grid hint (refined to the gcd with every price
  /// present); a hint above max_tick() is ignored. Throws InvalidInput for
  /// tick < 1. O(levels).
  void set_tick(Price tick);
  Price tick() const { return tick_; }
  Price max_tick() const { return kMaxTick / static_cast<Price>(width()); }
  std::uint32_t width() const { return ladder_.width(); }

  bool empty() const { return !has_best_; }
  std::size_t size() const { return ladder_.live() + far_.size(); }
  /// Preconditions: !empty().
  Price best_price() const { return best_; }
  Qty best_size() const { return ladder_[best_i_].size; }
  std::optional<Level> level(Price price) const;

  /// Visits levels best first; `visit(Level)` returns false to stop.
  template <class Visit>
  void for_each(Visit&& visit) const;

  /// Writes up to `n` levels best first; returns how many were written.
  std::size_t depth(DepthRow* out, std::size_t n) const;
  /// Sum of sizes over the best `n` levels, as a 128-bit integer (no overflow).
  Int128 total_size(std::size_t n) const;

  std::size_t memory_bytes() const;
  bool check_invariants() const;

 private:
  // Ticks beyond this leave no room for a window below INT64_MAX.
  static constexpr Price kMaxTick = Price{1} << 52;

  struct Slot {
    Qty size;
    std::int32_t count;
  };

  Price price_at(std::uint32_t i) const { return ladder_.key_at(i) * tick_; }
  bool in_window(Price p) const { return p % tick_ == 0 && ladder_.contains(p / tick_); }
  bool better(Price a, Price b) const { return is_bid_ ? a > b : a < b; }

  void recompute_best();
  /// Moves the window so that `best` sits near its better end, on a grid of
  /// `new_tick` (which must divide the current tick).
  void recentre(Price best, Price new_tick);
  void refine_tick(Price price);
  /// Counts an update that missed the window; widens the window (and returns
  /// true) when such misses near the touch are a large share of recent updates.
  bool note_far(Price q);
  bool grow();

  bool is_bid_;
  Price tick_;
  Ladder<Slot> ladder_;
  FarLevels far_;
  bool has_best_ = false;
  Price best_ = 0;
  std::uint32_t best_i_ = 0;    // slot of best_, kept so that reading the touch needs no division
  std::uint32_t ops_ = 0;       // updates since the last growth check
  std::uint32_t far_near_ = 0;  // of which missed the window within reach of a wider one
};

/// What L2Book::apply records after each event besides the book itself; a null
/// pointer records nothing.
struct ApplyRecord {
  BboRow* bbo = nullptr;
  /// 2 * levels rows per event: the bids' best `levels`, then the asks', best
  /// first; rows past a side's depth are zero.
  DepthRow* depth = nullptr;
  BookFeatures* features = nullptr;
  /// Depth rows per side, and the levels microprice and imbalance read (>= 1).
  std::size_t levels = 10;
};

class L2Book {
 public:
  /// `tick` is a hint: prices are expected to be multiples of it (in mantissa
  /// units). A wrong hint costs speed, never correctness.
  explicit L2Book(int price_exp = 0, int size_exp = 0, Price tick = 1);

  int price_exp() const { return price_exp_; }
  int size_exp() const { return size_exp_; }

  /// Sets the size of a level; 0 removes it. Returns false when a removal found
  /// no level (counted in unknown_deletes()). Throws InvalidInput for negative
  /// values.
  bool update(Side side, Price price, Qty size, std::int32_t count = 0);

  /// Checks every event first, then applies all of them (all or nothing).
  /// When bbo_out is not null it receives the best bid and ask after each event.
  /// Throws InvalidInput naming the first bad event; the book is then unchanged.
  /// Each event is checked again as it is applied, from the same bytes that are
  /// applied, so a buffer written by another thread during the call can never
  /// put a bad value into the book: such an event throws InvalidInput (its
  /// message says it changed) with the events before it applied.
  void apply(const LevelEvent* events, std::size_t n, BboRow* bbo_out);
  /// The same, recording depth and features too (book_features.cpp). Throws
  /// InvalidInput for record.levels == 0 before anything is applied.
  void apply(const LevelEvent* events, std::size_t n, const ApplyRecord& record);

  /// Replaces the whole book with the given levels (sizes must be positive).
  void load_snapshot(const DepthRow* bids, std::size_t nb, const DepthRow* asks, std::size_t na);
  void clear();
  /// Keeps the best `n` levels of each side (venues with a depth window).
  std::size_t truncate(std::size_t n) { return bids_.truncate(n) + asks_.truncate(n); }
  /// New grid hint for both sides (see BookSide::set_tick).
  void set_tick(Price tick);
  /// The grid both sides currently use (the hint, refined by the data).
  Price tick() const { return std::gcd(bids_.tick(), asks_.tick()); }

  const BookSide& side(Side s) const { return s == Side::Bid ? bids_ : asks_; }
  std::size_t size() const { return bids_.size() + asks_.size(); }
  bool is_crossed() const {
    return !bids_.empty() && !asks_.empty() && bids_.best_price() >= asks_.best_price();
  }
  BboRow bbo() const;

  /// (best bid + best ask) / 2 in price mantissa units; nullopt if a side is empty.
  std::optional<double> mid() const;
  std::optional<Price> spread() const;
  /// Size-weighted mid: bid * ask_size + ask * bid_size over the two sizes.
  std::optional<double> microprice() const;
  /// (bid size - ask size) / (bid size + ask size) over the best n levels.
  std::optional<double> imbalance(std::size_t n) const;
  /// Walks `book_side` from the touch until `size` is filled or the side ends.
  FillEstimate cost_to_fill(Side book_side, Qty size) const;

  std::uint64_t unknown_deletes() const { return unknown_deletes_; }
  /// For deserialisation: the counter travels with a pickled book.
  void restore_unknown_deletes(std::uint64_t n) { unknown_deletes_ = n; }
  std::size_t memory_bytes() const;
  /// Throws InvariantViolation describing the first broken invariant.
  void check_invariants() const;

 private:
  void check_event(const LevelEvent& e, std::size_t index, const char* note = "") const;
  void apply_one(const LevelEvent& e);
  /// Event i read once more, into a local, and checked again: see apply().
  LevelEvent recheck(const LevelEvent* events, std::size_t i) const;
  /// Features of the book as it is, `before` being the BBO before the last event
  /// (the order-flow imbalance is the change from it), with the top-n sizes summed.
  BookFeatures features(const BboRow& before, const BboRow& now, Int128 bid_total,
                        Int128 ask_total) const;

  int price_exp_;
  int size_exp_;
  BookSide bids_;
  BookSide asks_;
  std::uint64_t unknown_deletes_ = 0;
};

template <class Visit>
void BookSide::for_each(Visit&& visit) const {
  if (!has_best_) return;
  for (std::int64_t i = best_i_; i >= 0; i = ladder_.next_worse(i)) {
    const auto u = static_cast<std::uint32_t>(i);
    if (!visit(Level{price_at(u), ladder_[u].size, ladder_[u].count})) return;
  }
  far_.for_each(is_bid_, [&](const LevelEntry& e) { return visit(Level{e.price, e.size, e.count}); });
}

}  // namespace crossbook
