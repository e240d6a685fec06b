// L2Book and BookSide: feed semantics, all-or-nothing batches, analytics, and
// the ladder/far-store split under prices chosen to break it (the int64
// extremes, jumps across the whole range, the touch leaving the window).
// Every book is compared with a std::map reference that is obviously right.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "crossbook/l2_book.hpp"

namespace {

using namespace crossbook;

constexpr Price kMax = std::numeric_limits<Price>::max();
constexpr Price kWidth = BookSide::kDefaultWidth;
constexpr auto kAdd = static_cast<std::uint8_t>(Action::Add);
constexpr auto kUpdate = static_cast<std::uint8_t>(Action::Update);
constexpr auto kDelete = static_cast<std::uint8_t>(Action::Delete);
constexpr auto kClear = static_cast<std::uint8_t>(Action::Clear);
constexpr std::uint8_t kBid = 1, kAsk = 2, kBoth = 0;

using Row = std::tuple<Price, Qty, std::int32_t>;
using Bbo = std::tuple<Price, Qty, Price, Qty>;

// Test-side price arithmetic must not overflow either: UBSan is watching it too.
Price offset(Price at, Price delta) {
  if (delta > 0) return at > kMax - delta ? kMax : at + delta;
  return at < -delta ? 0 : at + delta;
}

Bbo t(const BboRow& r) { return {r.bid_price, r.bid_size, r.ask_price, r.ask_size}; }

std::vector<Row> rows(const BookSide& s) {
  std::vector<Row> out;
  s.for_each([&](const Level& l) {
    out.emplace_back(l.price, l.size, l.count);
    return true;
  });
  return out;
}

// ------------------------------------------------------------ reference book

struct RefSide {
  bool is_bid;
  std::map<Price, std::pair<Qty, std::int32_t>> m;

  bool set(Price p, Qty size, std::int32_t count) {
    if (size > 0) {
      m[p] = {size, count};
      return true;
    }
    return m.erase(p) == 1;
  }
  std::vector<Row> rows() const {
    std::vector<Row> out;
    for (const auto& [p, v] : m) out.emplace_back(p, v.first, v.second);
    if (is_bid) std::reverse(out.begin(), out.end());
    return out;
  }
  const std::pair<const Price, std::pair<Qty, std::int32_t>>* best() const {
    if (m.empty()) return nullptr;
    return is_bid ? &*m.rbegin() : &*m.begin();
  }
};

struct RefBook {
  RefSide bids{true, {}};
  RefSide asks{false, {}};
  std::uint64_t unknown = 0;

