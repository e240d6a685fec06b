// OrderBook: feed semantics (queue priority, partial cancels and executions,
// modifies), both anomaly policies, the batch entry point with its bbo trail,
// the level-event view, and the price index under prices chosen to move the
// window (jumps far away, the touch leaving it). A seeded differential run
// checks every step against a std::map + std::deque book that is obviously
// right, and against an L2Book fed only with the emitted level events.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <random>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "crossbook/l2_book.hpp"
#include "crossbook/order_book.hpp"

namespace {

using namespace crossbook;

constexpr Price kWidth = detail::LevelIndex::kDefaultWidth;
constexpr auto kAdd = static_cast<std::uint8_t>(OrderAction::Add);
constexpr auto kModify = static_cast<std::uint8_t>(OrderAction::Modify);
constexpr auto kCancel = static_cast<std::uint8_t>(OrderAction::Cancel);
constexpr auto kClear = static_cast<std::uint8_t>(OrderAction::Clear);
constexpr auto kExecute = static_cast<std::uint8_t>(OrderAction::Execute);
constexpr std::uint8_t kBid = 1, kAsk = 2;

using Bbo = std::tuple<Price, Qty, Price, Qty>;
// (order id, price, size, owner), best level first, FIFO within a level.
using Row = std::tuple<std::uint64_t, Price, Qty, std::uint64_t>;
using DRow = std::tuple<Price, Qty, std::int32_t>;

Bbo t(const BboRow& r) { return {r.bid_price, r.bid_size, r.ask_price, r.ask_size}; }

std::vector<Row> rows(const OrderBook& b, Side s) {
  std::vector<Row> out;
  b.for_each_order(s, [&](const OrderView& v) {
    out.emplace_back(v.order_id, v.price, v.size, v.owner);
    return true;
  });
  return out;
}

std::vector<DRow> depth(const OrderBook& b, Side s, std::size_t n = 1000) {
  std::vector<DepthRow> out(n);
  out.resize(b.depth(s, out.data(), n));
  std::vector<DRow> r;
  for (const auto& d : out) r.emplace_back(d.price, d.size, d.count);
  return r;
}

std::vector<DRow> depth(const L2Book& b, Side s) {
  std::vector<DepthRow> out(1000);
  out.resize(b.side(s).depth(out.data(), out.size()));
  std::vector<DRow> r;
  for (const auto& d : out) r.emplace_back(d.price, d.size, d.count);
  return r;
}

OrderEvent ev(std::uint8_t action, std::uint64_t id, std::uint8_t side, Price p, Qty size,
              std::uint16_t flags = 0) {
  return OrderEvent{7, 8, id, p, size, side, action, flags, 0};
}

// ------------------------------------------------------------ reference book

struct RefOrder {
  std::uint64_t id;
  Qty size;
  std::uint64_t owner;
};

// The same Count-policy semantics written the plain way.
struct RefBook {
  std::map<Price, std::deque<RefOrder>> side[3];  // [1] bids, [2] asks
  std::unordered_map<std::uint64_t, std::pair<std::uint8_t, Price>> where;
  std::array<std::uint64_t, kAnomalyKinds> anomalies{};

