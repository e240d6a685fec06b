// ArbScanner: hand-checked event streams (open, update, close; sync, staleness,
// message boundaries, flush, buffer limits, refused input), then randomized
// runs in which, after every event, each ordered pair's open opportunity must
// equal best_opportunity on independently maintained books, and the emitted
// stream, replayed on its own, must describe exactly those open opportunities.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "crossbook/arb.hpp"

namespace {

using namespace crossbook;

constexpr auto kAdd = static_cast<std::uint8_t>(Action::Add);
constexpr auto kUpdate = static_cast<std::uint8_t>(Action::Update);
constexpr auto kDelete = static_cast<std::uint8_t>(Action::Delete);
constexpr auto kClear = static_cast<std::uint8_t>(Action::Clear);
constexpr auto kSynced = static_cast<std::uint8_t>(ScanAction::Synced);
constexpr auto kUnsynced = static_cast<std::uint8_t>(ScanAction::Unsynced);
constexpr auto kHeartbeat = static_cast<std::uint8_t>(ScanAction::Heartbeat);
constexpr std::uint8_t kBid = 1, kAsk = 2;
constexpr auto kOpened = static_cast<std::uint8_t>(OpportunityKind::Opened);
constexpr auto kUpdated = static_cast<std::uint8_t>(OpportunityKind::Updated);
constexpr auto kClosed = static_cast<std::uint8_t>(OpportunityKind::Closed);

// The numpy dtypes mirror these offsets.
static_assert(offsetof(ScanEvent, count) == 32 && offsetof(ScanEvent, side) == 36 &&
              offsetof(ScanEvent, action) == 37 && offsetof(ScanEvent, flags) == 38 &&
              offsetof(ScanEvent, book) == 40 && offsetof(ScanEvent, reserved) == 44);
static_assert(offsetof(OpportunityEvent, edge_bps) == 56 &&
              offsetof(OpportunityEvent, pnl_num_lo) == 72 &&
              offsetof(OpportunityEvent, sell_notional_hi) == 112 &&
              offsetof(OpportunityEvent, buy_book) == 120 && offsetof(OpportunityEvent, kind) == 128 &&
              offsetof(OpportunityEvent, reason) == 129 && offsetof(OpportunityEvent, reserved1) == 132);

ScanEvent se(std::uint32_t book, std::uint8_t side, std::uint8_t action, Price p, Qty q,
             std::int64_t ts, std::uint16_t fl = flags::kLast) {
  return ScanEvent{ts - 1, ts, p, q, 0, side, action, fl, book, 0};
}

ScannerConfig config(std::vector<FeeCbps> fees, std::int64_t max_age = kNoMaxAge,
                     ScanMode mode = ScanMode::EveryEvent) {
  ScannerConfig c;
  c.price_exp = 2;
  c.size_exp = 4;
  c.taker_fee_cbps = std::move(fees);
  c.max_age_ns = max_age;
  c.mode = mode;
  return c;
}

// Runs events through the scanner, a buffer of exactly the minimum size at a time.
std::vector<OpportunityEvent> run(ArbScanner& s, const std::vector<ScanEvent>& evs) {
  std::vector<OpportunityEvent> out, buf(s.max_events_per_input());
  for (std::size_t k = 0; k < evs.size();) {
    const ScanResult r = s.process(evs.data() + k, evs.size() - k, buf.data(), buf.size());
    if (r.consumed == 0) ADD_FAILURE() << "no progress at event " << k;
    if (r.consumed == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.emitted));
    k += r.consumed;
  }
  return out;
}

void expect_event(const OpportunityEvent& e, std::uint8_t kind, std::uint32_t buy,
                  std::uint32_t sell, std::int64_t ts, Qty size, std::int64_t open_ts) {
  EXPECT_EQ(e.kind, kind);
  EXPECT_EQ(e.buy_book, buy);
  EXPECT_EQ(e.sell_book, sell);
  EXPECT_EQ(e.ts_ns, ts);
  EXPECT_EQ(e.size, size);
  EXPECT_EQ(e.open_ts_ns, open_ts);
  EXPECT_EQ(e.duration_ns, ts - open_ts);
}

