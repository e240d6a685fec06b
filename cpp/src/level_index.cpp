#include "crossbook/level_index.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "crossbook/bitmap.hpp"

namespace crossbook::detail {

namespace {
constexpr Price kMaxPrice = std::numeric_limits<Price>::max();
}  // namespace

LevelIndex::LevelIndex(bool is_bid, std::uint32_t width)
    : is_bid_(is_bid),
      width_(width),
      slots_(width, kNil),
      bits_(width / 64),
      spare_slots_(width, kNil) {
  if (width < 64 || (width & (width - 1)) != 0)
    throw std::invalid_argument("ladder width must be a power of two >= 64");
}

void LevelIndex::fail(const char* what) const {
  throw InvariantViolation(std::string(is_bid_ ? "bid" : "ask") + " levels: " + what);
}

std::uint32_t LevelIndex::find_far(Price price) const {
  const auto it = far_.find(price);
  return it == far_.end() ? kNil : it->second;
}

void LevelIndex::insert_far(Price price, std::uint32_t level) {
  if (best_level_ == kNil || better(price, best_)) {
    recentre(price, level);
    return;
  }
  far_.emplace(price, level);
}

void LevelIndex::erase_far(Price price) { far_.erase(price); }

std::int64_t LevelIndex::next_worse(std::int64_t from) const {
  // Worse is a lower slot for bids, a higher one for asks.
  return is_bid_ ? bitmap_prev(bits_, from) : bitmap_next(bits_, from);
}

void LevelIndex::recompute_best() {
  const std::int64_t j = next_worse(index_of(best_));
  if (j >= 0) {
    best_ = base_ + j;
    best_level_ = slots_[static_cast<std::size_t>(j)];
  } else if (!far_.empty()) {
    const auto it = is_bid_ ? std::prev(far_.end()) : far_.begin();
    const Price p = it->first;
    const std::uint32_t level = it->second;
    far_.erase(it);
    recentre(p, level);
  } else {
    best_level_ = kNil;
  }
}

// Moves the window so that `best` (not stored anywhere yet) sits a quarter of
// the window in from the better end: room to improve, and three quarters of
// the window for depth. Window levels that fall outside go to the far map.
void LevelIndex::recentre(Price best, std::uint32_t best_level) {
  const Price room_better = static_cast<Price>(width_ / 4);
  const Price offset = is_bid_ ? static_cast<Price>(width_) - 1 - room_better : room_better;
  Price nb = best < offset ? 0 : best - offset;
  nb = std::min(nb, kMaxPrice - static_cast<Price>(width_ - 1));
  const Price hi = nb + static_cast<Price>(width_ - 1);

  std::fill(spare_slots_.begin(), spare_slots_.end(), kNil);
  for (std::size_t w = 0; w < bits_.size(); ++w) {
    for (std::uint64_t m = bits_[w]; m; m &= m - 1) {
      const auto i = static_cast<std::uint32_t>((w << 6) + __builtin_ctzll(m));
      const Price p = base_ + static_cast<Price>(i);
      if (p >= nb && p <= hi)
        spare_slots_[static_cast<std::size_t>(p - nb)] = slots_[i];
      else
        far_.emplace(p, slots_[i]);
    }
  }
  for (auto it = far_.lower_bound(nb); it != far_.end() && it->first <= hi;) {
    spare_slots_[static_cast<std::size_t>(it->first - nb)] = it->second;
    it = far_.erase(it);
  }
  spare_slots_[static_cast<std::size_t>(best - nb)] = best_level;
  slots_.swap(spare_slots_);
  base_ = nb;
  live_ = 0;
  std::fill(bits_.begin(), bits_.end(), 0);
  for (std::uint32_t i = 0; i < width_; ++i) {
    if (slots_[i] == kNil) continue;
    bits_[i >> 6] |= std::uint64_t{1} << (i & 63);
    ++live_;
  }
  best_ = best;
  best_level_ = best_level;
}

void LevelIndex::clear() {
  std::fill(slots_.begin(), slots_.end(), kNil);
  std::fill(bits_.begin(), bits_.end(), 0);
  live_ = 0;
  far_.clear();
  best_level_ = kNil;
}

std::size_t LevelIndex::memory_bytes() const {
  // A std::map node: three pointers, a colour word, the key and value.
  constexpr std::size_t kMapNode = 4 * sizeof(void*) + sizeof(Price) + sizeof(std::uint64_t);
  return sizeof(*this) + (slots_.capacity() + spare_slots_.capacity()) * sizeof(std::uint32_t) +
         bits_.capacity() * sizeof(std::uint64_t) + far_.size() * kMapNode;
}

}  // namespace crossbook::detail
