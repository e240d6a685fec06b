// Scans of an occupancy bitmap (one bit per ladder slot), shared by the L2 book's
// sides and the order book's level index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace crossbook {

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

}  // namespace crossbook
