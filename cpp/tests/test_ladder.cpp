// The ladder shared by the L2 book's sides and the order book's level index:
// slot bookkeeping, scans toward worse prices, and a rebase that moves live
// slots without losing or duplicating any. Also: an empty order book, like an
// empty L2 book, holds no ladder until its first level.
#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "crossbook/ladder.hpp"
#include "crossbook/order_book.hpp"

namespace {

using namespace crossbook;

constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;

std::vector<std::pair<Price, std::uint32_t>> live(const Ladder<std::uint32_t>& l) {
  std::vector<std::pair<Price, std::uint32_t>> out;
  l.for_each_live([&](std::uint32_t i, std::uint32_t s) { out.emplace_back(l.key_at(i), s); });
  return out;
}

TEST(Ladder, HoldsNothingUntilTheFirstRebase) {
  Ladder<std::uint32_t> l(true, 64, kEmpty);
  EXPECT_EQ(l.heap_bytes(), 0u);
  EXPECT_FALSE(l.contains(0));
  l.rebase(l.placement(100, 1'000), [](auto&& place) { place(Price{100}, 7u); });
  EXPECT_EQ(l.span(), 64u);
  EXPECT_TRUE(l.contains(100));
  EXPECT_EQ(l[l.index(100)], 7u);
  EXPECT_EQ(l.live(), 1u);
}

TEST(Ladder, PutRemoveAndScansTowardWorse) {
  for (const bool is_bid : {true, false}) {
    Ladder<std::uint32_t> l(is_bid, 128, kEmpty);
    l.rebase(0, [](auto&&) {});
    EXPECT_TRUE(l.put(5, 1));
    EXPECT_FALSE(l.put(5, 2));  // overwrite, not a new level
    EXPECT_TRUE(l.put(70, 3));
    EXPECT_TRUE(l.put(127, 4));
    EXPECT_EQ(l.live(), 3u);
    if (is_bid) {
      EXPECT_EQ(l.next_worse(127), 70);
      EXPECT_EQ(l.next_worse(70), 5);
      EXPECT_EQ(l.next_worse(5), -1);
    } else {
      EXPECT_EQ(l.next_worse(5), 70);
      EXPECT_EQ(l.next_worse(70), 127);
      EXPECT_EQ(l.next_worse(127), -1);
    }
    EXPECT_TRUE(l.remove(70));
    EXPECT_FALSE(l.remove(70));
    EXPECT_EQ(l[70], kEmpty);  // lookups may read a slot without its bit
    l.clear();
    EXPECT_EQ(l.live(), 0u);
    EXPECT_EQ(l[5], kEmpty);
    EXPECT_EQ(l[127], kEmpty);
  }
}

TEST(Ladder, PlacementLeavesAQuarterForImprovementAndFitsBelowTheMaximum) {
  Ladder<std::uint32_t> bid(true, 64, kEmpty), ask(false, 64, kEmpty);
  EXPECT_EQ(bid.placement(1'000, 1'000'000), 1'000 - 47);  // 16 slots above the touch
  EXPECT_EQ(ask.placement(1'000, 1'000'000), 1'000 - 16);  // 16 slots below it
  EXPECT_EQ(ask.placement(3, 1'000'000), 0);
  EXPECT_EQ(bid.placement(1'000'000, 1'000'000), 1'000'000 - 63);
}

TEST(Ladder, RebaseMovesLiveSlotsAndLeavesTheSpareClean) {
  Ladder<std::uint32_t> l(false, 64, kEmpty);
  l.rebase(0, [](auto&& place) {
    for (Price k = 0; k < 64; k += 9) place(k, static_cast<std::uint32_t>(k));
  });
  // Shift by 30: keys 36..63 stay, the rest are handed elsewhere by the caller.
  std::vector<Price> spilled;
  l.rebase(30, [&](auto&& place) {
    l.for_each_live([&](std::uint32_t i, std::uint32_t s) {
      const Price k = l.key_at(i);
      if (k >= 30) place(k, s); else spilled.push_back(k);
    });
  });
  EXPECT_EQ(spilled, (std::vector<Price>{0, 9, 18, 27}));
  EXPECT_EQ(live(l), (std::vector<std::pair<Price, std::uint32_t>>{{36, 36}, {45, 45}, {54, 54},
                                                                    {63, 63}}));
  // Back again: the old window's slots must not leak into the new one.
  l.rebase(0, [&](auto&& place) { place(Price{1}, 1u); });
  EXPECT_EQ(live(l), (std::vector<std::pair<Price, std::uint32_t>>{{1, 1}}));
  for (std::uint32_t i = 0; i < 64; ++i)
    if (i != 1) EXPECT_EQ(l[i], kEmpty) << i;
}

TEST(Ladder, WideningTakesEffectAtTheNextRebase) {
  Ladder<std::uint32_t> l(true, 64, kEmpty);
  l.rebase(0, [](auto&& place) { place(Price{10}, 1u); });
  l.set_width(256);
  EXPECT_FALSE(l.contains(100));
  l.rebase(0, [&](auto&& place) {
    l.for_each_live([&](std::uint32_t i, std::uint32_t s) { place(l.key_at(i), s); });
    place(Price{200}, 2u);
  });
  EXPECT_EQ(l.span(), 256u);
  EXPECT_EQ(live(l), (std::vector<std::pair<Price, std::uint32_t>>{{10, 1}, {200, 2}}));
}

TEST(Ladder, RefusesAWidthThatIsNotAPowerOfTwo) {
  EXPECT_THROW(Ladder<std::uint32_t>(true, 100, kEmpty), std::invalid_argument);
  EXPECT_THROW(Ladder<std::uint32_t>(true, 32, kEmpty), std::invalid_argument);
}

TEST(OrderBookLazy, AnEmptyBookHoldsNoLadder) {
  OrderBook b;
  const std::size_t empty = b.memory_bytes();
  EXPECT_LT(empty, 1024u);
  b.add(1, Side::Bid, 100, 5);
  EXPECT_GT(b.memory_bytes(), empty + 4096 * sizeof(std::uint32_t));
  b.check_invariants();
}

}  // namespace
