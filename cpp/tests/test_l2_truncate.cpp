// L2Book::truncate: what venues with a depth window (Kraken, OKX books5, ...)
// need after every message. Checked against a std::map reference, across the
// ladder window and the far store.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "crossbook/l2_book.hpp"

namespace {

using namespace crossbook;

std::vector<Price> prices(const BookSide& s) {
  std::vector<Price> out;
  s.for_each([&](const Level& l) {
    out.push_back(l.price);
    return true;
  });
  return out;
}

TEST(L2Truncate, KeepsTheBestLevelsOfEachSide) {
  L2Book b;
  for (Price p = 100; p < 110; ++p) b.update(Side::Bid, p, 1);
  for (Price p = 200; p < 205; ++p) b.update(Side::Ask, p, 1);
  EXPECT_EQ(b.truncate(3), 7u + 2u);
  EXPECT_EQ(prices(b.side(Side::Bid)), (std::vector<Price>{109, 108, 107}));
  EXPECT_EQ(prices(b.side(Side::Ask)), (std::vector<Price>{200, 201, 202}));
  EXPECT_EQ(b.truncate(3), 0u);
  EXPECT_EQ(b.truncate(0), 6u);
  EXPECT_EQ(b.size(), 0u);
  b.check_invariants();
}

TEST(L2Truncate, CutsThroughTheFarStore) {
  L2Book b;
  // Levels 10,000 ticks apart: all but the touch live outside the ladder window.
  for (Price k = 0; k < 500; ++k) b.update(Side::Ask, 1'000'000 + k * 10'000, k + 1);
  EXPECT_EQ(b.truncate(7), 493u);
  std::vector<Price> want;
  for (Price k = 0; k < 7; ++k) want.push_back(1'000'000 + k * 10'000);
  EXPECT_EQ(prices(b.side(Side::Ask)), want);
  b.check_invariants();
}

TEST(L2Truncate, RandomizedAgainstStdMap) {
  std::mt19937_64 rng(20261121);
  L2Book b;
  std::map<Price, Qty, std::greater<>> bids;
  for (int step = 0; step < 20'000; ++step) {
    const Price p = static_cast<Price>(rng() % 20'000) * ((rng() % 8 == 0) ? 997 : 1);
    const Qty q = static_cast<Qty>(rng() % 4);
    b.update(Side::Bid, p, q);
    if (q) bids[p] = q; else bids.erase(p);
    if (step % 50 == 0) {
      const std::size_t n = rng() % 300;
      const std::size_t want_removed = bids.size() > n ? bids.size() - n : 0;
      ASSERT_EQ(b.truncate(n), want_removed);
      while (bids.size() > n) bids.erase(std::prev(bids.end()));
      std::vector<Price> want;
      for (const auto& kv : bids) want.push_back(kv.first);
      ASSERT_EQ(prices(b.side(Side::Bid)), want);
      b.check_invariants();
    }
  }
}

}  // namespace

namespace {

// Deep churn (most updates far from the touch but within reach of a wider window)
// widens the ladder; every level survives the move and the book stays exact.
TEST(L2Grow, DeepChurnWidensTheWindowAndKeepsEveryLevel) {
  using namespace crossbook;
  std::mt19937_64 rng(7);
  L2Book b;
  std::map<Price, Qty, std::greater<>> bids;
  const Price touch = 10'000'000;
  b.update(Side::Bid, touch, 1);
  bids[touch] = 1;
  for (int step = 0; step < 40'000; ++step) {
    const Price p = touch - 1 - static_cast<Price>(rng() % 12'000);  // mostly beyond 3,072 ticks
    const Qty q = static_cast<Qty>(rng() % 3);
    b.update(Side::Bid, p, q);
    if (q) bids[p] = q; else bids.erase(p);
  }
  EXPECT_GT(b.side(Side::Bid).width(), BookSide::kDefaultWidth);
  EXPECT_LE(b.side(Side::Bid).width(), BookSide::kMaxWidth);
  std::vector<Price> want;
  for (const auto& kv : bids) want.push_back(kv.first);
  EXPECT_EQ(prices(b.side(Side::Bid)), want);
  b.check_invariants();
}

TEST(L2Grow, QuietBookKeepsTheDefaultWindow) {
  using namespace crossbook;
  L2Book b;
  for (int k = 0; k < 50'000; ++k) b.update(Side::Ask, 1000 + k % 100, 1 + k % 7);
  EXPECT_EQ(b.side(Side::Ask).width(), BookSide::kDefaultWidth);
  b.check_invariants();
}

}  // namespace