  void count(Anomaly a) { ++anomalies[static_cast<std::size_t>(a)]; }
  std::deque<RefOrder>::iterator find(std::uint64_t id) {
    auto [s, p] = where.at(id);
    auto& q = side[s][p];
    return std::find_if(q.begin(), q.end(), [&](const RefOrder& o) { return o.id == id; });
  }
  void remove(std::uint64_t id) {
    auto [s, p] = where.at(id);
    side[s][p].erase(find(id));
    if (side[s][p].empty()) side[s].erase(p);
    where.erase(id);
  }
  void add(std::uint64_t id, std::uint8_t s, Price p, Qty size, std::uint64_t owner = 0) {
    if (s != kBid && s != kAsk) return count(Anomaly::InvalidSide);
    if (p < 0) return count(Anomaly::NegativePrice);
    if (size <= 0) return count(Anomaly::NonPositiveSize);
    if (where.count(id)) {
      count(Anomaly::DuplicateOrder);
      remove(id);
    }
    side[s][p].push_back({id, size, owner});
    where[id] = {s, p};
  }
  // size 0 = all, as in an OrderEvent
  void cancel(std::uint64_t id, Qty size) {
    if (!where.count(id)) return count(Anomaly::UnknownOrder);
    if (size < 0) return count(Anomaly::NonPositiveSize);
    auto it = find(id);
    if (size > it->size) count(Anomaly::CancelExceedsSize);
    if (size == 0 || size >= it->size)
      remove(id);
    else
      it->size -= size;
  }
  void execute(std::uint64_t id, Qty size) {
    if (!where.count(id)) return count(Anomaly::UnknownOrder);
    if (size <= 0) return count(Anomaly::NonPositiveSize);
    auto it = find(id);
    if (size > it->size) count(Anomaly::ExecuteExceedsSize);
    if (size >= it->size)
      remove(id);
    else
      it->size -= size;
  }
  void modify(std::uint64_t id, Price p, Qty size) {
    if (!where.count(id)) return count(Anomaly::UnknownOrder);
    if (p < 0) return count(Anomaly::NegativePrice);
    if (size <= 0) return count(Anomaly::NonPositiveSize);
    auto [s, old_p] = where.at(id);
    auto it = find(id);
    if (p == old_p && size <= it->size) {
      it->size = size;
      return;
    }
    const std::uint64_t owner = it->owner;
    remove(id);
    side[s][p].push_back({id, size, owner});
    where[id] = {s, p};
  }
  void clear(std::uint8_t s) {
    for (std::uint8_t k : {kBid, kAsk}) {
      if (s != 0 && s != k) continue;
      for (auto& [p, q] : side[k])
        for (auto& o : q) where.erase(o.id);
      side[k].clear();
    }
  }
  void apply(const OrderEvent& e) {
    switch (e.action) {
      case kAdd: return add(e.order_id, e.side, e.price, e.size);
      case kModify: return modify(e.order_id, e.price, e.size);
      case kCancel: return cancel(e.order_id, e.size);
      case kExecute: return execute(e.order_id, e.size);
      case kClear:
        if (e.side > 2) return count(Anomaly::InvalidSide);
        return clear(e.side);
      default: return count(Anomaly::InvalidAction);
    }
  }
  std::vector<Row> rows(std::uint8_t s) const {
    std::vector<Row> out;
    auto emit = [&](Price p, const std::deque<RefOrder>& q) {
      for (const auto& o : q) out.emplace_back(o.id, p, o.size, o.owner);
    };
    if (s == kBid)
      for (auto it = side[s].rbegin(); it != side[s].rend(); ++it) emit(it->first, it->second);
    else
      for (const auto& [p, q] : side[s]) emit(p, q);
    return out;
  }
  std::vector<DRow> depth(std::uint8_t s) const {
    std::vector<DRow> out;
    auto emit = [&](Price p, const std::deque<RefOrder>& q) {
      Qty total = 0;
      for (const auto& o : q) total += o.size;
      out.emplace_back(p, total, static_cast<std::int32_t>(q.size()));
    };
    if (s == kBid)
      for (auto it = side[s].rbegin(); it != side[s].rend(); ++it) emit(it->first, it->second);
    else
      for (const auto& [p, q] : side[s]) emit(p, q);
    return out;
  }
  Bbo bbo() const {
    auto b = depth(kBid), a = depth(kAsk);
    return {b.empty() ? 0 : std::get<0>(b[0]), b.empty() ? 0 : std::get<1>(b[0]),
            a.empty() ? 0 : std::get<0>(a[0]), a.empty() ? 0 : std::get<1>(a[0])};
  }
  Qty queue_position(std::uint64_t id) {
    auto [s, p] = where.at(id);
    Qty ahead = 0;
    for (const auto& o : side[s][p]) {
      if (o.id == id) break;
      ahead += o.size;
    }
    return ahead;
  }
};

void expect_same(const OrderBook& b, const RefBook& ref) {
  ASSERT_NO_THROW(b.check_invariants());
  ASSERT_EQ(t(b.bbo()), ref.bbo());
  ASSERT_EQ(b.size(), ref.where.size());
  ASSERT_EQ(rows(b, Side::Bid), ref.rows(kBid));
  ASSERT_EQ(rows(b, Side::Ask), ref.rows(kAsk));
  ASSERT_EQ(depth(b, Side::Bid), ref.depth(kBid));
  ASSERT_EQ(depth(b, Side::Ask), ref.depth(kAsk));
  for (std::size_t k = 0; k < kAnomalyKinds; ++k)
    ASSERT_EQ(b.anomaly_count(static_cast<Anomaly>(k)), ref.anomalies[k])
        << anomaly_name(static_cast<Anomaly>(k));
}

// ------------------------------------------------------------ semantics

TEST(OrderBook, LayoutsOfTheNumpyRecords) {
  EXPECT_EQ(sizeof(OrderEvent), 48u);
  EXPECT_EQ(offsetof(OrderEvent, size), 32u);
  EXPECT_EQ(offsetof(OrderEvent, side), 40u);
  EXPECT_EQ(offsetof(OrderEvent, flags), 42u);
}

TEST(OrderBook, AddBuildsFifoLevelsAndQueries) {
  OrderBook b;
  EXPECT_TRUE(b.add(1, Side::Bid, 100, 5, 77));
  EXPECT_TRUE(b.add(2, Side::Bid, 100, 3));
  EXPECT_TRUE(b.add(3, Side::Bid, 99, 4));
  EXPECT_TRUE(b.add(4, Side::Ask, 101, 2));
  EXPECT_EQ(t(b.bbo()), Bbo(100, 8, 101, 2));
  EXPECT_EQ(depth(b, Side::Bid), (std::vector<DRow>{{100, 8, 2}, {99, 4, 1}}));
  EXPECT_EQ(b.size(), 4u);
  EXPECT_EQ(b.level_count(Side::Bid), 2u);
  const auto o = b.order(1);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->side, Side::Bid);
  EXPECT_EQ(o->price, 100);
  EXPECT_EQ(o->size, 5);
  EXPECT_EQ(o->owner, 77u);
  EXPECT_FALSE(b.order(9).has_value());
  EXPECT_EQ(b.queue_position(1), Qty{0});
  EXPECT_EQ(b.queue_position(2), Qty{5});
  EXPECT_FALSE(b.queue_position(9).has_value());
  std::vector<DepthRow> one(1);
  EXPECT_EQ(b.depth(Side::Bid, one.data(), 1), 1u);
  EXPECT_EQ(b.depth(Side::Bid, one.data(), 0), 0u);
  b.check_invariants();
}

