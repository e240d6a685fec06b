// MatchingEngine: price-time priority, order types and time in force,
// self-trade prevention, the safety controls, and the level events it emits.
// Known-answer tests first; then a seeded differential run against the plain
// matcher in naive_matcher.hpp, comparing every fill, every rejection and the
// whole book after every request, with check_invariants() each time.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "crossbook/l2_book.hpp"
#include "crossbook/matching_engine.hpp"
#include "naive_matcher.hpp"

namespace {

using namespace crossbook;

constexpr std::uint8_t kBid = 1, kAsk = 2;
constexpr std::uint8_t kLimit = 1, kMarket = 2, kCancel = 3, kModify = 4;
constexpr std::uint8_t kGtc = 1, kIoc = 2, kFok = 3;

using F = std::tuple<std::int64_t, std::uint64_t, std::uint64_t, Price, Qty, std::uint8_t>;
using R = std::tuple<std::int64_t, std::uint64_t, Qty, std::uint8_t>;
using Row = std::tuple<std::uint64_t, Price, Qty, std::uint64_t>;

F f(const Fill& x) { return {x.ts_ns, x.taker_id, x.maker_id, x.price, x.size, x.taker_side}; }
R r(const Reject& x) { return {x.ts_ns, x.order_id, x.size, x.reason}; }
std::uint8_t why(RejectReason x) { return static_cast<std::uint8_t>(x); }

std::vector<Row> rows(const OrderBook& b, Side s) {
  std::vector<Row> out;
  b.for_each_order(s, [&](const OrderView& v) {
    out.emplace_back(v.order_id, v.price, v.size, v.owner);
    return true;
  });
  return out;
}

OrderRequest req(std::uint8_t type, std::uint64_t id, std::uint8_t side, Price price, Qty size,
                 std::uint8_t tif = kGtc, std::uint64_t owner = 1, std::uint8_t stp = 0,
                 std::uint16_t flags = 0, std::int64_t ts = 0) {
  return OrderRequest{ts, id, owner, price, size, side, type, tif, stp, flags, 0};
}

// An engine with its outputs, cleared per call.
struct Venue {
  MatchingEngine engine;
  std::vector<Fill> fills;
  std::vector<Reject> rejects;
  explicit Venue(EngineConfig c = {}) : engine(c) {}
  bool go(const OrderRequest& q) {
    fills.clear();
    rejects.clear();
    const bool ok = engine.submit(q, fills, rejects);
    engine.check_invariants();
    return ok;
  }
  std::vector<F> got_fills() const {
    std::vector<F> v;
    for (const auto& x : fills) v.push_back(f(x));
    return v;
  }
  std::vector<R> got_rejects() const {
    std::vector<R> v;
    for (const auto& x : rejects) v.push_back(r(x));
    return v;
  }
};

// ------------------------------------------------------------ known answers

TEST(MatchingEngine, LayoutsOfTheNumpyRecords) {
  EXPECT_EQ(sizeof(OrderRequest), 48u);
  EXPECT_EQ(offsetof(OrderRequest, side), 40u);
  EXPECT_EQ(offsetof(OrderRequest, flags), 44u);
  EXPECT_EQ(sizeof(Fill), 48u);
  EXPECT_EQ(offsetof(Fill, taker_side), 40u);
  EXPECT_EQ(sizeof(Reject), 32u);
}

TEST(MatchingEngine, PriceTimePriorityAtTheMakersPrice) {
  Venue v;
  v.go(req(kLimit, 1, kAsk, 101, 5));
  v.go(req(kLimit, 2, kAsk, 100, 5));
  v.go(req(kLimit, 3, kAsk, 100, 5));
  EXPECT_TRUE(v.go(req(kLimit, 4, kBid, 101, 12, kGtc, 2, 0, 0, 9)));
  EXPECT_EQ(v.got_fills(), (std::vector<F>{{9, 4, 2, 100, 5, kBid}, {9, 4, 3, 100, 5, kBid},
                                           {9, 4, 1, 101, 2, kBid}}));
  EXPECT_TRUE(v.rejects.empty());
  EXPECT_EQ(rows(v.engine.book(), Side::Ask), (std::vector<Row>{{1, 101, 3, 1}}));
  EXPECT_EQ(v.engine.trade_count(), 3u);
  EXPECT_EQ(v.engine.last_trade_price(), Price{101});
  EXPECT_EQ(v.engine.traded_volume(), Int128{12});
  v.go(req(kLimit, 5, kBid, 99, 4));  // does not cross: rests
  EXPECT_TRUE(v.fills.empty());
  EXPECT_EQ(v.engine.book().bbo().bid_price, 99);
}

TEST(MatchingEngine, TimeInForceAndMarketOrders) {
  Venue v;
  v.go(req(kLimit, 1, kAsk, 100, 5));
  v.go(req(kLimit, 2, kAsk, 102, 5));
  EXPECT_TRUE(v.go(req(kLimit, 3, kBid, 100, 8, kIoc)));  // fills 5, rest expires
  EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 3, 3, why(RejectReason::Expired)}}));
  EXPECT_FALSE(v.go(req(kLimit, 4, kBid, 102, 6, kFok)));  // only 5 there: nothing happens
  EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 4, 6, why(RejectReason::FokNotFillable)}}));
  EXPECT_TRUE(v.fills.empty());
  EXPECT_TRUE(v.go(req(kLimit, 5, kBid, 102, 5, kFok)));
  EXPECT_EQ(v.fills.size(), 1u);
  v.go(req(kLimit, 6, kAsk, 110, 5));
  EXPECT_TRUE(v.go(req(kMarket, 7, kBid, 0, 9, kGtc)));  // a market order never rests
  EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 7, 4, why(RejectReason::Expired)}}));
  EXPECT_EQ(v.engine.book().size(), 0u);
  EXPECT_FALSE(v.go(req(kMarket, 8, kAsk, 0, 1, kFok)));  // empty side
}