TEST(ArbScanner, OpensUpdatesAndClosesOnlyWhenSomethingChanged) {
  ArbScanner s(config({0, 0, 0}));
  auto out = run(s, {se(0, kAsk, kAdd, 100, 5, 10), se(1, kBid, kAdd, 99, 5, 20),
                     se(1, kBid, kAdd, 102, 3, 30)});
  ASSERT_EQ(out.size(), 1u);
  expect_event(out[0], kOpened, 0, 1, 30, 3, 30);
  EXPECT_EQ(out[0].buy_price, 100);
  EXPECT_EQ(out[0].sell_price, 102);
  EXPECT_DOUBLE_EQ(out[0].edge_bps, 200.0);
  EXPECT_EQ(out[0].pnl_num_lo, 6u * kFeeDenominator);
  EXPECT_EQ(out[0].pnl_num_hi, 0);
  EXPECT_EQ(out[0].buy_notional_lo, 300u);
  EXPECT_EQ(out[0].sell_notional_lo, 306u);
  EXPECT_EQ(out[0].reason, static_cast<std::uint8_t>(CloseReason::None));

  out = run(s, {se(1, kBid, kUpdate, 102, 4, 40)});
  ASSERT_EQ(out.size(), 1u);
  expect_event(out[0], kUpdated, 0, 1, 40, 4, 30);
  // Below every ask, and deeper than the 4 units taken: nothing to report.
  EXPECT_TRUE(run(s, {se(1, kBid, kAdd, 98, 1, 45), se(0, kAsk, kAdd, 101, 10, 50)}).empty());

  out = run(s, {se(2, kBid, kAdd, 103, 2, 60), se(0, kAsk, kDelete, 100, 0, 70)});
  ASSERT_EQ(out.size(), 3u);
  expect_event(out[0], kOpened, 0, 2, 60, 2, 60);
  expect_event(out[1], kUpdated, 0, 1, 70, 4, 30);  // now buying at 101
  EXPECT_EQ(out[1].buy_price, 101);
  EXPECT_DOUBLE_EQ(out[1].edge_bps, 1e4 * 4 / 404);
  EXPECT_DOUBLE_EQ(out[1].peak_edge_bps, 200.0);
  expect_event(out[2], kUpdated, 0, 2, 70, 2, 60);

  out = run(s, {se(0, kAsk, kDelete, 101, 0, 80)});
  ASSERT_EQ(out.size(), 2u);
  expect_event(out[0], kClosed, 0, 1, 80, 4, 30);  // the last state before it closed
  EXPECT_EQ(out[0].peak_size, 4);
  EXPECT_DOUBLE_EQ(out[0].peak_edge_bps, 200.0);
  EXPECT_EQ(out[0].reason, static_cast<std::uint8_t>(CloseReason::Gone));
  expect_event(out[1], kClosed, 0, 2, 80, 2, 60);
  EXPECT_EQ(s.open_count(), 0u);
}

TEST(ArbScanner, FeesDecideAndEachDirectionIsItsOwnPair) {
  // 10 bps on book 0: its ask 1000 costs 1001, which book 1's bid only matches.
  ArbScanner s(config({1000, 0}));
  EXPECT_TRUE(run(s, {se(0, kAsk, kAdd, 1000, 5, 1), se(1, kBid, kAdd, 1001, 5, 2)}).empty());
  auto out = run(s, {se(1, kBid, kAdd, 1002, 1, 3), se(1, kAsk, kAdd, 900, 2, 4),
                     se(0, kBid, kAdd, 950, 1, 5)});
  ASSERT_EQ(out.size(), 2u);
  expect_event(out[0], kOpened, 0, 1, 3, 1, 3);
  expect_event(out[1], kOpened, 1, 0, 5, 1, 5);  // book 0's bid 950 minus 10 bps beats 900
  EXPECT_EQ(s.open_opportunity(1, 0)->sell_price, 950);
  EXPECT_FALSE(s.open_opportunity(0, 0));
}