TEST(OrderBook, CancelExecuteAndModifyFollowThePriorityRule) {
  OrderBook b;
  for (std::uint64_t id = 1; id <= 3; ++id) b.add(id, Side::Ask, 50, 10);
  EXPECT_TRUE(b.cancel(1, Qty{4}));  // partial: keeps its place
  EXPECT_EQ(b.queue_position(2), Qty{6});
  EXPECT_TRUE(b.execute(1, 6));  // executed away at zero
  EXPECT_FALSE(b.order(1).has_value());
  EXPECT_TRUE(b.modify(2, 50, 7));  // smaller, same price: keeps its place
  EXPECT_EQ(b.queue_position(2), Qty{0});
  EXPECT_TRUE(b.modify(2, 50, 7));  // unchanged: nothing happens
  EXPECT_EQ(b.queue_position(2), Qty{0});
  EXPECT_TRUE(b.modify(2, 50, 8));  // larger: back of the queue
  EXPECT_EQ(b.queue_position(2), Qty{10});
  EXPECT_TRUE(b.modify(3, 49, 10));  // new price: back of the new level
  EXPECT_EQ(t(b.bbo()), Bbo(0, 0, 49, 10));
  EXPECT_EQ(b.queue_position(3), Qty{0});
  EXPECT_TRUE(b.cancel(3));
  EXPECT_EQ(depth(b, Side::Ask), (std::vector<DRow>{{50, 8, 1}}));
  b.check_invariants();
}

