#include "crossbook/level_index.hpp"

#include <iterator>
#include <limits>
#include <string>

namespace crossbook::detail {

namespace {
constexpr Price kMaxPrice = std::numeric_limits<Price>::max();
}  // namespace

LevelIndex::LevelIndex(bool is_bid, std::uint32_t width)
    : is_bid_(is_bid), ladder_(is_bid, width, kNil) {}

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

void LevelIndex::recompute_best() {
  const std::int64_t j = ladder_.next_worse(ladder_.index(best_));
  if (j >= 0) {
    best_ = ladder_.key_at(static_cast<std::uint32_t>(j));
    best_level_ = ladder_[static_cast<std::uint32_t>(j)];
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

// `best` is not stored anywhere yet. Window levels that fall outside the new
// window go to the far map.
void LevelIndex::recentre(Price best, std::uint32_t best_level) {
  const Price nb = ladder_.placement(best, kMaxPrice);
  const Price hi = nb + static_cast<Price>(ladder_.width() - 1);
  ladder_.rebase(nb, [&](auto&& place) {
    ladder_.for_each_live([&](std::uint32_t i, std::uint32_t level) {
      const Price p = ladder_.key_at(i);
      if (p >= nb && p <= hi)
        place(p, level);
      else
        far_.emplace(p, level);
    });
    for (auto it = far_.lower_bound(nb); it != far_.end() && it->first <= hi;) {
      place(it->first, it->second);
      it = far_.erase(it);
    }
    place(best, best_level);
  });
  best_ = best;
  best_level_ = best_level;
}

void LevelIndex::clear() {
  ladder_.clear();
  far_.clear();
  best_level_ = kNil;
}

std::size_t LevelIndex::memory_bytes() const {
  // A std::map node: three pointers, a colour word, the key and value.
  constexpr std::size_t kMapNode = 4 * sizeof(void*) + sizeof(Price) + sizeof(std::uint64_t);
  return sizeof(*this) + ladder_.heap_bytes() + far_.size() * kMapNode;
}

}  // namespace crossbook::detail
