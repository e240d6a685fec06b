// Execution simulator: touch events, the feed order the loop keeps without a
// scan, and the built-in cross-venue taker. The Python twins are
// tests/sim/test_sim_touch.py and tests/sim/test_sim_builtin.py.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "crossbook/sim/cross_arb.hpp"
#include "crossbook/sim/simulator.hpp"

using namespace crossbook;
using namespace crossbook::sim;

namespace {

Simulator venues(std::size_t n, std::int64_t entry_ns = 0) {
  std::vector<VenueSpec> v;
  for (std::size_t i = 0; i < n; ++i) {
    VenueSpec s;
    s.latency = std::make_unique<ConstantLatency>(entry_ns, 0);
    s.fees = std::make_unique<CbpsFeeModel>(0, 0);
    s.queue = std::make_unique<ConservativeQueue>();
    v.push_back(std::move(s));
  }
  return Simulator(std::move(v));
}

LevelEvent level(std::int64_t ts, Side side, Price price, Qty size, bool last = true) {
  return LevelEvent{ts, ts, price, size, 0, static_cast<std::uint8_t>(side),
                    static_cast<std::uint8_t>(Action::Update), last ? flags::kLast : std::uint16_t{0}};
}

LevelEvent status(std::int64_t ts, std::uint8_t action) { return LevelEvent{ts, ts, 0, 0, 0, 0, action, 0}; }

void add(Simulator& s, std::size_t v, std::vector<LevelEvent> rows) { s.add_levels(v, rows.data(), rows.size()); }

}  // namespace

TEST(SimLoop, TouchEventsOnlyWhenTheTouchChangesAtAMessageEnd) {
  Simulator s = venues(1);
  add(s, 0, {level(1, Side::Bid, 99, 5, false), level(1, Side::Ask, 101, 5), level(2, Side::Bid, 98, 4),
             level(3, Side::Ask, 101, 0, false), level(3, Side::Ask, 101, 5), level(4, Side::Ask, 101, 7),
             status(5, kActionUnsynced), level(6, Side::Bid, 99, 6), status(7, kActionSynced)});
  s.set_subscriptions(subscribe::kTouch);
  std::vector<std::int64_t> at;
  while (const auto ev = s.advance(100)) {
    ASSERT_EQ(ev->kind, EventKind::Touch);
    at.push_back(ev->ts_ns);
    if (ev->ts_ns == 5) {
      EXPECT_EQ(s.touch(0).bid_size, 0);
      EXPECT_EQ(s.touch(0).ask_size, 0);
    }
  }
  EXPECT_EQ(at, (std::vector<std::int64_t>{1, 4, 5, 7}));
  const BboRow& t = s.touch(0);
  EXPECT_EQ((std::vector<std::int64_t>{t.bid_price, t.bid_size, t.ask_price, t.ask_size}),
            (std::vector<std::int64_t>{99, 6, 101, 7}));
}

TEST(SimLoop, BookThenTouchForOneRow) {
  Simulator s = venues(1);
  add(s, 0, {level(1, Side::Ask, 101, 5), level(2, Side::Ask, 102, 5)});
  s.set_subscriptions(subscribe::kBook | subscribe::kTouch);
  std::vector<std::pair<EventKind, std::int64_t>> seen;
  while (const auto ev = s.advance(100)) seen.emplace_back(ev->kind, ev->ts_ns);
  EXPECT_EQ(seen, (std::vector<std::pair<EventKind, std::int64_t>>{
                      {EventKind::Book, 1}, {EventKind::Touch, 1}, {EventKind::Book, 2}}));
}

TEST(SimLoop, EqualTimesRunByVenueThenTradesFirstAcrossMessages) {
  Simulator s = venues(2);
  for (std::size_t v : {1u, 0u}) {
    add(s, v, {level(10, Side::Bid, 90 + static_cast<Price>(v), 1, false),
               level(10, Side::Bid, 80 + static_cast<Price>(v), 1), level(20, Side::Ask, 110, 1)});
    std::vector<TradeEvent> t{TradeEvent{10, 10, 100, 1, 1, {}}};
    s.add_trades(v, t.data(), t.size());
  }
  s.set_subscriptions(subscribe::kBook | subscribe::kTrade);
  std::vector<std::tuple<EventKind, std::uint32_t, std::int64_t>> seen;
  while (const auto ev = s.advance(100)) seen.emplace_back(ev->kind, ev->venue, ev->ts_ns);
  using E = std::tuple<EventKind, std::uint32_t, std::int64_t>;
  EXPECT_EQ(seen, (std::vector<E>{E{EventKind::Trade, 0, 10}, E{EventKind::Book, 0, 10},
                                  E{EventKind::Trade, 1, 10}, E{EventKind::Book, 1, 10},
                                  E{EventKind::Book, 0, 20}, E{EventKind::Book, 1, 20}}));
}

TEST(SimLoop, CrossArbBuysTheCheapAskAndSellsTheRichBidBeyondFees) {
  Simulator s = venues(2);
  add(s, 0, {level(1, Side::Ask, 100, 5), level(3, Side::Ask, 100, 6)});
  add(s, 1, {level(2, Side::Bid, 102, 4)});
  // 1% on venue 0: 100 costs 101, the bid at 102 earns. Cooldown 1: the pair trades at 2
  // (the first touch event with both sides) and again at 3.
  CrossArbTaker strategy(s, CrossArbParams{{10'000, 0}, 3, 1});
  strategy.run(s, 100);
  EXPECT_EQ(strategy.touch_events(), 3u);
  EXPECT_EQ(strategy.pairs_traded(), 2u);
  const auto& orders = s.ledger().orders;
  ASSERT_EQ(orders.size(), 4u);
  for (const SimOrder& o : orders) {
    EXPECT_EQ(o.tif, static_cast<std::uint8_t>(TimeInForce::Ioc));
    EXPECT_EQ(o.size, 3);
    EXPECT_EQ(o.price, o.venue == 0 ? 100 : 102);
    EXPECT_EQ(o.side, static_cast<std::uint8_t>(o.venue == 0 ? Side::Bid : Side::Ask));
  }
  // The second sell finds only the 1 of the bid's 4 that the first did not take.
  EXPECT_EQ(orders[0].ts_decision_ns, 2);
  EXPECT_EQ(orders[2].ts_decision_ns, 3);
  EXPECT_EQ(orders[3].filled, 1);
  EXPECT_EQ(s.ledger().fills.size(), 4u);
}

TEST(SimLoop, CrossArbRefusesBadParameters) {
  Simulator s = venues(2);
  EXPECT_THROW(CrossArbTaker(s, CrossArbParams{{0}, 1, 0}), InvalidInput);
  EXPECT_THROW(CrossArbTaker(s, CrossArbParams{{0, 1'000'000}, 1, 0}), InvalidInput);
  EXPECT_THROW(CrossArbTaker(s, CrossArbParams{{0, 0}, 0, 0}), InvalidInput);
  EXPECT_THROW(CrossArbTaker(s, CrossArbParams{{0, 0}, 1, -1}), InvalidInput);
}