TEST(ArbScanner, UnsyncedBooksCloseAndAreIgnoredUntilSyncedAgain) {
  ArbScanner s(config({0, 0}));
  std::vector<OpportunityEvent> buf(s.max_events_per_input());
  run(s, {se(0, kAsk, kAdd, 100, 5, 10), se(1, kBid, kAdd, 101, 2, 20)});
  ASSERT_EQ(s.open_count(), 1u);
  ScanResult r = s.set_synced(1, false, 30, buf.data(), buf.size());
  ASSERT_EQ(r.emitted, 1u);
  expect_event(buf[0], kClosed, 0, 1, 30, 2, 20);
  EXPECT_EQ(buf[0].reason, static_cast<std::uint8_t>(CloseReason::Unsynced));
  EXPECT_FALSE(s.synced(1));
  EXPECT_TRUE(run(s, {se(1, kBid, kAdd, 105, 1, 40), se(1, kUnsynced, kUnsynced, 0, 0, 41)}).empty());
  r = s.set_synced(1, true, 50, buf.data(), buf.size());
  ASSERT_EQ(r.emitted, 1u);
  expect_event(buf[0], kOpened, 0, 1, 50, 3, 50);  // the book as it is now
  EXPECT_EQ(s.set_synced(1, true, 60, buf.data(), buf.size()).emitted, 0u);
}

TEST(ArbScanner, StaleBooksCloseWhenTheyExpiredAndReopenWhenHeardFrom) {
  ArbScanner s(config({0, 0, 0}, 100));
  auto out = run(s, {se(0, kAsk, kAdd, 100, 5, 0), se(1, kBid, kAdd, 101, 2, 10),
                     se(1, kBid, kAdd, 102, 1, 99)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(s.usable(0));
  out = run(s, {se(2, kBid, kAdd, 50, 1, 150)});  // book 0 expired at 0 + 100
  ASSERT_EQ(out.size(), 1u);
  expect_event(out[0], kClosed, 0, 1, 100, 3, 10);
  EXPECT_EQ(out[0].reason, static_cast<std::uint8_t>(CloseReason::Stale));
  EXPECT_FALSE(s.usable(0));
  EXPECT_TRUE(s.usable(1));
  // Book 1 in turn expires at 199: hearing from book 0 is not enough.
  EXPECT_TRUE(run(s, {se(0, kHeartbeat, kHeartbeat, 0, 0, 200)}).empty());
  out = run(s, {se(1, kHeartbeat, kHeartbeat, 0, 0, 210)});
  ASSERT_EQ(out.size(), 1u);
  expect_event(out[0], kOpened, 0, 1, 210, 3, 210);
  // A book never heard from is stale, and the clock never goes back.
  run(s, {se(2, kBid, kDelete, 50, 0, 5)});
  EXPECT_EQ(s.now(), 210);
  EXPECT_FALSE(ArbScanner(config({0, 0}, 100)).usable(0));
  EXPECT_TRUE(ArbScanner(config({0, 0})).usable(0));
}

TEST(ArbScanner, MessageEndModeLooksOnlyAtCompleteMessages) {
  const std::vector<ScanEvent> setup = {se(0, kAsk, kAdd, 100, 5, 1), se(1, kBid, kAdd, 101, 2, 2)};
  // A snapshot replayed as Clear + levels, flagged last only at its end.
  const std::vector<ScanEvent> snapshot = {se(1, 0, kClear, 0, 0, 3, 0), se(1, kBid, kAdd, 99, 7, 3, 0),
                                           se(1, kBid, kAdd, 101, 2, 3, flags::kLast)};
  ArbScanner every(config({0, 0}));
  run(every, setup);
  auto out = run(every, snapshot);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].kind, kClosed);
  EXPECT_EQ(out[1].kind, kOpened);
  ArbScanner at_end(config({0, 0}, kNoMaxAge, ScanMode::MessageEnd));
  ASSERT_EQ(run(at_end, setup).size(), 1u);
  EXPECT_TRUE(run(at_end, snapshot).empty());
  EXPECT_EQ(at_end.open_count(), 1u);
}