TEST(MatchingEngine, PostOnlyIsRejectedWhenItWouldTake) {
  Venue v;
  v.go(req(kLimit, 1, kAsk, 100, 5, kGtc, 7));
  EXPECT_FALSE(v.go(req(kLimit, 2, kBid, 100, 1, kGtc, 7, 0, order_flags::kPostOnly)));
  EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 2, 1, why(RejectReason::PostOnlyWouldTake)}}));
  EXPECT_TRUE(v.go(req(kLimit, 3, kBid, 99, 1, kGtc, 7, 0, order_flags::kPostOnly)));
  EXPECT_FALSE(v.go(req(kLimit, 4, kBid, 99, 1, kIoc, 7, 0, order_flags::kPostOnly)));
  EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 4, 1, why(RejectReason::InvalidFlags)}}));
  EXPECT_FALSE(v.go(req(kLimit, 5, kBid, 99, 1, kGtc, 7, 0, 2)));  // unknown flag
}

TEST(MatchingEngine, CancelAndModifyKeepOrLoseThePlace) {
  Venue v;
  for (std::uint64_t id = 1; id <= 3; ++id) v.go(req(kLimit, id, kBid, 100, 10, kGtc, id));
  EXPECT_FALSE(v.go(req(kCancel, 1, 0, 0, 0, kGtc, 2)));  // not its owner
  EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 1, 0, why(RejectReason::OwnerMismatch)}}));
  EXPECT_TRUE(v.go(req(kCancel, 1, 0, 0, 4, kGtc, 1)));  // partial: keeps its place
  EXPECT_EQ(v.engine.book().queue_position(2), Qty{6});
  EXPECT_TRUE(v.go(req(kModify, 1, 0, 100, 8, kGtc, 1)));  // grows: to the back
  EXPECT_EQ(v.engine.book().queue_position(1), Qty{20});
  EXPECT_TRUE(v.go(req(kModify, 2, 0, 100, 3, kGtc, 2)));  // shrinks: stays first
  EXPECT_EQ(v.engine.book().queue_position(2), Qty{0});
  v.go(req(kLimit, 9, kAsk, 103, 4, kGtc, 9));
  // A modify through the touch is a new order: it matches, the rest rests.
  EXPECT_TRUE(v.go(req(kModify, 3, 0, 104, 6, kGtc, 3, 0, 0, 5)));
  EXPECT_EQ(v.got_fills(), (std::vector<F>{{5, 3, 9, 103, 4, kBid}}));
  EXPECT_EQ(v.engine.book().order(3)->price, 104);
  EXPECT_EQ(v.engine.book().order(3)->size, 2);
  v.go(req(kLimit, 10, kAsk, 105, 1, kGtc, 9));
  EXPECT_FALSE(v.go(req(kModify, 3, 0, 105, 2, kGtc, 3, 0, order_flags::kPostOnly)));
  EXPECT_EQ(v.engine.book().order(3)->price, 104);  // a rejected modify changes nothing
  EXPECT_FALSE(v.go(req(kCancel, 77, 0, 0, 0)));
  EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 77, 0, why(RejectReason::UnknownOrder)}}));
  EXPECT_FALSE(v.go(req(kLimit, 2, kBid, 1, 1)));
  EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 2, 1, why(RejectReason::DuplicateOrderId)}}));
}

