// Price -> level record, for one side of an order-level book.
//
// Levels near the touch sit in a Ladder (ladder.hpp) whose slots hold the index
// of a level record (which owns the level's FIFO), kNil when empty; the rest sit
// in an ordered map. Invariant: when the side is not empty its best price lies
// inside the window, so every far level is worse than every window level; the
// window re-centres to keep it so. Far levels are rarely touched by a live
// order flow, which is why a plain std::map serves for them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

#include "crossbook/ladder.hpp"
#include "crossbook/order_index.hpp"
#include "crossbook/types.hpp"

namespace crossbook::detail {

class LevelIndex {
 public:
  static constexpr std::uint32_t kDefaultWidth = Ladder<std::uint32_t>::kDefaultWidth;

  /// Precondition: width is a power of two >= 64.
  explicit LevelIndex(bool is_bid, std::uint32_t width = kDefaultWidth);

  bool empty() const { return best_level_ == kNil; }
  std::size_t size() const { return ladder_.live() + far_.size(); }
  /// Preconditions: !empty().
  Price best_price() const { return best_; }
  /// kNil when empty.
  std::uint32_t best_level() const { return best_level_; }
  bool better(Price a, Price b) const { return is_bid_ ? a > b : a < b; }

  /// Level record at `price`, or kNil. O(1) in the window, O(log n) outside.
  std::uint32_t find(Price price) const {
    return ladder_.contains(price) ? ladder_[ladder_.index(price)] : find_far(price);
  }

  /// Precondition: no level at `price`. O(1) in the window; O(log n) outside,
  /// or O(width / 64 + levels moved) when the new level becomes the touch.
  void insert(Price price, std::uint32_t level) {
    if (!ladder_.contains(price)) return insert_far(price, level);
    ladder_.put(ladder_.index(price), level);
    if (best_level_ == kNil || better(price, best_)) {
      best_ = price;
      best_level_ = level;
    }
  }

  /// Precondition: a level exists at `price`. O(1), plus a bitmap scan when
  /// the touch goes.
  void erase(Price price) {
    if (!ladder_.contains(price)) return erase_far(price);
    ladder_.remove(ladder_.index(price));
    if (price == best_) recompute_best();
  }

  void clear();

  /// Visits level records best first; `visit(std::uint32_t level)` returns
  /// false to stop.
  template <class Visit>
  void for_each(Visit&& visit) const;

  std::size_t memory_bytes() const;
  /// Throws InvariantViolation; `price_of(level)` reads a record's price.
  template <class PriceOf>
  void check(PriceOf&& price_of) const;

 private:
  std::uint32_t find_far(Price price) const;
  void insert_far(Price price, std::uint32_t level);
  void erase_far(Price price);
  void recompute_best();
  void recentre(Price best, std::uint32_t best_level);
  [[noreturn]] void fail(const char* what) const;

  bool is_bid_;
  Ladder<std::uint32_t> ladder_;  // keyed by price (a tick of 1)
  std::map<Price, std::uint32_t> far_;
  Price best_ = 0;
  std::uint32_t best_level_ = kNil;
};

template <class Visit>
void LevelIndex::for_each(Visit&& visit) const {
  if (empty()) return;
  for (std::int64_t i = ladder_.index(best_); i >= 0; i = ladder_.next_worse(i))
    if (!visit(ladder_[static_cast<std::uint32_t>(i)])) return;
  if (is_bid_) {
    for (auto it = far_.rbegin(); it != far_.rend(); ++it)
      if (!visit(it->second)) return;
  } else {
    for (const auto& e : far_)
      if (!visit(e.second)) return;
  }
}

template <class PriceOf>
void LevelIndex::check(PriceOf&& price_of) const {
  std::uint32_t counted = 0;
  for (std::uint32_t i = 0; i < ladder_.span(); ++i) {
    const bool on = ladder_.occupied(i);
    if (on != (ladder_[i] != kNil)) fail("ladder bitmap and slots disagree");
    if (!on) continue;
    ++counted;
    const Price p = ladder_.key_at(i);
    if (price_of(ladder_[i]) != p) fail("ladder slot holds a level of another price");
    if (better(p, best_)) fail("ladder level better than the cached best");
  }
  if (counted != ladder_.live()) fail("live count out of step with the bitmap");
  for (const auto& [p, level] : far_) {
    if (ladder_.contains(p)) fail("far level inside the window");
    if (price_of(level) != p) fail("far entry holds a level of another price");
    if (!better(best_, p)) fail("far level not worse than the touch");
  }
  if (size() == 0) {
    if (best_level_ != kNil) fail("empty side with a best level");
    return;
  }
  if (best_level_ == kNil) fail("non-empty side without a best level");
  if (!ladder_.contains(best_) || ladder_[ladder_.index(best_)] != best_level_)
    fail("cached best is not the live ladder level at the best price");
}

}  // namespace crossbook::detail