TEST(OrderBook, ThrowPolicyNamesTheEvidenceAndChangesNothing) {
  OrderBook b;
  b.add(1, Side::Bid, 100, 5);
  const auto before = rows(b, Side::Bid);
  auto expect_error = [&](auto&& call, Anomaly kind, const std::string& needle) {
    try {
      call();
      ADD_FAILURE() << "no FeedError for " << needle;
    } catch (const FeedError& e) {
      EXPECT_EQ(e.kind(), kind);
      EXPECT_EQ(e.event_index(), FeedError::kNoEvent);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(rows(b, Side::Bid), before);
    b.check_invariants();
  };
  expect_error([&] { b.add(1, Side::Bid, 101, 2); }, Anomaly::DuplicateOrder, "order 1");
  expect_error([&] { b.add(2, static_cast<Side>(9), 1, 1); }, Anomaly::InvalidSide, "side 9");
  expect_error([&] { b.add(2, Side::Ask, -3, 1); }, Anomaly::NegativePrice, "price -3");
  expect_error([&] { b.add(2, Side::Ask, 3, 0); }, Anomaly::NonPositiveSize, "size 0");
  expect_error([&] { b.cancel(42); }, Anomaly::UnknownOrder, "order 42");
  expect_error([&] { b.cancel(1, Qty{6}); }, Anomaly::CancelExceedsSize, "cancel of 6 but 5");
  expect_error([&] { b.cancel(1, Qty{0}); }, Anomaly::NonPositiveSize, "cancel size 0");
  expect_error([&] { b.execute(1, 9); }, Anomaly::ExecuteExceedsSize, "execute of 9 but 5");
  expect_error([&] { b.execute(1, -1); }, Anomaly::NonPositiveSize, "execute size -1");
  expect_error([&] { b.modify(7, 1, 1); }, Anomaly::UnknownOrder, "order 7");
  expect_error([&] { b.modify(1, 1, 0); }, Anomaly::NonPositiveSize, "size 0");
  EXPECT_EQ(b.anomaly_total(), 0u);
  EXPECT_THROW(b.cancel(42), InvalidInput);  // FeedError is an InvalidInput
}

TEST(OrderBook, CountPolicyClampsOrSkipsAndCounts) {
  OrderBook b(AnomalyPolicy::Count);
  EXPECT_EQ(b.policy(), AnomalyPolicy::Count);
  b.add(1, Side::Bid, 100, 5);
  b.add(2, Side::Bid, 100, 5);
  EXPECT_FALSE(b.add(1, Side::Bid, 98, 3));  // replaces: the feed's latest word wins
  EXPECT_EQ(rows(b, Side::Bid), (std::vector<Row>{{2, 100, 5, 0}, {1, 98, 3, 0}}));
  EXPECT_FALSE(b.cancel(2, Qty{50}));  // clamped: gone
  EXPECT_FALSE(b.execute(1, 4));       // clamped: gone
  EXPECT_EQ(b.size(), 0u);
  EXPECT_FALSE(b.cancel(5));
  EXPECT_FALSE(b.execute(5, 1));
  EXPECT_FALSE(b.modify(5, 1, 1));
  EXPECT_FALSE(b.add(6, Side::Ask, 1, -1));
  EXPECT_FALSE(b.add(6, Side::Ask, -1, 1));
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.anomaly_count(Anomaly::DuplicateOrder), 1u);
  EXPECT_EQ(b.anomaly_count(Anomaly::CancelExceedsSize), 1u);
  EXPECT_EQ(b.anomaly_count(Anomaly::ExecuteExceedsSize), 1u);
  EXPECT_EQ(b.anomaly_count(Anomaly::UnknownOrder), 3u);
  EXPECT_EQ(b.anomaly_count(Anomaly::NonPositiveSize), 1u);
  EXPECT_EQ(b.anomaly_count(Anomaly::NegativePrice), 1u);
  EXPECT_EQ(b.anomaly_total(), 8u);
  EXPECT_STREQ(anomaly_name(Anomaly::InvalidAction), "invalid_action");
  b.check_invariants();
}