TEST(MatchingEngine, SelfTradePreventionModes) {
  // Resting: A1 (owner 1, 5), B (owner 2, 5), A2 (owner 1, 5) at 100.
  auto setup = [](Venue& v) {
    v.go(req(kLimit, 1, kAsk, 100, 5, kGtc, 1));
    v.go(req(kLimit, 2, kAsk, 100, 5, kGtc, 2));
    v.go(req(kLimit, 3, kAsk, 100, 5, kGtc, 1));
  };
  const auto st = why(RejectReason::SelfTrade);
  {
    Venue v;
    setup(v);
    v.go(req(kLimit, 9, kBid, 100, 7, kGtc, 1, static_cast<std::uint8_t>(StpMode::CancelNewest)));
    EXPECT_TRUE(v.fills.empty());
    EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 9, 7, st}}));
    EXPECT_EQ(v.engine.book().size(), 3u);
  }
  {
    Venue v;
    setup(v);
    v.go(req(kLimit, 9, kBid, 100, 7, kGtc, 1, static_cast<std::uint8_t>(StpMode::CancelOldest)));
    EXPECT_EQ(v.got_fills(), (std::vector<F>{{0, 9, 2, 100, 5, kBid}}));
    EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 1, 5, st}, {0, 3, 5, st}}));
    EXPECT_EQ(rows(v.engine.book(), Side::Bid), (std::vector<Row>{{9, 100, 2, 1}}));
  }
  {
    Venue v;
    setup(v);
    v.go(req(kLimit, 9, kBid, 100, 7, kGtc, 1, static_cast<std::uint8_t>(StpMode::CancelBoth)));
    EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 1, 5, st}, {0, 9, 7, st}}));
    EXPECT_EQ(v.engine.book().size(), 2u);
  }
  {
    Venue v;
    setup(v);
    v.go(req(kLimit, 9, kBid, 100, 12, kGtc, 1, static_cast<std::uint8_t>(StpMode::Decrement)));
    EXPECT_EQ(v.got_fills(), (std::vector<F>{{0, 9, 2, 100, 5, kBid}}));
    // 12 - 5 (decrement A1) - 5 (trade B) = 2, then A2 decremented by 2.
    EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 1, 5, st}, {0, 9, 5, st}, {0, 3, 2, st},
                                               {0, 9, 2, st}}));
    EXPECT_EQ(rows(v.engine.book(), Side::Ask), (std::vector<Row>{{3, 100, 3, 1}}));
  }
  {
    EngineConfig c;
    c.stp = StpMode::CancelNewest;  // engine default, overridden per order by None
    Venue v(c);
    setup(v);
    v.go(req(kLimit, 9, kBid, 100, 1, kGtc, 1));
    EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 9, 1, st}}));
    v.go(req(kLimit, 10, kBid, 100, 1, kGtc, 1, static_cast<std::uint8_t>(StpMode::None)));
    EXPECT_EQ(v.got_fills(), (std::vector<F>{{0, 10, 1, 100, 1, kBid}}));
    // FOK counts only what it could trade before its own order.
    EXPECT_FALSE(v.go(req(kLimit, 11, kBid, 100, 6, kFok, 1)));
    EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 11, 6, why(RejectReason::FokNotFillable)}}));
  }
}