  void update(std::uint8_t side, Price p, Qty size, std::int32_t count) {
    unknown += (side == kBid ? bids : asks).set(p, size, count) ? 0 : 1;
  }
  void apply(const LevelEvent& e) {
    if (e.action == kClear) {
      if (e.side != kAsk) bids.m.clear();
      if (e.side != kBid) asks.m.clear();
    } else {
      update(e.side, e.price, e.action == kDelete ? 0 : e.size, e.count);
    }
  }
  Bbo bbo() const {
    const auto* b = bids.best();
    const auto* a = asks.best();
    return {b ? b->first : 0, b ? b->second.first : 0, a ? a->first : 0, a ? a->second.first : 0};
  }
};

LevelEvent ev(std::uint8_t side, std::uint8_t action, Price p, Qty size, std::int32_t count = 0) {
  return LevelEvent{0, 0, p, size, count, side, action, 0};
}

// Everything observable about a book, to prove a refused call changed nothing.
struct State {
  std::vector<Row> bids, asks;
  std::uint64_t unknown;
  bool operator==(const State& o) const {
    return bids == o.bids && asks == o.asks && unknown == o.unknown;
  }
};
State state(const L2Book& b) {
  return {rows(b.side(Side::Bid)), rows(b.side(Side::Ask)), b.unknown_deletes()};
}

void expect_matches(const L2Book& book, const RefBook& ref, bool full = true) {
  ASSERT_NO_THROW(book.check_invariants());
  ASSERT_EQ(t(book.bbo()), ref.bbo());
  ASSERT_EQ(book.unknown_deletes(), ref.unknown);
  ASSERT_EQ(book.side(Side::Bid).size(), ref.bids.m.size());
  ASSERT_EQ(book.side(Side::Ask).size(), ref.asks.m.size());
  ASSERT_EQ(book.is_crossed(), !ref.bids.m.empty() && !ref.asks.m.empty() &&
                                   std::get<0>(ref.bbo()) >= std::get<2>(ref.bbo()));
  if (!full) return;
  ASSERT_EQ(rows(book.side(Side::Bid)), ref.bids.rows());
  ASSERT_EQ(rows(book.side(Side::Ask)), ref.asks.rows());
}

// A book and its reference driven together, checked after every step.
struct Pair {
  L2Book book;
  RefBook ref;
  void set(std::uint8_t side, Price p, Qty size, std::int32_t count = 0, bool full = true) {
    const bool found = book.update(static_cast<Side>(side), p, size, count);
    const std::uint64_t before = ref.unknown;
    ref.update(side, p, size, count);
    ASSERT_EQ(found, ref.unknown == before) << "side " << int{side} << " price " << p;
    ASSERT_NO_FATAL_FAILURE(expect_matches(book, ref, full)) << "after price " << p;
  }
};

// ------------------------------------------------------------ semantics

TEST(L2Book, UpdateSetsAbsoluteSizesAndZeroRemoves) {
  L2Book b(2, 8);
  EXPECT_EQ(b.price_exp(), 2);
  EXPECT_EQ(b.size_exp(), 8);
  EXPECT_TRUE(b.update(Side::Bid, 100, 5, 2));
  EXPECT_TRUE(b.update(Side::Bid, 100, 3, 1));  // absolute, not a delta
  auto l = b.side(Side::Bid).level(100);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->size, 3);
  EXPECT_EQ(l->count, 1);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_TRUE(b.update(Side::Bid, 100, 0));
  EXPECT_FALSE(b.side(Side::Bid).level(100).has_value());
  EXPECT_TRUE(b.side(Side::Bid).empty());
  EXPECT_EQ(b.unknown_deletes(), 0u);
  b.check_invariants();
}

TEST(L2Book, UnknownDeleteReturnsFalseAndIsCounted) {
  L2Book b;
  b.update(Side::Ask, 1000, 1);
  EXPECT_FALSE(b.update(Side::Ask, 1001, 0));                // inside the window
  EXPECT_FALSE(b.update(Side::Ask, 1000 + 10 * kWidth, 0));  // far
  EXPECT_FALSE(b.update(Side::Bid, 1000, 0));                // other side
  EXPECT_EQ(b.unknown_deletes(), 3u);
  EXPECT_EQ(b.size(), 1u);
  b.restore_unknown_deletes(41);
  EXPECT_FALSE(b.update(Side::Bid, 7, 0));
  EXPECT_EQ(b.unknown_deletes(), 42u);
}

TEST(L2Book, NegativeInputsThrowAndChangeNothing) {
  L2Book b;
  b.update(Side::Bid, 10, 1);
  const State before = state(b);
  EXPECT_THROW(b.update(Side::Bid, -1, 1), InvalidInput);
  EXPECT_THROW(b.update(Side::Ask, 5, -1), InvalidInput);
  EXPECT_THROW(b.update(Side::Bid, 10, 0, -1), InvalidInput);  // even a delete
  EXPECT_THROW(b.update(Side::Ask, std::numeric_limits<Price>::min(), 1), InvalidInput);
  EXPECT_TRUE(state(b) == before);
  b.check_invariants();
}

TEST(L2Book, BboOfEmptySidesHasSizeZero) {
  L2Book b;
  EXPECT_EQ(t(b.bbo()), Bbo(0, 0, 0, 0));
  b.update(Side::Ask, 0, 4);  // price 0 is a real price: the size says so
  EXPECT_EQ(t(b.bbo()), Bbo(0, 0, 0, 4));
  b.update(Side::Bid, 7, 2);
  b.update(Side::Ask, 0, 0);
  EXPECT_EQ(t(b.bbo()), Bbo(7, 2, 0, 0));
}