TEST(OrderBook, LevelTotalsNeverWrap) {
  const Qty big = std::numeric_limits<Qty>::max() - 5;
  OrderBook b(AnomalyPolicy::Count);
  EXPECT_TRUE(b.add(1, Side::Bid, 10, big));
  EXPECT_TRUE(b.add(2, Side::Bid, 10, 5));
  EXPECT_FALSE(b.add(3, Side::Bid, 10, 1));
  EXPECT_TRUE(b.add(3, Side::Bid, 11, 1));
  EXPECT_FALSE(b.modify(3, 10, 1));  // moving there would overflow
  EXPECT_FALSE(b.modify(2, 10, 6));  // growing in place would too
  EXPECT_TRUE(b.modify(2, 10, 5));
  EXPECT_EQ(b.anomaly_count(Anomaly::SizeOverflow), 3u);
  EXPECT_EQ(depth(b, Side::Bid), (std::vector<DRow>{{11, 1, 1}, {10, big + 5, 2}}));
  b.check_invariants();
  OrderBook strict;
  strict.add(1, Side::Ask, 1, big);
  EXPECT_THROW(strict.add(2, Side::Ask, 1, 6), FeedError);
}

TEST(OrderBook, LevelEventsFollowEveryLevelChange) {
  OrderBook b;
  std::vector<LevelEvent> sink;
  b.set_level_sink(&sink);
  b.set_timestamps(11, 12);
  b.add(1, Side::Bid, 100, 5);
  b.add(2, Side::Bid, 100, 3);
  b.modify(1, 101, 5);  // two levels change
  b.cancel(2);
  b.clear(Side::Bid);
  using E = std::tuple<Price, Qty, std::int32_t, std::uint8_t, std::uint8_t>;
  std::vector<E> got;
  for (const auto& e : sink) {
    EXPECT_EQ(e.ts_exchange_ns, 11);
    EXPECT_EQ(e.ts_recv_ns, 12);
    got.emplace_back(e.price, e.size, e.count, e.side, e.action);
  }
  const std::uint8_t up = 2, clr = 4;
  EXPECT_EQ(got, (std::vector<E>{{100, 5, 1, kBid, up}, {100, 8, 2, kBid, up},
                                 {100, 3, 1, kBid, up}, {101, 5, 1, kBid, up},
                                 {100, 0, 0, kBid, up}, {0, 0, 0, kBid, clr}}));
  b.set_level_sink(nullptr);
  b.add(3, Side::Ask, 5, 5);
  EXPECT_EQ(sink.size(), got.size());
}

TEST(OrderBook, ApplyWritesBboAfterEachEventAndMarksTheLastLevelEvent) {
  OrderBook b(AnomalyPolicy::Count);
  std::vector<LevelEvent> sink;
  b.set_level_sink(&sink);
  const std::vector<OrderEvent> evs = {
      ev(kAdd, 1, kBid, 100, 5),        ev(kAdd, 2, kAsk, 105, 2),
      ev(kModify, 1, 0, 104, 5, flags::kLast),  // leaves 100, joins 104
      ev(kExecute, 2, 0, 0, 1),         ev(kCancel, 1, 0, 0, 2),
      ev(kCancel, 9, 0, 0, 0),          ev(9, 1, kBid, 1, 1),
      ev(kClear, 0, kAsk, 0, 0),        ev(kClear, 0, 7, 0, 0)};
  std::vector<BboRow> out(evs.size());
  b.apply(evs.data(), evs.size(), out.data());
  const std::vector<Bbo> want = {{100, 5, 0, 0},   {100, 5, 105, 2}, {104, 5, 105, 2},
                                 {104, 5, 105, 1}, {104, 3, 105, 1}, {104, 3, 105, 1},
                                 {104, 3, 105, 1}, {104, 3, 0, 0},   {104, 3, 0, 0}};
  for (std::size_t i = 0; i < evs.size(); ++i) EXPECT_EQ(t(out[i]), want[i]) << i;
  ASSERT_GE(sink.size(), 4u);
  EXPECT_EQ(sink[2].flags & flags::kLast, 0);  // level 100 gone: not the last of the event
  EXPECT_EQ(sink[3].flags & flags::kLast, flags::kLast);
  EXPECT_EQ(sink[3].ts_exchange_ns, 7);
  EXPECT_EQ(b.anomaly_count(Anomaly::UnknownOrder), 1u);
  EXPECT_EQ(b.anomaly_count(Anomaly::InvalidAction), 1u);
  EXPECT_EQ(b.anomaly_count(Anomaly::InvalidSide), 1u);
  b.apply(nullptr, 0, nullptr);
  b.check_invariants();
}