TEST(ArbScanner, InterleavedMessagesSettleWhenTheLastOneEnds) {
  ArbScanner s(config({0, 0}, kNoMaxAge, ScanMode::MessageEnd));
  ASSERT_EQ(run(s, {se(0, kAsk, kAdd, 100, 1, 1), se(1, kBid, kAdd, 101, 1, 2),
                    se(1, kBid, kAdd, 99, 1, 3)}).size(), 1u);
  // Book 1 starts a message that removes the bid the pair sells to; book 0's
  // message, ending first, moves its ask out of reach of book 1's bid 99; book
  // 1's message then ends with a change far from book 0's new ask. Neither
  // best-price test sees the pair, yet it is gone.
  auto out = run(s, {se(1, kBid, kDelete, 101, 0, 4, 0), se(0, kAsk, kAdd, 102, 1, 5, 0),
                     se(0, kAsk, kDelete, 100, 0, 6), se(1, kBid, kAdd, 98, 1, 7)});
  ASSERT_EQ(out.size(), 1u);
  expect_event(out[0], kClosed, 0, 1, 7, 1, 2);
  EXPECT_EQ(s.open_count(), 0u);
}

TEST(ArbScanner, StopsBeforeTheBufferCouldOverflowAndFlushDrains) {
  ArbScanner s(config({0, 0, 0, 0}));
  std::vector<ScanEvent> evs;
  for (std::uint32_t b = 0; b < 4; ++b) {
    evs.push_back(se(b, kAsk, kAdd, 100 + b, 1, 1));
    evs.push_back(se(b, kBid, kAdd, 110 + b, 1, 1));
  }
  std::vector<OpportunityEvent> buf(s.max_events_per_input());  // (4 + 2) * 3 = 18
  ASSERT_EQ(buf.size(), 18u);
  ScanResult r = s.process(evs.data(), evs.size(), buf.data(), buf.size());
  EXPECT_LT(r.consumed, evs.size());
  EXPECT_GE(r.consumed, 1u);
  EXPECT_EQ(run(s, {evs.begin() + static_cast<std::ptrdiff_t>(r.consumed), evs.end()}).size() + r.emitted,
            12u);  // every ordered pair crosses
  EXPECT_EQ(s.open_count(), 12u);
  EXPECT_THROW(s.process(evs.data(), 1, buf.data(), 17), InvalidInput);
  EXPECT_EQ(s.flush(500, buf.data(), 5), 5u);
  EXPECT_EQ(buf[4].reason, static_cast<std::uint8_t>(CloseReason::Flushed));
  EXPECT_EQ(buf[4].ts_ns, 500);
  EXPECT_EQ(s.flush(100, buf.data(), 18), 7u);  // the clock never goes back
  EXPECT_EQ(buf[6].ts_ns, 500);
  EXPECT_EQ(s.flush(500, buf.data(), 18), 0u);
  EXPECT_EQ(s.open_count(), 0u);
}

TEST(ArbScanner, TimestampsAtTheInt64ExtremesDoNotOverflow) {
  constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t max_age : {std::int64_t{100}, kNoMaxAge}) {
    ArbScanner s(config({0, 0}, max_age));
    auto out = run(s, {se(0, kAsk, kAdd, 100, 1, lo + 1), se(1, kBid, kAdd, 101, 1, lo + 1)});
    ASSERT_EQ(out.size(), 1u);
    out = run(s, {se(0, kHeartbeat, kHeartbeat, 0, 0, hi - 1), se(1, kHeartbeat, kHeartbeat, 0, 0, hi)});
    std::vector<OpportunityEvent> buf(4);
    if (max_age == kNoMaxAge) {
      EXPECT_TRUE(out.empty());
      ASSERT_EQ(s.flush(hi, buf.data(), buf.size()), 1u);
      EXPECT_EQ(buf[0].duration_ns, hi);  // saturated: the true span is 2^64 - 2
    } else {
      ASSERT_EQ(out.size(), 2u);  // stale at lo + 101, open again at hi
      EXPECT_EQ(out[0].ts_ns, lo + 101);
      EXPECT_EQ(out[1].ts_ns, hi);
      EXPECT_TRUE(s.usable(0) && s.usable(1));  // though last + max_age > INT64_MAX
    }
  }
}