TEST(L2Book, DepthIsBestFirstAcrossWindowAndFarLevels) {
  L2Book b;
  const Price touch = 1'000'000;
  // Near the touch, at the window edge and far beyond it, inserted out of order.
  const std::vector<Price> offs = {5 * kWidth, 0, 3, kWidth, 1, 100 * kWidth, kWidth - 1, 2};
  for (Price o : offs) {
    b.update(Side::Bid, touch - o, o + 1, 1);
    b.update(Side::Ask, touch + 10 + o, o + 2, 2);
  }
  b.check_invariants();
  std::vector<DepthRow> out(20);
  ASSERT_EQ(b.side(Side::Bid).depth(out.data(), out.size()), offs.size());
  const std::vector<Price> sorted = {0, 1, 2, 3, kWidth - 1, kWidth, 5 * kWidth, 100 * kWidth};
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    EXPECT_EQ(out[i].price, touch - sorted[i]) << i;
    EXPECT_EQ(out[i].size, sorted[i] + 1) << i;
  }
  ASSERT_EQ(b.side(Side::Ask).depth(out.data(), 6), 6u);  // stops inside the far levels
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(out[i].price, touch + 10 + sorted[i]) << i;
  EXPECT_EQ(b.side(Side::Ask).depth(out.data(), 0), 0u);
  EXPECT_EQ(L2Book().side(Side::Bid).depth(out.data(), 5), 0u);
  EXPECT_EQ(b.side(Side::Bid).total_size(3), Int128{1 + 2 + 3});
  EXPECT_EQ(b.side(Side::Bid).total_size(0), Int128{0});
  EXPECT_GT(b.memory_bytes(), 0u);
}

TEST(L2Book, ApplyHandlesEveryActionAndReportsBboAfterEachEvent) {
  L2Book b;
  RefBook ref;
  const std::vector<LevelEvent> evs = {
      ev(kBid, kAdd, 100, 5),     ev(kAsk, kAdd, 102, 7, 3), ev(kBid, kUpdate, 101, 1),
      ev(kBid, kUpdate, 100, 9),  ev(kBid, kDelete, 101, 0), ev(kAsk, kDelete, 500, 0),
      ev(kAsk, kAdd, 90000, 1),   ev(kBid, kAdd, 1, 1),      ev(kBid, kClear, 0, 0),
      ev(kAsk, kAdd, 103, 2),     ev(kAsk, kClear, 0, 0),    ev(kBid, kAdd, 5, 5),
      ev(kAsk, kUpdate, 6, 6),    ev(kBoth, kClear, 0, 0),   ev(kAsk, kAdd, 8, 8),
      ev(kBid, kDelete, 5, 123),  // a delete ignores its size
  };
  std::vector<BboRow> out(evs.size(), BboRow{-1, -1, -1, -1});
  b.apply(evs.data(), evs.size(), out.data());
  for (std::size_t i = 0; i < evs.size(); ++i) {
    ref.apply(evs[i]);
    EXPECT_EQ(t(out[i]), ref.bbo()) << "event " << i;
  }
  expect_matches(b, ref);
  EXPECT_EQ(b.unknown_deletes(), 2u);  // ask 500 and bid 5 (cleared before its delete)

  b.apply(evs.data(), 4, nullptr);  // bbo_out is optional
  for (std::size_t i = 0; i < 4; ++i) ref.apply(evs[i]);
  expect_matches(b, ref);
  b.apply(nullptr, 0, nullptr);
  expect_matches(b, ref);
}

