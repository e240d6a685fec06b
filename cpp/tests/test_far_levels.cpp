// FarLevels: the blocked sorted store behind the ladder. Blocks split at 128
// levels and thin blocks merge, so most tests push well past one block and
// call check() after every step: a broken minima index or a stale block is
// invisible to find() on most prices but shows up there.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "crossbook/far_levels.hpp"

namespace {

using crossbook::FarLevels;
using crossbook::LevelEntry;
using crossbook::Price;
using crossbook::Qty;

constexpr Price kMax = std::numeric_limits<Price>::max();
constexpr std::size_t kCap = FarLevels::kBlockCap;

struct Val {
  Qty size;
  std::int32_t count;
  bool operator==(const Val& o) const { return size == o.size && count == o.count; }
};
using Ref = std::map<Price, Val>;

std::vector<LevelEntry> collect(const FarLevels& f, bool descending) {
  std::vector<LevelEntry> out;
  f.for_each(descending, [&](const LevelEntry& e) {
    out.push_back(e);
    return true;
  });
  return out;
}

// Full comparison: order in both directions, every entry, and find() on each price.
void expect_same(const FarLevels& f, const Ref& ref) {
  ASSERT_TRUE(f.check());
  ASSERT_EQ(f.size(), ref.size());
  ASSERT_EQ(f.empty(), ref.empty());
  const auto up = collect(f, false);
  const auto down = collect(f, true);
  ASSERT_EQ(up.size(), ref.size());
  ASSERT_EQ(down.size(), ref.size());
  std::size_t i = 0;
  for (const auto& [p, v] : ref) {
    ASSERT_EQ(up[i].price, p) << "ascending index " << i;
    ASSERT_EQ(up[i].size, v.size);
    ASSERT_EQ(up[i].count, v.count);
    ASSERT_EQ(down[ref.size() - 1 - i].price, p) << "descending index " << i;
    const LevelEntry* e = f.find(p);
    ASSERT_NE(e, nullptr) << "price " << p;
    ASSERT_EQ(e->size, v.size);
    ++i;
  }
  if (!ref.empty()) {
    ASSERT_EQ(f.front().price, ref.begin()->first);
    ASSERT_EQ(f.back().price, ref.rbegin()->first);
  }
}

std::vector<Price> extract(FarLevels& f, Price lo, Price hi) {
  std::vector<Price> got;
  f.extract_range(lo, hi, [&](const LevelEntry& e) { got.push_back(e.price); });
  return got;
}

std::vector<Price> ref_extract(Ref& ref, Price lo, Price hi) {
  std::vector<Price> want;
  if (lo > hi) return want;
  auto first = ref.lower_bound(lo);
  auto last = ref.upper_bound(hi);
  for (auto it = first; it != last; ++it) want.push_back(it->first);
  ref.erase(first, last);
  return want;
}

TEST(FarLevels, EmptyStoreAnswersEverything) {
  FarLevels f;
  EXPECT_TRUE(f.empty());
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(f.find(0), nullptr);
  EXPECT_EQ(f.find(kMax), nullptr);
  EXPECT_FALSE(f.erase(42));
  EXPECT_TRUE(extract(f, 0, kMax).empty());
  EXPECT_TRUE(collect(f, true).empty());
  EXPECT_TRUE(f.check());
  f.clear();
  EXPECT_TRUE(f.check());
}

TEST(FarLevels, SetFindOverwriteErase) {
  FarLevels f;
  f.set(100, 5, 1);
  f.set(50, 7, 2);
  f.set(100, 9, 3);  // overwrite keeps a single level
  ASSERT_TRUE(f.check());
  EXPECT_EQ(f.size(), 2u);
  const LevelEntry* e = f.find(100);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size, 9);
  EXPECT_EQ(e->count, 3);
  EXPECT_EQ(f.find(75), nullptr);
  EXPECT_EQ(f.find(49), nullptr);
  EXPECT_EQ(f.find(101), nullptr);
  EXPECT_EQ(f.front().price, 50);
  EXPECT_EQ(f.back().price, 100);
  EXPECT_FALSE(f.erase(75));
  EXPECT_TRUE(f.erase(50));
  EXPECT_FALSE(f.erase(50));
  EXPECT_TRUE(f.check());
  EXPECT_EQ(f.size(), 1u);
  EXPECT_TRUE(f.erase(100));
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(f.check());
  f.set(3, 1, 0);  // usable again after becoming empty
  EXPECT_EQ(f.front().price, 3);
  EXPECT_TRUE(f.check());
}