TEST(MatchingEngine, SizeNotionalAndPriceBand) {
  EngineConfig c;
  c.max_order_size = 100;
  c.max_notional = 5000;
  c.band_bps = 1000;  // 10 %
  Venue v(c);
  EXPECT_TRUE(v.go(req(kLimit, 1, kAsk, 1000, 5)));  // no reference yet: no band
  v.engine.set_reference_price(100);
  EXPECT_EQ(v.engine.reference_price(), Price{100});
  auto reason = [&](const OrderRequest& q) {
    v.go(q);
    return v.rejects.empty() ? 0 : v.rejects[0].reason;
  };
  EXPECT_EQ(reason(req(kLimit, 2, kBid, 100, 101)), why(RejectReason::MaxOrderSize));
  EXPECT_EQ(reason(req(kLimit, 3, kBid, 111, 1)), why(RejectReason::PriceBand));
  EXPECT_EQ(reason(req(kLimit, 4, kAsk, 89, 1)), why(RejectReason::PriceBand));
  EXPECT_EQ(reason(req(kLimit, 5, kAsk, 110, 1)), 0);
  EXPECT_EQ(reason(req(kLimit, 6, kBid, 90, 56)), why(RejectReason::MaxNotional));  // 5040
  EXPECT_EQ(reason(req(kMarket, 7, kBid, 0, 46)), why(RejectReason::MaxNotional));  // 110*46
  v.go(req(kLimit, 8, kAsk, 105, 1));
  v.engine.set_reference_price(90);  // band [81, 99]: the asks are out of reach
  v.go(req(kMarket, 9, kBid, 0, 3));
  EXPECT_TRUE(v.fills.empty());
  EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 9, 3, why(RejectReason::PriceBand)}}));
  EXPECT_THROW(MatchingEngine(EngineConfig{StpMode::Default, 0, 0, 0, false, 0, 0}), InvalidInput);
  c.band_bps = -1;
  EXPECT_THROW(v.engine.set_config(c), InvalidInput);
  EXPECT_THROW(v.engine.set_reference_price(-1), InvalidInput);
}

TEST(MatchingEngine, VolatilityHaltAcceptsOnlyCancelsUntilResumed) {
  EngineConfig c;
  c.halt_move_bps = 500;  // 5 %
  c.halt_window_ns = 100;
  Venue v(c);
  v.go(req(kLimit, 1, kAsk, 100, 1, kGtc, 1));
  v.go(req(kLimit, 2, kAsk, 104, 1, kGtc, 1));
  v.go(req(kLimit, 3, kAsk, 106, 5, kGtc, 1));
  v.go(req(kLimit, 10, kBid, 100, 1, kGtc, 2, 0, 0, 0));
  v.go(req(kLimit, 11, kBid, 104, 1, kGtc, 2, 0, 0, 50));  // +4 %: still trading
  EXPECT_FALSE(v.engine.halted());
  v.go(req(kLimit, 12, kBid, 106, 2, kGtc, 2, 0, 0, 99));  // +6 % within 100 ns
  EXPECT_EQ(v.fills.size(), 1u);                            // its fills stand
  EXPECT_TRUE(v.engine.halted());
  EXPECT_FALSE(v.go(req(kLimit, 13, kBid, 1, 1, kGtc, 2, 0, 0, 120)));
  EXPECT_EQ(v.got_rejects(), (std::vector<R>{{120, 13, 1, why(RejectReason::Halted)}}));
  EXPECT_FALSE(v.go(req(kModify, 3, 0, 107, 1, kGtc, 1)));
  EXPECT_TRUE(v.go(req(kCancel, 3, 0, 0, 1, kGtc, 1)));
  v.engine.resume();
  EXPECT_TRUE(v.go(req(kLimit, 14, kBid, 106, 1, kGtc, 2, 0, 0, 130)));
  EXPECT_FALSE(v.engine.halted());
  // Old trades leave the window: 100 at t=0 is forgotten by t=1000.
  v.engine.halt();
  EXPECT_TRUE(v.engine.halted());
}

