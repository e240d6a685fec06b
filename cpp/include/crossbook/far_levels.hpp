// Ordered store for price levels outside the ladder window.
//
// A sorted sequence of fixed-capacity blocks (a two-level B-tree without the
// tree): about 30 bytes a level instead of the 64 of a std::map node, and
// lookups that binary-search one contiguous vector of block minima. Far levels
// are touched rarely, so the memmove inside a block costs little.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "crossbook/types.hpp"

namespace crossbook {

struct LevelEntry {
  Price price;
  Qty size;
  std::int32_t count;
};

class FarLevels {
 public:
  static constexpr std::size_t kBlockCap = 128;

  FarLevels() = default;
  FarLevels(const FarLevels& other);
  FarLevels& operator=(const FarLevels& other);
  FarLevels(FarLevels&&) noexcept = default;
  FarLevels& operator=(FarLevels&&) noexcept = default;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  /// Pointer to the level at `price`, or nullptr. O(log n).
  const LevelEntry* find(Price price) const;
  /// Inserts or overwrites a level. O(log n + block).
  void set(Price price, Qty size, std::int32_t count);
  /// Removes a level; false when there was none. O(log n + block).
  bool erase(Price price);
  void clear();

  /// Lowest and highest level; preconditions: !empty().
  const LevelEntry& front() const { return blocks_.front()->e[0]; }
  const LevelEntry& back() const {
    const Block& b = *blocks_.back();
    return b.e[b.n - 1];
  }

  /// Removes every level with lo <= price <= hi, handing each to `sink` in
  /// ascending order. (Inclusive so that a window ending at INT64_MAX needs no
  /// overflowing bound.)
  template <class Sink>
  void extract_range(Price lo, Price hi, Sink&& sink);

  /// Visits levels best first: descending when `descending`, else ascending.
  /// `visit` returns false to stop.
  template <class Visit>
  void for_each(bool descending, Visit&& visit) const;

  std::size_t memory_bytes() const;
  /// Sorted, no duplicates, no empty blocks, minima index in step.
  bool check() const;

 private:
  struct Block {
    std::uint32_t n = 0;
    LevelEntry e[kBlockCap];
  };

  std::size_t block_for(Price price) const;  // index of the block that would hold price
  void remove_at(std::size_t bi, std::size_t i);

  std::vector<std::unique_ptr<Block>> blocks_;
  std::vector<Price> first_;  // first_[i] == blocks_[i]->e[0].price
  std::size_t size_ = 0;
};

template <class Sink>
void FarLevels::extract_range(Price lo, Price hi, Sink&& sink) {
  if (empty() || lo > hi) return;
  std::size_t bi = block_for(lo);
  while (bi < blocks_.size()) {
    Block& b = *blocks_[bi];
    std::size_t i = 0;
    while (i < b.n && b.e[i].price < lo) ++i;
    std::size_t j = i;
    while (j < b.n && b.e[j].price <= hi) sink(b.e[j++]);
    if (i == j) {
      if (i < b.n) return;  // this block already starts past hi
      ++bi;
      continue;
    }
    const std::size_t removed = j - i;
    for (std::size_t k = j; k < b.n; ++k) b.e[k - removed] = b.e[k];
    b.n -= static_cast<std::uint32_t>(removed);
    size_ -= removed;
    const bool reached_end = j < b.n + removed;  // a level > hi stays in this block
    if (b.n == 0) {
      blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(bi));
      first_.erase(first_.begin() + static_cast<std::ptrdiff_t>(bi));
    } else {
      first_[bi] = b.e[0].price;
      ++bi;
    }
    if (reached_end) return;
  }
}

template <class Visit>
void FarLevels::for_each(bool descending, Visit&& visit) const {
  if (descending) {
    for (std::size_t bi = blocks_.size(); bi-- > 0;) {
      const Block& b = *blocks_[bi];
      for (std::size_t i = b.n; i-- > 0;)
        if (!visit(b.e[i])) return;
    }
  } else {
    for (const auto& bp : blocks_)
      for (std::size_t i = 0; i < bp->n; ++i)
        if (!visit(bp->e[i])) return;
  }
}

}  // namespace crossbook