TEST(L2Book, ApplyRejectsABadEventAnywhereAndChangesNothing) {
  const std::vector<LevelEvent> bad = {
      ev(kBid, 0, 10, 1),        ev(kBid, 5, 10, 1),      ev(0, kAdd, 10, 1),
      ev(3, kUpdate, 10, 1),     ev(0, kDelete, 10, 0),   ev(3, kClear, 0, 0),
      ev(kAsk, kAdd, -1, 1),     ev(kBid, kUpdate, 10, -1), ev(kAsk, kAdd, 10, 1, -1),
  };
  for (std::size_t k = 0; k < bad.size(); ++k) {
    for (std::size_t pos : {0, 3, 6}) {
      SCOPED_TRACE(testing::Message() << "bad event " << k << " at " << pos);
      L2Book b;
      b.update(Side::Bid, 10, 1);
      b.update(Side::Ask, 20, 2);
      b.update(Side::Ask, 20 + 50 * kWidth, 2);
      const State before = state(b);
      // Good events around the bad one would change the book if applied.
      std::vector<LevelEvent> evs = {ev(kBid, kAdd, 11, 3),  ev(kAsk, kDelete, 20, 0),
                                     ev(kBoth, kClear, 0, 0), ev(kBid, kDelete, 99, 0),
                                     ev(kAsk, kAdd, 15, 1),  ev(kBid, kUpdate, 10, 4)};
      evs.insert(evs.begin() + static_cast<std::ptrdiff_t>(pos), bad[k]);
      std::vector<BboRow> out(evs.size());
      EXPECT_THROW(b.apply(evs.data(), evs.size(), out.data()), InvalidInput);
      EXPECT_THROW(b.apply(evs.data(), evs.size(), nullptr), InvalidInput);
      EXPECT_TRUE(state(b) == before);
      b.check_invariants();
    }
  }
}

TEST(L2Book, LoadSnapshotReplacesTheBook) {
  L2Book b;
  b.update(Side::Bid, 5, 5);
  b.update(Side::Ask, 9, 9);
  const std::vector<DepthRow> bids = {{100, 1, 1}, {kMax, 2, 2}, {98, 3, 0}, {0, 4, 0}};
  const std::vector<DepthRow> asks = {{200, 1, 0}, {200 + 3 * kWidth, 2, 1}};
  b.load_snapshot(bids.data(), bids.size(), asks.data(), asks.size());
  b.check_invariants();
  EXPECT_EQ(rows(b.side(Side::Bid)),
            (std::vector<Row>{{kMax, 2, 2}, {100, 1, 1}, {98, 3, 0}, {0, 4, 0}}));
  EXPECT_EQ(rows(b.side(Side::Ask)), (std::vector<Row>{{200, 1, 0}, {200 + 3 * kWidth, 2, 1}}));

  const State before = state(b);
  for (DepthRow bad : {DepthRow{1, 0, 0}, DepthRow{-1, 1, 0}, DepthRow{1, -1, 0},
                       DepthRow{1, 1, -1}}) {
    std::vector<DepthRow> with_bad = {{7, 7, 7}, bad};
    EXPECT_THROW(b.load_snapshot(with_bad.data(), 2, asks.data(), 1), InvalidInput);
    EXPECT_THROW(b.load_snapshot(bids.data(), 1, with_bad.data(), 2), InvalidInput);
    EXPECT_TRUE(state(b) == before);
  }
  b.load_snapshot(nullptr, 0, nullptr, 0);
  EXPECT_EQ(b.size(), 0u);
  b.check_invariants();
}

TEST(L2Book, CrossedBookIsReportedNeverMatched) {
  L2Book b;
  b.update(Side::Bid, 100, 5);
  b.update(Side::Ask, 101, 5);
  EXPECT_FALSE(b.is_crossed());
  b.update(Side::Ask, 100, 3);  // locked counts as crossed
  EXPECT_TRUE(b.is_crossed());
  b.update(Side::Bid, 105, 2);
  EXPECT_TRUE(b.is_crossed());
  EXPECT_EQ(b.size(), 4u);  // nothing traded away
  EXPECT_EQ(t(b.bbo()), Bbo(105, 2, 100, 3));
  EXPECT_EQ(b.spread(), Price{-5});
  b.check_invariants();
}

// ------------------------------------------------------------ analytics

