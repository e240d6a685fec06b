// L2Book against what a careless or hostile caller can hand it: an empty book
// must stay small and usable, exponents are bounded, output rows carry no stray
// bytes, and the busy guard of the bindings refuses a second user.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "../bindings/busy_flag.hpp"
#include "crossbook/l2_book.hpp"

namespace {

using namespace crossbook;

TEST(L2Lazy, AnEmptyBookHoldsNoLadder) {
  L2Book b;
  EXPECT_LT(b.memory_bytes(), 1024u);
  EXPECT_FALSE(b.side(Side::Bid).level(5).has_value());
  DepthRow row{};
  EXPECT_EQ(b.side(Side::Ask).depth(&row, 1), 0u);
  b.check_invariants();
  L2Book copy = b;
  copy.check_invariants();
  b.clear();
  b.set_tick(10);
  EXPECT_EQ(b.truncate(0), 0u);
  b.check_invariants();
}

TEST(L2Lazy, TheFirstLevelAllocatesTheLadder) {
  L2Book b;
  const std::size_t empty = b.memory_bytes();
  b.update(Side::Bid, 100, 1);
  EXPECT_GT(b.memory_bytes(), empty + 4096 * sizeof(Qty));
  EXPECT_EQ(b.side(Side::Bid).level(100)->size, 1);
  b.update(Side::Ask, 1'000'000, 2);  // far from the bids: its own window
  b.update(Side::Ask, 1'000'000 + 10'000, 3);
  b.check_invariants();
  b.update(Side::Bid, 100, 0);
  b.check_invariants();
  EXPECT_TRUE(b.side(Side::Bid).empty());
}

TEST(L2Exponents, OutOfRangeIsRefusedAtConstruction) {
  EXPECT_NO_THROW(L2Book(kMinExp, kMaxExp));
  EXPECT_THROW(L2Book(kMaxExp + 1, 0), InvalidInput);
  EXPECT_THROW(L2Book(0, kMinExp - 1), InvalidInput);
  EXPECT_THROW(L2Book(0x7fffffff, 0), InvalidInput);
}

TEST(L2Depth, RowsHaveZeroPadding) {
  L2Book b;
  for (Price p = 1; p <= 8; ++p) b.update(Side::Bid, p, p);
  std::vector<DepthRow> rows(8);
  std::memset(rows.data(), 0xAB, rows.size() * sizeof(DepthRow));
  ASSERT_EQ(b.side(Side::Bid).depth(rows.data(), rows.size()), 8u);
  for (const DepthRow& r : rows) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(&r);
    for (std::size_t i = 20; i < sizeof(DepthRow); ++i) EXPECT_EQ(bytes[i], 0) << "byte " << i;
  }
}

TEST(L2Apply, RefusesABadEventBeforeApplyingAny) {
  L2Book b;
  std::vector<LevelEvent> ev(3, LevelEvent{0, 0, 10, 1, 0, 1, 2, 0});
  ev[2].price = -1;
  EXPECT_THROW(b.apply(ev.data(), ev.size(), nullptr), InvalidInput);
  EXPECT_EQ(b.size(), 0u);
}

TEST(BusyGuard, RefusesASecondUserUntilReleased) {
  using bindings::BatchGuard;
  using bindings::BusyError;
  bindings::BusyFlag flag;
  std::atomic<bool> held{false}, release{false};
  std::thread batch([&] {
    BatchGuard guard(flag, "L2Book");
    held = true;
    while (!release) std::this_thread::yield();
  });
  while (!held) std::this_thread::yield();
  EXPECT_THROW(flag.check("L2Book"), BusyError);
  EXPECT_THROW(BatchGuard(flag, "L2Book"), BusyError);
  try {
    flag.check("L2Book");
  } catch (const BusyError& e) {
    EXPECT_STREQ(e.what(), "L2Book is in use by a batch call on another thread");
  }
  release = true;
  batch.join();
  EXPECT_NO_THROW(flag.check("L2Book"));
  BatchGuard again(flag, "L2Book");
  bindings::BusyFlag copy(flag);  // a copy starts idle
  EXPECT_NO_THROW(copy.check("L2Book"));
}

}  // namespace