TEST(MatchingEngine, KillSwitchCancelsAndBlocksAnOwnerUntilReleased) {
  Venue v;
  std::vector<LevelEvent> sink;
  v.engine.set_level_sink(&sink);
  v.go(req(kLimit, 1, kBid, 99, 1, kGtc, 5));
  v.go(req(kLimit, 2, kBid, 100, 2, kGtc, 6));
  v.go(req(kLimit, 3, kBid, 100, 3, kGtc, 5));
  v.go(req(kLimit, 4, kAsk, 101, 4, kGtc, 5));
  std::vector<Reject> rj;
  EXPECT_EQ(v.engine.kill(5, 42, rj), 3u);
  std::vector<R> got;
  for (const auto& x : rj) got.push_back(r(x));
  const auto ks = why(RejectReason::KillSwitch);
  EXPECT_EQ(got, (std::vector<R>{{42, 3, 3, ks}, {42, 1, 1, ks}, {42, 4, 4, ks}}));
  EXPECT_TRUE(v.engine.killed(5));
  EXPECT_EQ(rows(v.engine.book(), Side::Bid), (std::vector<Row>{{2, 100, 2, 6}}));
  EXPECT_FALSE(v.go(req(kLimit, 7, kBid, 1, 1, kGtc, 5)));
  EXPECT_EQ(v.rejects[0].reason, ks);
  v.engine.release(5);
  EXPECT_TRUE(v.go(req(kLimit, 7, kBid, 1, 1, kGtc, 5)));
  EXPECT_EQ(sink.back().price, 1);
  v.engine.clear();
  EXPECT_EQ(v.engine.book().size(), 0u);
  EXPECT_GT(v.engine.memory_bytes(), 0u);
}

TEST(MatchingEngine, InvalidRequestsAreRejectedWithTheirReason) {
  Venue v;
  auto reason = [&](const OrderRequest& q) {
    EXPECT_FALSE(v.go(q));
    return v.rejects.at(0).reason;
  };
  EXPECT_EQ(reason(req(0, 1, kBid, 1, 1)), why(RejectReason::InvalidType));
  EXPECT_EQ(reason(req(kLimit, 1, 0, 1, 1)), why(RejectReason::InvalidSide));
  EXPECT_EQ(reason(req(kLimit, 1, kBid, 1, 1, 0)), why(RejectReason::InvalidTif));
  EXPECT_EQ(reason(req(kLimit, 1, kBid, 1, 1, kGtc, 1, 6)), why(RejectReason::InvalidStp));
  EXPECT_EQ(reason(req(kMarket, 1, kBid, 1, 1, kGtc, 1, 0, 1)), why(RejectReason::InvalidFlags));
  EXPECT_EQ(reason(req(kLimit, 1, kBid, 1, 0)), why(RejectReason::InvalidSize));
  EXPECT_EQ(reason(req(kLimit, 1, kBid, -1, 1)), why(RejectReason::InvalidPrice));
  v.go(req(kLimit, 1, kBid, 1, 1));
  EXPECT_EQ(reason(req(kCancel, 1, 0, 0, -1)), why(RejectReason::InvalidSize));
  EXPECT_EQ(reason(req(kModify, 1, 0, 1, 0)), why(RejectReason::InvalidSize));
  EXPECT_EQ(reason(req(kModify, 1, 0, -1, 1)), why(RejectReason::InvalidPrice));
}

TEST(MatchingEngine, LevelTotalsNeverWrap) {
  Venue v;
  const Qty big = std::numeric_limits<Qty>::max() - 5;
  EXPECT_TRUE(v.go(req(kLimit, 1, kBid, 10, big)));
  EXPECT_FALSE(v.go(req(kLimit, 2, kBid, 10, 6)));
  EXPECT_EQ(v.got_rejects(), (std::vector<R>{{0, 2, 6, why(RejectReason::InvalidSize)}}));
  EXPECT_TRUE(v.go(req(kLimit, 2, kBid, 9, 6)));
  EXPECT_FALSE(v.go(req(kModify, 2, 0, 10, 6)));
  EXPECT_EQ(v.engine.book().order(2)->price, 9);
  EXPECT_TRUE(v.go(req(kMarket, 3, kAsk, 0, big + 3, kIoc)));  // never rests: no check
  EXPECT_EQ(v.fills.size(), 2u);
}

// ------------------------------------------------------------ differential

