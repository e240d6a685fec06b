// The price ladder near the touch, shared by the L2 book's sides (a slot holds a
// level's size) and the order book's level index (a slot holds a level record).
//
// A power-of-two window of slots, one per key (a price in ticks), with an
// occupancy bitmap to find the next live slot in a few word scans. The owner
// keeps the levels outside the window and the best price, and moves the window
// (rebase) so that its best price stays inside: then every level outside is
// worse than every level inside.
//
// The slots (width * sizeof(Slot), about 64 KB for an L2 side) are allocated by
// the first rebase, so that an empty ladder costs a few dozen bytes: a replay
// may create a book for every symbol a feed names. Until then no key is inside.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "crossbook/types.hpp"

namespace crossbook {

// Scans of the occupancy bitmap (one bit per slot).

/// Index of the highest set bit strictly below `from`, or -1. Cost: one word
/// scan per 64 empty slots.
inline std::int64_t bitmap_prev(const std::vector<std::uint64_t>& bits, std::int64_t from) {
  std::int64_t w = from >> 6;
  std::uint64_t m = bits[static_cast<std::size_t>(w)] & ((std::uint64_t{1} << (from & 63)) - 1);
  while (true) {
    if (m) return (w << 6) + 63 - __builtin_clzll(m);
    if (--w < 0) return -1;
    m = bits[static_cast<std::size_t>(w)];
  }
}

/// Index of the lowest set bit strictly above `from`, or -1.
inline std::int64_t bitmap_next(const std::vector<std::uint64_t>& bits, std::int64_t from) {
  std::int64_t w = from >> 6;
  const auto nw = static_cast<std::int64_t>(bits.size());
  // 2 << 63 wraps to 0 for an unsigned shift, which keeps no bit of the word: as wanted.
  std::uint64_t m = bits[static_cast<std::size_t>(w)] & ~((std::uint64_t{2} << (from & 63)) - 1);
  while (true) {
    if (m) return (w << 6) + __builtin_ctzll(m);
    if (++w >= nw) return -1;
    m = bits[static_cast<std::size_t>(w)];
  }
}

template <class Slot>
class Ladder {
 public:
  static constexpr std::uint32_t kDefaultWidth = 4096;

  /// An empty slot holds `empty` (lookups may read a slot without its bit).
  Ladder(bool is_bid, std::uint32_t width, Slot empty)
      : is_bid_(is_bid), width_(width), empty_(empty) {
    if (width < 64 || (width & (width - 1)) != 0)
      throw std::invalid_argument("ladder width must be a power of two >= 64");
  }

  std::uint32_t width() const { return width_; }
  /// Key of slot 0.
  Price base() const { return base_; }
  std::uint32_t live() const { return live_; }
  /// Slots allocated: 0 before the first rebase.
  std::uint32_t span() const { return span_; }

  bool contains(Price key) const {
    return static_cast<std::uint64_t>(key - base_) < static_cast<std::uint64_t>(span_);
  }
  /// Precondition: contains(key).
  std::uint32_t index(Price key) const { return static_cast<std::uint32_t>(key - base_); }
  Price key_at(std::uint32_t i) const { return base_ + static_cast<Price>(i); }
  bool occupied(std::uint32_t i) const { return (bits_[i >> 6] >> (i & 63)) & 1u; }
  const Slot& operator[](std::uint32_t i) const { return slots_[i]; }

  /// Fills slot `i`; returns true when it was empty.
  bool put(std::uint32_t i, const Slot& s) {
    std::uint64_t& word = bits_[i >> 6];
    const std::uint64_t mask = std::uint64_t{1} << (i & 63);
    const bool fresh = !(word & mask);
    live_ += fresh ? 1 : 0;
    word |= mask;
    slots_[i] = s;
    return fresh;
  }
  /// Empties slot `i`; returns false when it was already empty.
  bool remove(std::uint32_t i) {
    std::uint64_t& word = bits_[i >> 6];
    const std::uint64_t mask = std::uint64_t{1} << (i & 63);
    if (!(word & mask)) return false;
    word &= ~mask;
    --live_;
    slots_[i] = empty_;
    return true;
  }