TEST(OrderBook, ApplyUnderThrowStopsAtTheBadEventAndSaysWhich) {
  OrderBook b;
  const std::vector<OrderEvent> evs = {ev(kAdd, 1, kBid, 100, 5), ev(kAdd, 2, kBid, 99, 5),
                                       ev(kExecute, 1, 0, 0, 6), ev(kAdd, 3, kBid, 98, 5)};
  std::vector<BboRow> out(evs.size(), BboRow{-1, -1, -1, -1});
  try {
    b.apply(evs.data(), evs.size(), out.data());
    FAIL() << "no FeedError";
  } catch (const FeedError& e) {
    EXPECT_EQ(e.event_index(), 2u);
    EXPECT_EQ(e.order_id(), 1u);
    EXPECT_EQ(e.kind(), Anomaly::ExecuteExceedsSize);
    EXPECT_EQ(std::string(e.what()).rfind("event 2: ", 0), 0u) << e.what();
  }
  EXPECT_EQ(t(out[1]), Bbo(100, 5, 0, 0));
  EXPECT_EQ(out[2].bid_price, -1);  // not written
  EXPECT_EQ(b.size(), 2u);
  try {
    b.cancel(1, Qty{9});
  } catch (const FeedError& e) {
    EXPECT_EQ(e.event_index(), FeedError::kNoEvent);  // reset after the batch
  }
}

TEST(OrderBook, FarPricesAndAMovingTouchKeepTheIndexRight) {
  OrderBook b;
  RefBook ref;
  const Price kMax = std::numeric_limits<Price>::max();
  const std::vector<Price> prices = {1'000'000, 1'000'000 + 10 * kWidth, 5, kMax, 0,
                                     1'000'000 - kWidth, kMax - 1, 1'000'001, 1};
  std::uint64_t id = 1;
  for (Price p : prices) {
    for (std::uint8_t s : {kBid, kAsk}) {
      b.add(id, static_cast<Side>(s), p, 1 + static_cast<Qty>(id % 7));
      ref.add(id, s, p, 1 + static_cast<Qty>(id % 7));
      ++id;
      ASSERT_NO_FATAL_FAILURE(expect_same(b, ref)) << "price " << p;
    }
  }
  // Take the touch away level by level: the window has to follow it out.
  for (std::uint64_t k = 1; k < id; ++k) {
    b.cancel(k);
    ref.cancel(k, 0);
    ASSERT_NO_FATAL_FAILURE(expect_same(b, ref)) << "cancel " << k;
  }
  EXPECT_GT(b.memory_bytes(), 0u);
}

TEST(OrderBook, ClearOneSideThenReuseTheFreedSlots) {
  OrderBook b;
  for (std::uint64_t id = 1; id <= 100; ++id)
    b.add(id, id % 2 ? Side::Bid : Side::Ask, 1000 + static_cast<Price>(id % 10) * 3, 1);
  b.clear(Side::Bid);
  EXPECT_EQ(b.size(), 50u);
  EXPECT_EQ(b.level_count(Side::Bid), 0u);
  b.check_invariants();
  for (std::uint64_t id = 1; id <= 99; id += 2) b.add(id, Side::Bid, 900, 2);
  EXPECT_EQ(t(b.bbo()), Bbo(900, 100, 1000, 10));
  b.check_invariants();
  b.clear();
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(t(b.bbo()), Bbo(0, 0, 0, 0));
  b.check_invariants();
  b.reserve(1000);
  b.add(1, Side::Ask, 3, 3);
  b.check_invariants();
}

// ------------------------------------------------------------ differential