TEST(L2Book, AnalyticsKnownAnswers) {
  L2Book b;
  EXPECT_FALSE(b.mid() || b.spread() || b.microprice() || b.imbalance(5));
  EXPECT_EQ(b.cost_to_fill(Side::Ask, 10).filled, 0);
  EXPECT_FALSE(b.cost_to_fill(Side::Ask, 10).worst_price.has_value());
  b.update(Side::Bid, 100, 1);
  b.update(Side::Bid, 99, 4);
  EXPECT_FALSE(b.mid() || b.spread() || b.microprice());
  EXPECT_DOUBLE_EQ(*b.imbalance(1), 1.0);
  b.update(Side::Ask, 102, 3);
  b.update(Side::Ask, 105, 10);
  EXPECT_DOUBLE_EQ(*b.mid(), 101.0);
  EXPECT_EQ(*b.spread(), 2);
  EXPECT_DOUBLE_EQ(*b.microprice(), 100.5);  // (100*3 + 102*1) / 4
  EXPECT_DOUBLE_EQ(*b.imbalance(1), -0.5);
  EXPECT_DOUBLE_EQ(*b.imbalance(2), -8.0 / 18.0);
  EXPECT_DOUBLE_EQ(*b.imbalance(100), -8.0 / 18.0);
  EXPECT_FALSE(b.imbalance(0).has_value());

  FillEstimate f = b.cost_to_fill(Side::Ask, 5);
  EXPECT_EQ(f.filled, 5);
  EXPECT_TRUE(f.notional == Int128{3 * 102 + 2 * 105});
  EXPECT_EQ(f.worst_price, Price{105});
  f = b.cost_to_fill(Side::Ask, 1000);  // more than the side holds
  EXPECT_EQ(f.filled, 13);
  EXPECT_TRUE(f.notional == Int128{3 * 102 + 10 * 105});
  f = b.cost_to_fill(Side::Bid, 1);
  EXPECT_EQ(f.filled, 1);
  EXPECT_EQ(f.worst_price, Price{100});
  EXPECT_THROW(b.cost_to_fill(Side::Bid, 0), InvalidInput);
  EXPECT_THROW(b.cost_to_fill(Side::Bid, -3), InvalidInput);

  b.update(Side::Ask, 101, 1);
  EXPECT_DOUBLE_EQ(*b.mid(), 100.5);
}

TEST(L2Book, AnalyticsAtTheInt64Extremes) {
  L2Book b;
  b.update(Side::Bid, 0, kMax);
  b.update(Side::Ask, kMax, kMax);
  b.update(Side::Ask, kMax - 1, kMax - 1);
  b.check_invariants();
  EXPECT_EQ(*b.spread(), kMax - 1);
  EXPECT_DOUBLE_EQ(*b.mid(), 4611686018427387904.0);  // (kMax - 1) / 2, rounded to double
  EXPECT_DOUBLE_EQ(*b.imbalance(10), -1.0 / 3.0);      // kMax vs ~2 kMax, no overflow
  const FillEstimate f = b.cost_to_fill(Side::Ask, kMax);
  EXPECT_EQ(f.filled, kMax);
  EXPECT_TRUE(f.notional == Int128{kMax - 1} * (kMax - 1) + Int128{kMax});
  EXPECT_EQ(f.worst_price, kMax);
  b.update(Side::Bid, kMax, 1);  // crossed by the whole range
  b.update(Side::Ask, 0, 1);
  EXPECT_EQ(*b.spread(), -kMax);
  EXPECT_DOUBLE_EQ(*b.microprice(), static_cast<double>(kMax) / 2);
  EXPECT_TRUE(b.is_crossed());
  b.check_invariants();
}

// ------------------------------------------------------------ adversarial prices

TEST(L2Book, ExtremePricesOnBothSides) {
  Pair p;
  for (std::uint8_t s : {kBid, kAsk}) {
    ASSERT_NO_FATAL_FAILURE(p.set(s, 0, 1));
    ASSERT_NO_FATAL_FAILURE(p.set(s, kMax, 2));
    ASSERT_NO_FATAL_FAILURE(p.set(s, kMax - 1, 3));
    ASSERT_NO_FATAL_FAILURE(p.set(s, 1, 4));
    ASSERT_NO_FATAL_FAILURE(p.set(s, kMax - kWidth, 5));
  }
  for (std::uint8_t s : {kBid, kAsk})
    for (Price x : {kMax, Price{0}, kMax - 1, Price{1}, kMax - kWidth, kMax})
      ASSERT_NO_FATAL_FAILURE(p.set(s, x, 0));
}