TEST(ArbScanner, RefusesBadInputAndChangesNothing) {
  EXPECT_THROW(ArbScanner(config({})), InvalidInput);
  EXPECT_THROW(ArbScanner(config(std::vector<FeeCbps>(ArbScanner::kMaxBooks + 1, 0))), InvalidInput);
  EXPECT_THROW(ArbScanner(config({0, static_cast<FeeCbps>(kFeeDenominator)})), InvalidInput);
  EXPECT_THROW(ArbScanner(config({0, 0}, -1)), InvalidInput);
  ScannerConfig c = config({0, 0});
  c.ticks = {1};
  EXPECT_THROW(ArbScanner{c}, InvalidInput);
  c.ticks = {1, 0};
  EXPECT_THROW(ArbScanner{c}, InvalidInput);
  c.ticks = {};
  c.max_size = -1;
  EXPECT_THROW(ArbScanner{c}, InvalidInput);

  ArbScanner s(config({0, 0}));
  std::vector<OpportunityEvent> buf(s.max_events_per_input());
  const ScanEvent good = se(0, kAsk, kAdd, 100, 5, 10);
  std::vector<ScanEvent> bad(6, se(1, kBid, kAdd, 101, 1, 20));
  bad[0].book = 2;
  bad[1].reserved = 1;
  bad[2].action = 9;
  bad[3].price = -1;
  bad[4].side = 3;
  bad[5].size = -2;
  for (const ScanEvent& b : bad) {
    const std::vector<ScanEvent> evs = {good, b};
    EXPECT_THROW(s.process(evs.data(), evs.size(), buf.data(), buf.size()), InvalidInput);
    EXPECT_EQ(s.book(0).size() + s.book(1).size(), 0u);
    EXPECT_EQ(s.now(), std::numeric_limits<std::int64_t>::min());
  }
  EXPECT_THROW(s.set_synced(2, true, 0, buf.data(), buf.size()), InvalidInput);
  EXPECT_THROW(s.open_opportunity(0, 2), std::out_of_range);
  EXPECT_EQ(s.process(nullptr, 0, nullptr, 0).consumed, 0u);
}

// ------------------------------------------------------------ randomized agreement

struct Model {  // what the test itself knows: books, sync flags, last event times
  std::vector<L2Book> books;
  std::vector<bool> synced;
  std::vector<std::int64_t> last;
  std::int64_t now = std::numeric_limits<std::int64_t>::min();
  std::int64_t max_age;

  bool usable(std::size_t i) const {
    if (!synced[i]) return false;
    if (max_age == kNoMaxAge) return true;
    return last[i] != std::numeric_limits<std::int64_t>::min() &&
           Int128{now} < Int128{last[i]} + max_age;
  }
  void apply(const ScanEvent& e) {
    now = std::max(now, e.ts_recv_ns);
    last[e.book] = now;
    if (e.action == kSynced || e.action == kUnsynced) synced[e.book] = e.action == kSynced;
    if (e.action > kClear) return;
    const LevelEvent le{e.ts_exchange_ns, e.ts_recv_ns, e.price, e.size, e.count, e.side, e.action, e.flags};
    books[e.book].apply(&le, 1, nullptr);
  }
};

struct Stream {  // the opportunities the emitted events say are open
  std::map<std::pair<std::uint32_t, std::uint32_t>, OpportunityEvent> open;
  std::int64_t last_ts = std::numeric_limits<std::int64_t>::min();

  void apply(const OpportunityEvent& e) {
    ASSERT_GE(e.ts_ns, last_ts) << "stream out of time order";
    last_ts = e.ts_ns;
    const auto key = std::make_pair(e.buy_book, e.sell_book);
    auto it = open.find(key);
    ASSERT_EQ(e.duration_ns, e.ts_ns - e.open_ts_ns);
    if (e.kind == kOpened) {
      ASSERT_TRUE(it == open.end());
      ASSERT_EQ(e.open_ts_ns, e.ts_ns);
      ASSERT_EQ(e.peak_size, e.size);
      open[key] = e;
      return;
    }
    ASSERT_TRUE(it != open.end());
    const OpportunityEvent& prev = it->second;
    ASSERT_EQ(e.open_ts_ns, prev.open_ts_ns);
    if (e.kind == kUpdated) {
      ASSERT_TRUE(e.size != prev.size || e.edge_bps != prev.edge_bps) << "empty UPDATED";
      ASSERT_EQ(e.peak_size, std::max(prev.peak_size, e.size));
      ASSERT_EQ(e.peak_edge_bps, std::max(prev.peak_edge_bps, e.edge_bps));
      it->second = e;
    } else {
      ASSERT_EQ(e.kind, kClosed);
      ASSERT_NE(e.reason, 0);
      ASSERT_EQ(e.size, prev.size);
      ASSERT_EQ(e.peak_size, prev.peak_size);
      open.erase(it);
    }
  }
};