OrderEvent random_event(std::mt19937_64& rng, RefBook& ref, std::uint64_t& next_id,
                        Price& mid) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  auto live_id = [&]() -> std::uint64_t {
    if (ref.where.empty() || pick(20) == 0) return 1'000'000 + rng() % 50;  // unknown
    auto it = ref.where.begin();
    std::advance(it, pick(static_cast<int>(std::min<std::size_t>(ref.where.size(), 64))));
    return it->first;
  };
  auto price = [&]() -> Price {
    const int r = pick(100);
    if (r < 2) return static_cast<Price>(rng() % 1'000'000'000'000ULL);  // far away
    if (r < 3) return -1 - pick(5);
    return std::max<Price>(0, mid + pick(41) - 20);
  };
  if (pick(200) == 0) mid += (pick(2) ? 1 : -1) * static_cast<Price>(pick(3) * kWidth / 2);
  const int r = pick(100);
  const Qty size = pick(30) == 0 ? -pick(3) : 1 + pick(40);
  if (r < 45) {
    const std::uint64_t id = pick(25) == 0 ? live_id() : next_id++;
    const auto side = static_cast<std::uint8_t>(pick(50) == 0 ? 3 : 1 + pick(2));
    return ev(kAdd, id, side, price(), size);
  }
  if (r < 65) return ev(kCancel, live_id(), 0, 0, pick(2) ? 0 : size);
  if (r < 80) return ev(kExecute, live_id(), 0, 0, size);
  if (r < 98) {
    const std::uint64_t id = live_id();
    auto it = ref.where.find(id);
    if (it == ref.where.end() || pick(2)) return ev(kModify, id, 0, mid + pick(41) - 20, size);
    // Same price, size around the current one: the queue-priority edge cases.
    return ev(kModify, id, 0, it->second.second, ref.find(id)->size + pick(5) - 2);
  }
  if (r < 99 && pick(4) == 0) return ev(kClear, 0, static_cast<std::uint8_t>(pick(4)), 0, 0);
  return ev(static_cast<std::uint8_t>(6 + pick(3)), live_id(), kBid, 1, 1);
}

TEST(OrderBookDifferential, RandomFeedMatchesTheReferenceAfterEveryEvent) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    OrderBook b(AnomalyPolicy::Count);
    RefBook ref;
    L2Book l2;
    std::vector<LevelEvent> sink;
    b.set_level_sink(&sink);
    std::uint64_t next_id = 1;
    Price mid = 100'000;
    std::size_t max_size = 0;
    for (int step = 0; step < 3000; ++step) {
      const OrderEvent e = random_event(rng, ref, next_id, mid);
      BboRow bbo{};
      const bool queried = e.action == kModify && ref.where.count(e.order_id);
      b.apply(&e, 1, &bbo);
      ref.apply(e);
      ASSERT_NO_FATAL_FAILURE(expect_same(b, ref)) << "step " << step;
      ASSERT_EQ(t(bbo), ref.bbo()) << "step " << step;
      max_size = std::max(max_size, b.size());
      // The L2 view built from the level events alone agrees with the book.
      l2.apply(sink.data(), sink.size(), nullptr);
      sink.clear();
      ASSERT_EQ(depth(l2, Side::Bid), depth(b, Side::Bid)) << "step " << step;
      ASSERT_EQ(depth(l2, Side::Ask), depth(b, Side::Ask)) << "step " << step;
      if (queried && ref.where.count(e.order_id)) {
        ASSERT_EQ(b.queue_position(e.order_id), ref.queue_position(e.order_id));
      }
    }
    // The run must have built a real book and hit every kind of bad input.
    EXPECT_GT(max_size, 100u);
    for (std::size_t k = 0; k + 1 < kAnomalyKinds; ++k)  // all but SizeOverflow
      EXPECT_GT(b.anomaly_count(static_cast<Anomaly>(k)), 0u)
          << anomaly_name(static_cast<Anomaly>(k));
  }
}

TEST(OrderBookDifferential, ThrowPolicyAgreesWhenTheFeedIsClean) {
  std::mt19937_64 rng(11);
  OrderBook b;
  RefBook ref;
  std::uint64_t next_id = 1;
  Price mid = 5000;
  std::vector<OrderEvent> batch;
  for (int step = 0; step < 2000; ++step) {
    OrderEvent e = random_event(rng, ref, next_id, mid);
    RefBook probe = ref;
    probe.apply(e);
    if (probe.anomalies != ref.anomalies) continue;  // keep only clean events
    ref = std::move(probe);
    batch.push_back(e);
  }
  std::vector<BboRow> out(batch.size());
  b.apply(batch.data(), batch.size(), out.data());
  ASSERT_NO_FATAL_FAILURE(expect_same(b, ref));
  EXPECT_GT(batch.size(), 700u);
}

}  // namespace