TEST(L2Book, TouchJumpsAcrossTheWholeRangeAndBack) {
  Pair p;
  for (std::uint8_t s : {kBid, kAsk}) {
    for (int round = 0; round < 3; ++round) {
      ASSERT_NO_FATAL_FAILURE(p.set(s, 0, 1));
      ASSERT_NO_FATAL_FAILURE(p.set(s, 2, 1));
      ASSERT_NO_FATAL_FAILURE(p.set(s, kMax, 2));
      ASSERT_NO_FATAL_FAILURE(p.set(s, kMax - 2, 2));
      ASSERT_NO_FATAL_FAILURE(p.set(s, kMax / 2, 3));
      // Remove from one end so the touch has to cross the range to find the next level.
      const std::vector<Price> order = s == kBid ? std::vector<Price>{kMax, kMax - 2, kMax / 2}
                                                 : std::vector<Price>{0, 2, kMax / 2};
      for (Price x : order) ASSERT_NO_FATAL_FAILURE(p.set(s, x, 0));
      ASSERT_NO_FATAL_FAILURE(p.set(s, s == kBid ? 0 : kMax, 0));
      ASSERT_NO_FATAL_FAILURE(p.set(s, s == kBid ? 2 : kMax - 2, 0));
      ASSERT_TRUE(p.book.side(static_cast<Side>(s)).empty());
    }
  }
}

TEST(L2Book, SideEmptiedAndRefilled) {
  Pair p;
  const Price regions[] = {1'000'000, 3, kMax - 300 * 37, 1'000'000 + 20 * kWidth};
  for (Price at : regions) {
    for (std::uint8_t s : {kBid, kAsk})
      for (Price i = 0; i < 300; ++i)  // a third of these are outside the window
        ASSERT_NO_FATAL_FAILURE(p.set(s, at + i * 37, i + 1, 0, i % 16 == 0));
    ASSERT_NO_FATAL_FAILURE(expect_matches(p.book, p.ref));
    for (std::uint8_t s : {kBid, kAsk})
      for (Price i = 0; i < 300; ++i)
        ASSERT_NO_FATAL_FAILURE(p.set(s, at + i * 37, 0, 0, i % 16 == 0));
    ASSERT_EQ(p.book.size(), 0u);
    ASSERT_EQ(t(p.book.bbo()), Bbo(0, 0, 0, 0));
  }
}

TEST(L2Book, ThousandsOfLevelsFarFromTheTouch) {
  Pair p;
  const Price touch = 5'000'000'000;
  for (Price i = 0; i < 2500; ++i) {
    ASSERT_NO_FATAL_FAILURE(p.set(kBid, touch - 2 * kWidth - i * 13, i + 1, 0, false));
    ASSERT_NO_FATAL_FAILURE(p.set(kAsk, touch + 2 * kWidth + i * 13, i + 1, 0, false));
  }
  ASSERT_NO_FATAL_FAILURE(p.set(kBid, touch - 1, 1));
  ASSERT_NO_FATAL_FAILURE(p.set(kAsk, touch + 1, 1));
  std::vector<DepthRow> out(2501);
  ASSERT_EQ(p.book.side(Side::Bid).depth(out.data(), out.size()), 2501u);
  EXPECT_EQ(out[1].price, touch - 2 * kWidth);
  EXPECT_EQ(out[2500].price, touch - 2 * kWidth - 2499 * 13);
  // Peel the touch off repeatedly: each removal pulls the far levels into the window.
  for (int i = 0; i < 1000; ++i) {
    const Bbo b = p.ref.bbo();
    ASSERT_NO_FATAL_FAILURE(p.set(kBid, std::get<0>(b), 0, 0, i % 100 == 0));
    ASSERT_NO_FATAL_FAILURE(p.set(kAsk, std::get<2>(b), 0, 0, i % 100 == 0));
  }
  expect_matches(p.book, p.ref);
}