struct Gen {
  std::mt19937_64 rng;
  std::uint64_t next_id = 1;
  std::int64_t ts = 0;
  int pick(int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); }

  // A live order of the reference (id, owner, price, size), if any.
  bool live(naive::Matcher& m, std::uint64_t* id, std::uint64_t* owner, Price* p, Qty* size) {
    std::vector<std::tuple<std::uint64_t, std::uint64_t, Price, Qty>> all;
    for (std::uint8_t s : {1, 2})
      for (const auto& [price, q] : m.book[s])
        for (const auto& o : q) all.emplace_back(o.id, o.owner, price, o.size);
    if (all.empty()) return false;
    const auto k = static_cast<std::size_t>(pick(static_cast<int>(all.size())));
    std::tie(*id, *owner, *p, *size) = all[k];
    return true;
  }

  // Bids mostly below 1000 and asks mostly above, overlapping a few ticks,
  // so that the book keeps some depth and a fair share of orders cross.
  Price price_for(std::uint8_t side) {
    return side == kAsk ? 997 + pick(16) : 1003 - pick(16);
  }

  OrderRequest next(naive::Matcher& m) {
    ts += pick(4);
    const int r = pick(100);
    std::uint64_t owner = 1 + static_cast<std::uint64_t>(pick(3));
    auto bad = [&](int v, int alt) { return pick(40) == 0 ? alt : v; };
    std::uint64_t id = 0, lowner = 0;
    Price lp = 0;
    Qty lsize = 0;
    const bool have = live(m, &id, &lowner, &lp, &lsize);
    if (!have || pick(15) == 0) id = 900'000 + static_cast<std::uint64_t>(pick(10));
    const auto stp = static_cast<std::uint8_t>(pick(3) ? 0 : bad(pick(6), 6));
    if (r < 68) {
      const bool market = r < 5;
      const auto type =
          static_cast<std::uint8_t>(r < 2 ? pick(2) * 5 : (market ? kMarket : kLimit));
      const std::uint64_t new_id = pick(30) == 0 && have ? id : next_id++;
      const auto side = static_cast<std::uint8_t>(bad(1 + pick(2), 3 * pick(2)));
      const auto tif =
          static_cast<std::uint8_t>(bad(pick(10) < 7 ? kGtc : 2 + pick(2), 4 * pick(2)));
      const auto flags = static_cast<std::uint16_t>(pick(10) == 0 ? 1 : bad(0, 2));
      const Price price = pick(40) == 0 ? -2 : price_for(side);
      const Qty size = bad(1 + pick(market ? 80 : 50), -pick(2));
      return OrderRequest{ts, new_id, owner, price, size, side, type, tif, stp, flags, 0};
    }
    if (have && pick(10)) owner = lowner;
    if (r < 84) {
      const Qty size = pick(3) ? 0 : bad(1 + pick(static_cast<int>(lsize + 2)), -1);
      return OrderRequest{ts, id, owner, 0, size, 0, kCancel, 0, 0, 0, 0};
    }
    const Price price = pick(3) == 0 ? lp : (pick(40) ? 990 + pick(21) : -1);
    const Qty size = pick(2) ? lsize + pick(5) - 2 : 1 + pick(50);
    const auto flags = static_cast<std::uint16_t>(pick(5) == 0 ? 1 : bad(0, 4));
    return OrderRequest{ts, id, owner, price, size, 0, kModify, 0, stp, flags, 0};
  }
};

std::vector<Row> ref_rows(const naive::Matcher& m, std::uint8_t s) {
  std::vector<Row> out;
  auto emit = [&](Price p, const std::deque<naive::NOrder>& q) {
    for (const auto& o : q) out.emplace_back(o.id, p, o.size, o.owner);
  };
  if (s == 1)
    for (auto it = m.book[1].rbegin(); it != m.book[1].rend(); ++it) emit(it->first, it->second);
  else
    for (const auto& [p, q] : m.book[2]) emit(p, q);
  return out;
}

std::vector<std::tuple<Price, Qty, std::int32_t>> levels(const L2Book& b, const OrderBook& ob,
                                                         Side s, bool from_l2) {
  std::vector<DepthRow> out(512);
  out.resize(from_l2 ? b.side(s).depth(out.data(), out.size())
                     : ob.depth(s, out.data(), out.size()));
  std::vector<std::tuple<Price, Qty, std::int32_t>> v;
  for (const auto& d : out) v.emplace_back(d.price, d.size, d.count);
  return v;
}

