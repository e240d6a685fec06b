#include "crossbook/far_levels.hpp"

#include <algorithm>

namespace crossbook {

FarLevels::FarLevels(const FarLevels& other) : first_(other.first_), size_(other.size_) {
  blocks_.reserve(other.blocks_.size());
  for (const auto& b : other.blocks_) blocks_.push_back(std::make_unique<Block>(*b));
}

FarLevels& FarLevels::operator=(const FarLevels& other) {
  if (this != &other) {
    FarLevels tmp(other);
    *this = std::move(tmp);
  }
  return *this;
}

std::size_t FarLevels::block_for(Price price) const {
  auto it = std::upper_bound(first_.begin(), first_.end(), price);
  return it == first_.begin() ? 0 : static_cast<std::size_t>(it - first_.begin()) - 1;
}

const LevelEntry* FarLevels::find(Price price) const {
  if (empty()) return nullptr;
  const Block& b = *blocks_[block_for(price)];
  const LevelEntry* end = b.e + b.n;
  const LevelEntry* it =
      std::lower_bound(b.e, end, price, [](const LevelEntry& e, Price p) { return e.price < p; });
  return (it != end && it->price == price) ? it : nullptr;
}

void FarLevels::set(Price price, Qty size, std::int32_t count) {
  if (blocks_.empty()) {
    blocks_.push_back(std::make_unique<Block>());
    first_.push_back(price);
  }
  std::size_t bi = block_for(price);
  Block* b = blocks_[bi].get();
  auto pos = static_cast<std::size_t>(
      std::lower_bound(b->e, b->e + b->n, price,
                       [](const LevelEntry& e, Price p) { return e.price < p; }) -
      b->e);
  if (pos < b->n && b->e[pos].price == price) {
    b->e[pos].size = size;
    b->e[pos].count = count;
    return;
  }
  if (b->n == kBlockCap) {
    // Split in half so that both halves have room; the new level goes to whichever owns it.
    auto right = std::make_unique<Block>();
    const std::size_t half = kBlockCap / 2;
    std::copy(b->e + half, b->e + kBlockCap, right->e);
    right->n = static_cast<std::uint32_t>(kBlockCap - half);
    b->n = static_cast<std::uint32_t>(half);
    const Price right_first = right->e[0].price;
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(bi + 1), std::move(right));
    first_.insert(first_.begin() + static_cast<std::ptrdiff_t>(bi + 1), right_first);
    if (pos > half) {
      ++bi;
      pos -= half;
      b = blocks_[bi].get();
    }
  }
  std::copy_backward(b->e + pos, b->e + b->n, b->e + b->n + 1);
  b->e[pos] = LevelEntry{price, size, count};
  ++b->n;
  first_[bi] = b->e[0].price;
  ++size_;
}

void FarLevels::remove_at(std::size_t bi, std::size_t i) {
  Block& b = *blocks_[bi];
  std::copy(b.e + i + 1, b.e + b.n, b.e + i);
  --b.n;
  --size_;
  if (b.n == 0) {
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(bi));
    first_.erase(first_.begin() + static_cast<std::ptrdiff_t>(bi));
    return;
  }
  first_[bi] = b.e[0].price;
  // Merge a thin block into its right neighbour so that memory stays near 30 B a level
  // however levels are deleted.
  if (b.n < kBlockCap / 4 && bi + 1 < blocks_.size() &&
      b.n + blocks_[bi + 1]->n <= kBlockCap * 3 / 4) {
    Block& r = *blocks_[bi + 1];
    std::copy_backward(r.e, r.e + r.n, r.e + r.n + b.n);
    std::copy(b.e, b.e + b.n, r.e);
    r.n += b.n;
    first_[bi + 1] = r.e[0].price;
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(bi));
    first_.erase(first_.begin() + static_cast<std::ptrdiff_t>(bi));
  }
}

bool FarLevels::erase(Price price) {
  if (empty()) return false;
  const std::size_t bi = block_for(price);
  const Block& b = *blocks_[bi];
  const LevelEntry* it = std::lower_bound(
      b.e, b.e + b.n, price, [](const LevelEntry& e, Price p) { return e.price < p; });
  if (it == b.e + b.n || it->price != price) return false;
  remove_at(bi, static_cast<std::size_t>(it - b.e));
  return true;
}

void FarLevels::clear() {
  blocks_.clear();
  first_.clear();
  size_ = 0;
}

std::size_t FarLevels::memory_bytes() const {
  return blocks_.capacity() * sizeof(void*) + first_.capacity() * sizeof(Price) +
         blocks_.size() * sizeof(Block);
}

bool FarLevels::check() const {
  if (blocks_.size() != first_.size()) return false;
  std::size_t total = 0;
  bool have_prev = false;
  Price prev = 0;
  for (std::size_t bi = 0; bi < blocks_.size(); ++bi) {
    const Block& b = *blocks_[bi];
    if (b.n == 0 || b.n > kBlockCap || first_[bi] != b.e[0].price) return false;
    for (std::size_t i = 0; i < b.n; ++i) {
      if (b.e[i].size <= 0) return false;
      if (have_prev && b.e[i].price <= prev) return false;
      prev = b.e[i].price;
      have_prev = true;
    }
    total += b.n;
  }
  return total == size_;
}

}  // namespace crossbook