  /// Index of the best live slot strictly worse than `from`; -1 when none.
  std::int64_t next_worse(std::int64_t from) const {
    // Worse is a lower slot for bids, a higher one for asks.
    return is_bid_ ? bitmap_prev(bits_, from) : bitmap_next(bits_, from);
  }

  /// Visits live slots in index order: `visit(i, slot)`.
  template <class Visit>
  void for_each_live(Visit&& visit) const {
    for_each_bit(bits_, [&](std::uint32_t i) { visit(i, slots_[i]); });
  }

  /// Empties every slot; the window stays where it is. O(width / 64 + live).
  void clear() {
    empty_slots(slots_, bits_);
    live_ = 0;
  }

  /// Moves an empty window to `base` (a new tick leaves the old base meaningless).
  void reset(Price base) { base_ = base; }

  /// Takes effect at the next rebase.
  void set_width(std::uint32_t width) { width_ = width; }

  /// Where a window holding the touch `best` starts: the touch sits a quarter of
  /// the window in from the better end, which leaves room to improve and three
  /// quarters of the window for depth. `max_key` is the largest key a slot may
  /// hold.
  Price placement(Price best, Price max_key) const {
    const Price w = static_cast<Price>(width_);
    const Price room_better = w / 4;
    const Price offset = is_bid_ ? w - 1 - room_better : room_better;
    const Price base = best < offset ? 0 : best - offset;
    return std::min(base, max_key - (w - 1));
  }

  /// Moves the window to start at `base`, `width()` slots wide. `fill(place)`
  /// must call `place(key, slot)` for each level the new window holds (keys in
  /// [base, base + width)), and may read the old window through this ladder
  /// meanwhile. Allocates only when the width changed (or on first use).
  template <class Fill>
  void rebase(Price base, Fill&& fill) {
    if (spare_slots_.size() != width_) {
      spare_slots_.assign(width_, empty_);
      spare_bits_.assign(width_ / 64, 0);
    } else {
      empty_slots(spare_slots_, spare_bits_);
    }
    std::uint32_t placed = 0;
    fill([&](Price key, const Slot& s) {
      const auto j = static_cast<std::uint32_t>(key - base);
      std::uint64_t& word = spare_bits_[j >> 6];
      const std::uint64_t mask = std::uint64_t{1} << (j & 63);
      placed += (word & mask) ? 0 : 1;
      word |= mask;
      spare_slots_[j] = s;
    });
    slots_.swap(spare_slots_);
    bits_.swap(spare_bits_);
    base_ = base;
    live_ = placed;
    span_ = width_;
  }

  /// Heap bytes held (the window and its re-centring scratch).
  std::size_t heap_bytes() const {
    return (slots_.capacity() + spare_slots_.capacity()) * sizeof(Slot) +
           (bits_.capacity() + spare_bits_.capacity()) * sizeof(std::uint64_t);
  }

 private:
  template <class Visit>
  static void for_each_bit(const std::vector<std::uint64_t>& bits, Visit&& visit) {
    for (std::size_t w = 0; w < bits.size(); ++w)
      for (std::uint64_t m = bits[w]; m; m &= m - 1)
        visit(static_cast<std::uint32_t>((w << 6) + static_cast<std::size_t>(__builtin_ctzll(m))));
  }
  void empty_slots(std::vector<Slot>& slots, std::vector<std::uint64_t>& bits) const {
    for_each_bit(bits, [&](std::uint32_t i) { slots[i] = empty_; });
    std::fill(bits.begin(), bits.end(), 0);
  }

  bool is_bid_;
  std::uint32_t width_;
  std::uint32_t span_ = 0;
  std::uint32_t live_ = 0;
  Price base_ = 0;
  Slot empty_;
  std::vector<Slot> slots_;
  std::vector<std::uint64_t> bits_;
  // The previous window, kept so that re-centring does not allocate.
  std::vector<Slot> spare_slots_;
  std::vector<std::uint64_t> spare_bits_;
};

}  // namespace crossbook