void check_all_pairs(const ArbScanner& s, const Model& m, const Stream& st,
                     std::optional<Qty> max_size) {
  const std::size_t n = s.num_books();
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(s.usable(i), m.usable(i)) << "book " << i;
  std::size_t open = 0;
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t b = 0; b < n; ++b) {
      if (a == b) continue;
      SCOPED_TRACE(testing::Message() << "pair " << a << " -> " << b);
      std::optional<Opportunity> want;
      if (m.usable(a) && m.usable(b))
        want = best_opportunity(m.books[a], m.books[b], s.fee_cbps(a), s.fee_cbps(b), max_size);
      const std::optional<Opportunity> got = s.open_opportunity(a, b);
      ASSERT_EQ(got.has_value(), want.has_value());
      const auto it = st.open.find({static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(b)});
      ASSERT_EQ(it != st.open.end(), got.has_value());
      if (!got) continue;
      ++open;
      ASSERT_TRUE(*got == *want) << "size " << got->size << " vs " << want->size;
      ASSERT_EQ(it->second.size, got->size);
      ASSERT_EQ(it->second.edge_bps, got->edge_bps);
    }
  }
  ASSERT_EQ(s.open_count(), open);
}

enum class Shape { Events, Messages, Interleaved };
struct Workload {
  std::vector<ScanEvent> events;
  std::vector<bool> boundary;  // no venue message is half-applied after this event
};

// Venues quoting around a shared mid with their own offsets, so that books
// cross each other every so often; some books are quieter and go stale.
// Messages are 1-4 level events; Interleaved keeps up to 3 of them open at once.
Workload random_events(std::mt19937_64& rng, std::size_t n_books, Shape shape, int count) {
  Workload w;
  std::vector<Price> offsets(n_books);
  Price mid = 1'000;  // 10 bps is one tick here: fees decide many crossings
  std::int64_t ts = 0;
  std::vector<std::pair<std::uint32_t, std::size_t>> pending;  // book, level events still to come
  auto level = [&](std::uint32_t b, std::uint16_t fl) {
    const std::uint8_t side = rng() % 2 ? kBid : kAsk;
    const Price away = static_cast<Price>(rng() % 6);
    const Price p = mid + offsets[b] + (side == kAsk ? away + 1 : -away - 1);
    const unsigned a = static_cast<unsigned>(rng() % 100);
    if (a < 2) return se(b, static_cast<std::uint8_t>(rng() % 3), kClear, 0, 0, ts, fl);
    if (a < 35) return se(b, side, kDelete, p, 0, ts, fl);
    return se(b, side, a < 70 ? kAdd : kUpdate, p, static_cast<Qty>(rng() % 5 + 1), ts, fl);
  };
  auto push = [&](const ScanEvent& e) {
    w.events.push_back(e);
    w.boundary.push_back(pending.empty());
  };
  while (static_cast<int>(w.events.size()) < count) {
    for (auto& o : offsets)
      if (rng() % 20 == 0) o = static_cast<Price>(rng() % 7) - 3;
    if (rng() % 4 == 0) mid += static_cast<Price>(rng() % 3) - 1;
    ts += rng() % 8 == 0 ? static_cast<std::int64_t>(rng() % 60) : static_cast<std::int64_t>(rng() % 4);
    const auto b = static_cast<std::uint32_t>(rng() % 5 == 0 ? n_books - 1 : rng() % n_books);
    const bool busy = std::any_of(pending.begin(), pending.end(), [&](auto& q) { return q.first == b; });
    const bool start =
        pending.empty() || (shape == Shape::Interleaved && pending.size() < 3 && !busy && rng() % 2);
    if (!start) {
      const std::size_t k = rng() % pending.size();
      const std::uint32_t pb = pending[k].first;
      const bool last = --pending[k].second == 0;
      if (last) pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(k));
      push(level(pb, last ? flags::kLast : 0));
      continue;
    }
    const unsigned r = static_cast<unsigned>(rng() % 100);
    if (r < 1) {
      push(se(b, 0, rng() % 2 ? kSynced : kUnsynced, 0, 0, ts));
    } else if (r < 6) {
      push(se(b, 0, kHeartbeat, 0, 0, ts));
    } else if (shape == Shape::Events) {
      push(level(b, rng() % 2 ? flags::kLast : 0));  // flags must not matter here
    } else {
      pending.emplace_back(b, rng() % 4 + 1);
    }
  }
  return w;
}