void run_differential(std::uint64_t seed, const EngineConfig& cfg, int steps) {
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  Gen gen{std::mt19937_64(seed)};
  MatchingEngine engine(cfg);
  naive::Matcher ref;
  ref.cfg = cfg;
  L2Book l2;
  std::vector<LevelEvent> sink;
  engine.set_level_sink(&sink);
  std::vector<Fill> fills, ref_fills;
  std::vector<Reject> rejects, ref_rejects;
  std::size_t n_fills = 0, n_rejects = 0;
  for (int step = 0; step < steps; ++step) {
    SCOPED_TRACE(testing::Message() << "step " << step);
    fills.clear(), ref_fills.clear(), rejects.clear(), ref_rejects.clear();
    const int c = gen.pick(400);
    if (c < 1) {
      const std::uint64_t owner = 1 + static_cast<std::uint64_t>(gen.pick(3));
      ASSERT_EQ(engine.kill(owner, gen.ts, rejects), ref.kill(owner, gen.ts, ref_rejects));
    } else if (c < 5) {
      const std::uint64_t owner = 1 + static_cast<std::uint64_t>(gen.pick(3));
      engine.release(owner);
      ref.killed.erase(owner);
    } else if (c < 17) {
      if (engine.halted()) {
        engine.resume();
        ref.resume();
      }
    } else if (c < 18) {
      engine.halt();
      ref.halted = true;
    } else if (c < 22) {
      std::optional<Price> p;
      if (gen.pick(4)) p = 990 + gen.pick(21);
      engine.set_reference_price(p);
      ref.reference = p;
    } else {
      const OrderRequest q = gen.next(ref);
      const bool ok = engine.submit(q, fills, rejects);
      ASSERT_EQ(ok, ref.submit(q, ref_fills, ref_rejects));
    }
    ASSERT_EQ(fills.size(), ref_fills.size());
    for (std::size_t i = 0; i < fills.size(); ++i) ASSERT_EQ(f(fills[i]), f(ref_fills[i])) << i;
    ASSERT_EQ(rejects.size(), ref_rejects.size());
    for (std::size_t i = 0; i < rejects.size(); ++i)
      ASSERT_EQ(r(rejects[i]), r(ref_rejects[i])) << i;
    n_fills += fills.size();
    n_rejects += rejects.size();
    ASSERT_NO_THROW(engine.check_invariants());
    ASSERT_EQ(rows(engine.book(), Side::Bid), ref_rows(ref, 1));
    ASSERT_EQ(rows(engine.book(), Side::Ask), ref_rows(ref, 2));
    ASSERT_EQ(engine.halted(), ref.halted);
    ASSERT_EQ(engine.trade_count(), ref.trade_count);
    ASSERT_EQ(engine.last_trade_price(), ref.last_trade);
    ASSERT_EQ(engine.reference_price(), ref.reference);
    l2.apply(sink.data(), sink.size(), nullptr);
    sink.clear();
    for (Side s : {Side::Bid, Side::Ask})
      ASSERT_EQ(levels(l2, engine.book(), s, true), levels(l2, engine.book(), s, false));
  }
  // The run must have exercised matching and refusals, not only resting.
  EXPECT_GT(n_fills, static_cast<std::size_t>(steps) / 20);
  EXPECT_GT(n_rejects, static_cast<std::size_t>(steps) / 20);
}

TEST(MatchingEngineDifferential, NoControls) {
  run_differential(1, EngineConfig{}, 8000);
}

TEST(MatchingEngineDifferential, EveryControlOn) {
  EngineConfig c;
  c.max_order_size = 45;
  c.max_notional = 1000 * 40;
  c.band_bps = 120;
  c.reference_follows_trades = true;
  c.halt_move_bps = 150;
  c.halt_window_ns = 30;
  run_differential(2, c, 8000);
}

TEST(MatchingEngineDifferential, EngineDefaultStpModes) {
  for (StpMode mode : {StpMode::CancelNewest, StpMode::CancelOldest, StpMode::CancelBoth,
                       StpMode::Decrement}) {
    EngineConfig c;
    c.stp = mode;
    c.band_bps = 200;
    run_differential(10 + static_cast<std::uint64_t>(mode), c, 3000);
  }
}

}  // namespace