TEST(FarLevels, ExtremePrices) {
  FarLevels f;
  Ref ref;
  for (Price p : {kMax, Price{0}, kMax - 1, Price{1}}) {
    f.set(p, p % 7 + 1, 0);
    ref[p] = Val{p % 7 + 1, 0};
    expect_same(f, ref);
  }
  EXPECT_EQ(extract(f, kMax, kMax), std::vector<Price>{kMax});
  EXPECT_EQ(extract(f, 0, 0), std::vector<Price>{0});
  ref.erase(kMax);
  ref.erase(0);
  expect_same(f, ref);
}

TEST(FarLevels, ForEachStopsWhenVisitReturnsFalse) {
  FarLevels f;
  for (Price p = 0; p < 1000; ++p) f.set(p * 3, 1, 0);
  std::vector<Price> seen;
  f.for_each(true, [&](const LevelEntry& e) {
    seen.push_back(e.price);
    return seen.size() < 200;  // stop across a block boundary
  });
  ASSERT_EQ(seen.size(), 200u);
  EXPECT_EQ(seen.front(), 999 * 3);
  EXPECT_EQ(seen.back(), 800 * 3);
  seen.clear();
  f.for_each(false, [&](const LevelEntry& e) {
    seen.push_back(e.price);
    return false;
  });
  EXPECT_EQ(seen, std::vector<Price>{0});
}

TEST(FarLevels, ExtractRangeIsInclusiveAndAscending) {
  FarLevels f;
  Ref ref;
  for (Price p = 10; p <= 5000; p += 10) {
    f.set(p, p, 0);
    ref[p] = Val{p, 0};
  }
  struct Case {
    Price lo, hi;
  };
  // Bounds on levels, between levels, inside one block, across many blocks,
  // empty and inverted ranges, and the extremes of the type.
  for (Case c : {Case{100, 100}, Case{101, 109}, Case{200, 300}, Case{995, 2505}, Case{60, 50},
                 Case{4000, kMax}, Case{0, 15}, Case{0, kMax}}) {
    SCOPED_TRACE(testing::Message() << "[" << c.lo << ", " << c.hi << "]");
    EXPECT_EQ(extract(f, c.lo, c.hi), ref_extract(ref, c.lo, c.hi));
    expect_same(f, ref);
  }
  EXPECT_TRUE(f.empty());
}

TEST(FarLevels, ClearReleasesEverything) {
  FarLevels f;
  for (Price p = 0; p < 1000; ++p) f.set(p, 1, 0);
  const std::size_t full = f.memory_bytes();
  f.clear();
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(f.check());
  EXPECT_LT(f.memory_bytes(), full);
  f.set(5, 1, 0);
  EXPECT_EQ(f.size(), 1u);
  EXPECT_TRUE(f.check());
}

TEST(FarLevels, CopiesAreDeepAndIndependent) {
  FarLevels a;
  Ref ref;
  for (Price p = 0; p < 700; ++p) {
    a.set(p * 2, p + 1, 1);
    ref[p * 2] = Val{p + 1, 1};
  }
  FarLevels b(a);
  expect_same(b, ref);
  a.clear();
  a.set(1, 1, 1);
  expect_same(b, ref);  // b owns its blocks

  FarLevels c;
  c.set(9, 9, 9);
  c = b;
  expect_same(c, ref);
  b.erase(0);
  expect_same(c, ref);
  const FarLevels& alias = c;
  c = alias;  // self-assignment must not drop the blocks
  expect_same(c, ref);

  FarLevels moved(std::move(c));
  expect_same(moved, ref);
  FarLevels target;
  target = std::move(moved);
  expect_same(target, ref);
}

// Insert past many splits in a given order, then delete most levels (which
// triggers merges), checking the structure after every single step.
void insert_then_delete(std::vector<Price> prices, std::mt19937_64& rng) {
  FarLevels f;
  Ref ref;
  for (Price p : prices) {
    f.set(p, p % 1000 + 1, static_cast<std::int32_t>(p % 5));
    ref[p] = Val{p % 1000 + 1, static_cast<std::int32_t>(p % 5)};
    ASSERT_TRUE(f.check()) << "after set " << p;
    ASSERT_EQ(f.size(), ref.size());
  }
  expect_same(f, ref);
  const std::size_t full = f.memory_bytes();
  std::shuffle(prices.begin(), prices.end(), rng);
  const std::size_t keep = prices.size() / 20;
  for (std::size_t i = keep; i < prices.size(); ++i) {
    ASSERT_TRUE(f.erase(prices[i]));
    ref.erase(prices[i]);
    ASSERT_TRUE(f.check()) << "after erase " << prices[i];
    ASSERT_EQ(f.find(prices[i]), nullptr);
  }
  expect_same(f, ref);
  // Merging thin blocks is what keeps memory proportional to the live levels.
  EXPECT_LT(f.memory_bytes(), full / 2);
}

TEST(FarLevels, SplitsAndMergesSortedAscending) {
  std::mt19937_64 rng(1);
  std::vector<Price> prices(3000);
  std::iota(prices.begin(), prices.end(), Price{1000});
  insert_then_delete(prices, rng);
}