TEST(L2Book, TouchMovesBeyondTheWindowRepeatedly) {
  const Price step = kWidth + kWidth / 3;  // every move leaves the window
  for (std::uint8_t s : {kBid, kAsk}) {
    for (Price dir : {Price{1}, Price{-1}}) {
      SCOPED_TRACE(testing::Message() << "side " << int{s} << " dir " << dir);
      Pair p;
      std::vector<Price> prices;
      for (Price k = 0; k < 60; ++k)
        for (Price near : {Price{0}, Price{1}, Price{-1}, kWidth / 2})
          prices.push_back(1'000'000'000 + dir * k * step + near);
      // Add in order, delete in order, re-add, delete in reverse: for either side
      // and direction one of the passes moves the touch by improvement and one by
      // removal, so both re-centring paths run in both directions.
      for (int pass = 0; pass < 4; ++pass) {
        const bool add = pass % 2 == 0;
        for (std::size_t i = 0; i < prices.size(); ++i) {
          const Price x = pass == 3 ? prices[prices.size() - 1 - i] : prices[i];
          ASSERT_NO_FATAL_FAILURE(p.set(s, x, add ? x % 100 + 1 : 0, pass));
        }
      }
      ASSERT_EQ(p.book.size(), 0u);
    }
  }
}

// ------------------------------------------------------------ randomized

TEST(BookSide, RejectsWidthsThatAreNotPowersOfTwo) {
  EXPECT_THROW(BookSide(true, 0), std::invalid_argument);
  EXPECT_THROW(BookSide(true, 32), std::invalid_argument);
  EXPECT_THROW(BookSide(false, 100), std::invalid_argument);
  EXPECT_NO_THROW(BookSide(false, 64));
}

// A 64-tick window re-centres all the time, which is where the ladder/far split breaks.
TEST(BookSide, NarrowWindowRandomizedAgainstStdMap) {
  std::mt19937_64 rng(7);
  for (bool is_bid : {true, false}) {
    BookSide side(is_bid, 64);
    RefSide ref{is_bid, {}};
    Price anchor = 10'000;
    for (int step = 0; step < 15000; ++step) {
      SCOPED_TRACE(testing::Message() << (is_bid ? "bid" : "ask") << " step " << step);
      if (rng() % 50 == 0) anchor = static_cast<Price>(rng() % 20000) + 400;
      const unsigned r = rng() % 10;
      Price x = anchor + static_cast<Price>(rng() % (r < 6 ? 64 : 600)) - (r < 6 ? 32 : 300);
      if (r == 9) x = rng() % 2 ? kMax - static_cast<Price>(rng() % 100) : Price(rng() % 100);
      const bool remove = rng() % 2 == 0 || ref.m.size() > 300;
      if (remove && !ref.m.empty() && rng() % 4 != 0) {
        auto it = ref.m.lower_bound(x);
        x = it == ref.m.end() ? ref.m.begin()->first : it->first;
      }
      const Qty size = remove ? 0 : static_cast<Qty>(rng() % 100 + 1);
      ASSERT_EQ(side.set(x, size, 1), ref.set(x, size, 1)) << "price " << x;
      ASSERT_NO_THROW(side.check_invariants());
      ASSERT_EQ(side.empty(), ref.m.empty());
      if (!side.empty()) {
        ASSERT_EQ(side.best_price(), ref.best()->first);
      }
      if (step % 4 == 0) {
        ASSERT_EQ(rows(side), ref.rows());
      }
    }
  }
}

// Prices drawn around a drifting anchor: mostly near the touch, some just past
// the window edges, some far away or at the int64 extremes.
Price random_price(std::mt19937_64& rng, Price anchor, std::uint8_t s) {
  const Price sign = s == kBid ? -1 : 1;
  switch (rng() % 10) {
    case 0: case 1: case 2: case 3: case 4:
      return offset(anchor, sign * (static_cast<Price>(rng() % 40) - 3));
    case 5: case 6:
      return offset(anchor, sign * (kWidth - 200 + static_cast<Price>(rng() % 6000)));
    case 7:
      return offset(anchor, sign * static_cast<Price>(rng() % 5'000'000));
    case 8:
      return rng() % 2 ? kMax - static_cast<Price>(rng() % 50) : static_cast<Price>(rng() % 50);
    default:
      return static_cast<Price>(rng() >> 1);
  }
}

LevelEvent random_event(std::mt19937_64& rng, const RefBook& ref, Price anchor) {
  const std::uint8_t s = rng() % 2 ? kBid : kAsk;
  Price x = random_price(rng, anchor, s);
  const auto& m = (s == kBid ? ref.bids : ref.asks).m;
  const std::size_t n = ref.bids.m.size() + ref.asks.m.size();
  const unsigned r = static_cast<unsigned>(rng() % 1000);
  if (r < 2) return ev(static_cast<std::uint8_t>(rng() % 3), kClear, 0, 0);
  if (r < (n > 3000 ? 700u : 450u)) {  // delete, mostly a live level
    if (!m.empty() && rng() % 8 != 0) {
      auto it = m.lower_bound(x);
      x = it == m.end() ? m.rbegin()->first : it->first;
    }
    return ev(s, rng() % 2 ? kDelete : kUpdate, x, 0);
  }
  return ev(s, rng() % 2 ? kAdd : kUpdate, x, static_cast<Qty>(rng() % 1000 + 1),
            static_cast<std::int32_t>(rng() % 20));
}

void random_batch(std::mt19937_64& rng, L2Book& book, RefBook& ref, Price anchor) {
  std::vector<LevelEvent> evs(rng() % 8 + 1);
  for (auto& e : evs) e = random_event(rng, ref, anchor);
  if (rng() % 50 == 0) {  // poison one event: nothing may change
    evs[rng() % evs.size()].action = 9;  // bad for every kind of event, Clear included
    const State before = state(book);
    ASSERT_THROW(book.apply(evs.data(), evs.size(), nullptr), InvalidInput);
    ASSERT_TRUE(state(book) == before);
    return;
  }
  std::vector<BboRow> out(evs.size());
  book.apply(evs.data(), evs.size(), out.data());
  for (std::size_t i = 0; i < evs.size(); ++i) {
    ref.apply(evs[i]);
    ASSERT_EQ(t(out[i]), ref.bbo()) << "event " << i << " of the batch";
  }
}

TEST(L2Book, RandomizedAgainstStdMapReference) {
  std::mt19937_64 rng(1234567);
  L2Book book;
  RefBook ref;
  Price anchor = 1'000'000'000;
  for (int step = 0; step < 60000; ++step) {
    SCOPED_TRACE(testing::Message() << "step " << step);
    const unsigned r = static_cast<unsigned>(rng() % 1000);
    if (r < 20) {  // the touch drifts, sometimes beyond the window, rarely anywhere
      const Price span = r < 15 ? 200 : 20000;
      anchor = offset(anchor, static_cast<Price>(rng() % span) - span / 2);
      if (r == 0) anchor = static_cast<Price>(rng() >> 1);
    }
    if (r < 100) {
      ASSERT_NO_FATAL_FAILURE(random_batch(rng, book, ref, anchor));
    } else if (r < 101) {
      std::vector<DepthRow> bids, asks;
      for (const auto& [x, v] : ref.bids.m) bids.push_back({x, v.first, v.second});
      for (const auto& [x, v] : ref.asks.m) asks.push_back({x, v.first, v.second});
      book.load_snapshot(bids.data(), bids.size(), asks.data(), asks.size());
    } else {
      const LevelEvent e = random_event(rng, ref, anchor);
      if (e.action == kClear) continue;
      const Qty size = e.action == kDelete ? 0 : e.size;
      book.update(static_cast<Side>(e.side), e.price, size, e.count);
      ref.update(e.side, e.price, size, e.count);
    }
    ASSERT_NO_FATAL_FAILURE(expect_matches(book, ref, step % 8 == 0));
  }
  expect_matches(book, ref);
}

}  // namespace