void random_run(std::uint64_t seed, std::vector<FeeCbps> fees, std::int64_t max_age, Shape shape,
                std::optional<Qty> max_size, int count) {
  std::mt19937_64 rng(seed);
  ScannerConfig c =
      config(fees, max_age, shape == Shape::Events ? ScanMode::EveryEvent : ScanMode::MessageEnd);
  c.max_size = max_size;
  ArbScanner s(c);
  const std::size_t n = fees.size();
  Model m{std::vector<L2Book>(n, L2Book(2, 4)), std::vector<bool>(n, true),
          std::vector<std::int64_t>(n, std::numeric_limits<std::int64_t>::min()),
          std::numeric_limits<std::int64_t>::min(), max_age};
  Stream st;
  const Workload wl = random_events(rng, n, shape, count);
  const std::vector<ScanEvent>& evs = wl.events;
  std::vector<OpportunityEvent> buf(s.max_events_per_input()), all;
  std::size_t opened = 0, stale = 0, gone = 0, updated = 0;
  for (std::size_t k = 0; k < evs.size(); ++k) {
    SCOPED_TRACE(testing::Message() << "event " << k);
    const ScanResult r = s.process(&evs[k], 1, buf.data(), buf.size());
    ASSERT_EQ(r.consumed, 1u);
    m.apply(evs[k]);
    for (std::size_t i = 0; i < r.emitted; ++i) {
      ASSERT_NO_FATAL_FAILURE(st.apply(buf[i]));
      opened += buf[i].kind == kOpened;
      stale += buf[i].reason == static_cast<std::uint8_t>(CloseReason::Stale);
      gone += buf[i].reason == static_cast<std::uint8_t>(CloseReason::Gone);
      updated += buf[i].kind == kUpdated;
    }
    all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.emitted));
    if (wl.boundary[k]) {
      ASSERT_NO_FATAL_FAILURE(check_all_pairs(s, m, st, max_size));
    }
  }
  EXPECT_GT(opened, 300u);  // the workload must exercise every transition
  EXPECT_GT(gone, 100u);
  EXPECT_GT(updated, 400u);
  if (max_age != kNoMaxAge) {
    EXPECT_GT(stale, 20u);
  }
  // The same events in one batch, through the smallest buffer: the same stream.
  ArbScanner again(c);
  const std::vector<OpportunityEvent> batched = run(again, evs);
  ASSERT_EQ(batched.size(), all.size());
  EXPECT_EQ(std::memcmp(batched.data(), all.data(), all.size() * sizeof(OpportunityEvent)), 0);
}

TEST(ArbScanner, RandomizedEveryEventAgreesWithBestOpportunity) {
  random_run(11, {0, 750, 1000, 100}, 80, Shape::Events, std::nullopt, 30000);
}

TEST(ArbScanner, RandomizedWithMaxSizeAndNoStaleness) {
  random_run(12, {0, 0, 1000, -250, 500}, kNoMaxAge, Shape::Events, 3, 15000);
}

TEST(ArbScanner, RandomizedMessageEndAgreesAtMessageBoundaries) {
  random_run(13, {200, 0, 1000}, 80, Shape::Messages, 7, 30000);
}

// Messages of different venues interleaved: exact again once none is half-applied.
TEST(ArbScanner, RandomizedInterleavedMessagesAgreeWhenAllAreComplete) {
  random_run(14, {0, 1000, 500, 0}, kNoMaxAge, Shape::Interleaved, std::nullopt, 30000);
}

}  // namespace