TEST(FarLevels, SplitsAndMergesSortedDescending) {
  std::mt19937_64 rng(2);
  std::vector<Price> prices(3000);
  for (std::size_t i = 0; i < prices.size(); ++i) prices[i] = kMax - static_cast<Price>(i) * 5;
  insert_then_delete(prices, rng);
}

TEST(FarLevels, SplitsAndMergesRandomOrder) {
  std::mt19937_64 rng(3);
  std::vector<Price> prices(4000);
  std::iota(prices.begin(), prices.end(), Price{0});
  for (auto& p : prices) p *= 7;
  std::shuffle(prices.begin(), prices.end(), rng);
  insert_then_delete(prices, rng);
}

TEST(FarLevels, SplitWhereTheNewLevelLandsAtTheBoundary) {
  // Fill exactly one block, then insert just below, at, and above the split point.
  for (std::size_t at : {std::size_t{0}, kCap / 2 - 1, kCap / 2, kCap / 2 + 1, kCap}) {
    SCOPED_TRACE(at);
    FarLevels f;
    Ref ref;
    for (std::size_t i = 0; i < kCap; ++i) {
      const Price p = static_cast<Price>(i) * 10 + 10;
      f.set(p, 1, 0);
      ref[p] = Val{1, 0};
    }
    const Price p = static_cast<Price>(at) * 10 + 5;
    f.set(p, 2, 0);
    ref[p] = Val{2, 0};
    expect_same(f, ref);
  }
}

// Prices from a few regimes: a narrow band (many overwrites and hits), a wide
// band, the extremes of the type, and anywhere at all.
Price random_price(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
    case 1:
    case 2:
      return static_cast<Price>(rng() % 2000);
    case 3:
    case 4:
      return static_cast<Price>(rng() % 200000);
    case 5:
      return kMax - static_cast<Price>(rng() % 300);
    case 6:
      return static_cast<Price>(rng() % 300);
    default:
      return static_cast<Price>(rng() >> 1);
  }
}

Price random_bound(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0:
      return 0;
    case 1:
      return kMax;
    default:
      return random_price(rng);
  }
}

void random_step(FarLevels& f, Ref& ref, std::mt19937_64& rng) {
  const unsigned op = rng() % 100;
  if (op < 50) {
    const Price p = random_price(rng);
    const Val v{static_cast<Qty>(rng() % 1000 + 1), static_cast<std::int32_t>(rng() % 50)};
    f.set(p, v.size, v.count);
    ref[p] = v;
  } else if (op < 85) {
    // Erase a live level most of the time, a random (usually absent) price otherwise.
    Price p = random_price(rng);
    if (!ref.empty() && rng() % 4 != 0) {
      auto it = ref.lower_bound(p);
      p = it == ref.end() ? ref.rbegin()->first : it->first;
    }
    ASSERT_EQ(f.erase(p), ref.erase(p) == 1) << "erase " << p;
  } else if (op < 97) {
    Price lo = random_bound(rng), hi = random_bound(rng);
    // Mostly ordered bounds and mostly narrow ones, so the store does not empty at once.
    if (rng() % 8 != 0 && lo > hi) std::swap(lo, hi);
    if (rng() % 2 == 0 && lo <= kMax - 5000) hi = lo + static_cast<Price>(rng() % 5000);
    ASSERT_EQ(extract(f, lo, hi), ref_extract(ref, lo, hi)) << "[" << lo << ", " << hi << "]";
  } else if (op < 99) {
    const Price p = random_price(rng);
    const LevelEntry* e = f.find(p);
    auto it = ref.find(p);
    ASSERT_EQ(e != nullptr, it != ref.end()) << "find " << p;
    if (e) {
      ASSERT_EQ(e->size, it->second.size);
    }
  } else if (rng() % 8 == 0) {
    f.clear();
    ref.clear();
  }
}

TEST(FarLevels, RandomizedAgainstStdMap) {
  std::mt19937_64 rng(20240611);
  FarLevels f;
  Ref ref;
  for (int step = 0; step < 30000; ++step) {
    SCOPED_TRACE(testing::Message() << "step " << step);
    ASSERT_NO_FATAL_FAILURE(random_step(f, ref, rng));
    ASSERT_TRUE(f.check());
    ASSERT_EQ(f.size(), ref.size());
    if (step % 64 == 0) {
      ASSERT_NO_FATAL_FAILURE(expect_same(f, ref));
    }
    if (step % 5000 == 0) {
      FarLevels copy(f);  // copies taken mid-run must match too
      ASSERT_NO_FATAL_FAILURE(expect_same(copy, ref));
    }
  }
  expect_same(f, ref);
}

}  // namespace
