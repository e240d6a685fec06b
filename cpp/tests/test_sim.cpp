// Execution simulator core: venue rules, event order, money. The full
// differential test against the Python reference is tests/sim/test_sim_state.py.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "crossbook/sim/simulator.hpp"

using namespace crossbook;
using namespace crossbook::sim;

namespace {

VenueSpec spec(std::int64_t entry_ns, std::int64_t response_ns, std::int32_t maker = 0,
               std::int32_t taker = 0) {
  VenueSpec s;
  s.latency = std::make_unique<ConstantLatency>(entry_ns, response_ns);
  s.fees = std::make_unique<CbpsFeeModel>(maker, taker);
  s.queue = std::make_unique<ConservativeQueue>();
  return s;
}

Simulator one_venue(std::int64_t entry_ns = 0, std::int64_t response_ns = 0, std::int32_t maker = 0,
                    std::int32_t taker = 0) {
  std::vector<VenueSpec> v;
  v.push_back(spec(entry_ns, response_ns, maker, taker));
  return Simulator(std::move(v));
}

LevelEvent level(std::int64_t ts, Side side, Price price, Qty size) {
  return LevelEvent{ts, ts, price, size, 0, static_cast<std::uint8_t>(side),
                    static_cast<std::uint8_t>(Action::Update), flags::kLast};
}

LevelEvent status(std::int64_t ts, std::uint8_t action) { return LevelEvent{ts, ts, 0, 0, 0, 0, action, 0}; }

TradeEvent trade(std::int64_t ts, Side aggressor, Price price, Qty size) {
  return TradeEvent{ts, ts, price, size, static_cast<std::uint8_t>(aggressor), {}};
}

void add(Simulator& s, std::vector<LevelEvent> rows) { s.add_levels(0, rows.data(), rows.size()); }
void add(Simulator& s, std::vector<TradeEvent> rows) { s.add_trades(0, rows.data(), rows.size()); }

NewOrder limit(Side side, Price price, Qty size, TimeInForce tif = TimeInForce::Gtc, bool post = false) {
  return NewOrder{0, side, OrderType::Limit, tif, post, price, size};
}

const SimOrder& order(const Simulator& s, std::uint64_t id) { return s.ledger().orders.at(id - 1); }

}  // namespace

TEST(Sim, TakerWalksArrivalBookAndTakenLiquidityStaysTakenUntilTheLevelChanges) {
  Simulator s = one_venue(5, 0, 0, 0);
  add(s, {level(1, Side::Ask, 101, 3), level(1, Side::Ask, 102, 4), level(8, Side::Ask, 101, 10)});
  s.advance(2);
  const auto a = s.submit(limit(Side::Bid, 102, 5));  // arrives at 7, before the row at 8
  s.advance(7);
  const auto& fills = s.ledger().fills;
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[0].price, 101);
  EXPECT_EQ(fills[0].size, 3);
  EXPECT_EQ(fills[1].price, 102);
  EXPECT_EQ(fills[1].size, 2);
  EXPECT_EQ(fills[1].ts_fill_ns, 7);
  EXPECT_EQ(fills[1].ts_arrival_ns, 7);
  EXPECT_EQ(fills[1].ts_decision_ns, 2);
  EXPECT_EQ(order(s, a).status, static_cast<std::uint8_t>(OrderStatus::Filled));
  EXPECT_EQ(s.venue(0).taken(Side::Ask, 102), 2);
  const auto b = s.submit(limit(Side::Bid, 102, 5, TimeInForce::Ioc));
  s.advance(12);  // the row at 8 resets 101 to 10 (nothing taken) before b arrives at 12
  EXPECT_EQ(order(s, b).filled, 5);
  EXPECT_EQ(s.ledger().fills[2].price, 101);
  // No row changed 101 or 102 since: 10 - 5 and 4 - 2 are left.
  const auto c = s.submit(limit(Side::Bid, 102, 10, TimeInForce::Ioc));
  s.advance(17);
  EXPECT_EQ(order(s, c).filled, 7);
  EXPECT_EQ(s.venue(0).taken(Side::Ask, 101), 10);
  EXPECT_EQ(s.venue(0).taken(Side::Ask, 102), 4);
}

TEST(Sim, RestingOrderAdvancesOnlyOnTradesAtItsPriceAndFillsOnTheExcess) {
  Simulator s = one_venue();
  add(s, {level(1, Side::Bid, 100, 10), level(1, Side::Ask, 101, 5)});
  s.advance(1);
  const auto id = s.submit(limit(Side::Bid, 100, 4));
  s.advance(2);
  ASSERT_NE(s.venue(0).queue_of(id), nullptr);
  EXPECT_EQ(s.venue(0).queue_of(id)->ahead, 10);
  add(s, {trade(3, Side::Bid, 100, 50)});  // a buyer aggressor does not trade with bids
  add(s, {trade(4, Side::Ask, 99, 1)});    // a sell through 100 fills all of the bid
  s.advance(3);
  EXPECT_EQ(s.venue(0).queue_of(id)->ahead, 10);
  s.advance(4);
  EXPECT_EQ(order(s, id).filled, 4);
  EXPECT_EQ(s.ledger().fills.back().liquidity, static_cast<std::uint8_t>(Liquidity::Maker));
  EXPECT_EQ(s.ledger().fills.back().price, 100);

  const auto id2 = s.submit(limit(Side::Bid, 100, 4));
  s.advance(5);
  add(s, {trade(6, Side::Ask, 100, 8), trade(7, Side::Ask, 100, 5)});
  s.advance(6);
  EXPECT_EQ(s.venue(0).queue_of(id2)->ahead, 2);
  EXPECT_EQ(order(s, id2).filled, 0);
  s.advance(7);
  EXPECT_EQ(order(s, id2).filled, 3);
  add(s, {level(8, Side::Bid, 100, 0)});  // what left the level cannot be ahead
  s.advance(8);
  EXPECT_EQ(s.venue(0).queue_of(id2)->ahead, 0);
}

TEST(Sim, AnswersArriveAfterTheResponseLatencyAndFeedRowsGoFirstOnATie) {
  Simulator s = one_venue(3, 4);
  s.set_subscriptions(subscribe::kOrder | subscribe::kFill | subscribe::kBook);
  add(s, {level(3, Side::Ask, 101, 2)});
  s.submit(limit(Side::Bid, 101, 2));  // arrives at 3, with the row at 3 already applied
  auto ev = s.advance(100);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->kind, EventKind::Book);
  ev = s.advance(100);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->kind, EventKind::Order);
  EXPECT_EQ(ev->ts_ns, 7);
  ev = s.advance(100);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->kind, EventKind::Fill);
  EXPECT_EQ(s.responses()[ev->index].size, 2);
  EXPECT_FALSE(s.advance(100));
  EXPECT_EQ(s.now(), 100);
}

TEST(Sim, UnsyncedVenueRefusesNewOrdersAndModifiesButCancels) {
  Simulator s = one_venue();
  add(s, {level(1, Side::Bid, 100, 1)});
  s.advance(1);
  const auto resting = s.submit(limit(Side::Bid, 99, 1));
  add(s, {status(3, kActionUnsynced)});
  s.advance(3);
  const auto refused = s.submit(limit(Side::Bid, 99, 1));
  s.modify(resting, 98, 1);
  s.cancel(resting);
  s.advance(4);
  EXPECT_EQ(order(s, refused).status, static_cast<std::uint8_t>(OrderStatus::Rejected));
  EXPECT_EQ(order(s, refused).reason, static_cast<std::uint8_t>(Reason::NotSynced));
  const auto& r = s.responses();
  EXPECT_EQ(r[r.size() - 2].kind, static_cast<std::uint8_t>(ResponseKind::ModifyRejected));
  EXPECT_EQ(r[r.size() - 2].reason, static_cast<std::uint8_t>(Reason::NotSynced));
  EXPECT_EQ(order(s, resting).status, static_cast<std::uint8_t>(OrderStatus::Cancelled));
}

TEST(Sim, PostOnlyFokIocAndMarketRules) {
  Simulator s = one_venue();
  add(s, {level(1, Side::Ask, 101, 3), level(1, Side::Ask, 103, 3)});
  s.advance(1);
  const auto post = s.submit(limit(Side::Bid, 101, 1, TimeInForce::Gtc, true));
  const auto fok = s.submit(limit(Side::Bid, 102, 4, TimeInForce::Fok));
  const auto ioc = s.submit(limit(Side::Bid, 102, 4, TimeInForce::Ioc));
  const auto mkt = s.submit(NewOrder{0, Side::Bid, OrderType::Market, TimeInForce::Gtc, false, 0, 5});
  s.advance(2);
  EXPECT_EQ(order(s, post).reason, static_cast<std::uint8_t>(Reason::PostOnlyWouldCross));
  EXPECT_EQ(order(s, fok).reason, static_cast<std::uint8_t>(Reason::FokNotFillable));
  EXPECT_EQ(order(s, fok).filled, 0);
  EXPECT_EQ(order(s, ioc).filled, 3);
  EXPECT_EQ(order(s, ioc).reason, static_cast<std::uint8_t>(Reason::ImmediateRemainder));
  EXPECT_EQ(order(s, mkt).filled, 3);  // 101 is all taken; 103 has 3
  EXPECT_EQ(order(s, mkt).status, static_cast<std::uint8_t>(OrderStatus::Cancelled));
}

TEST(Sim, ModifySizeDownKeepsThePlaceAndAnyOtherChangeRequeues) {
  Simulator s = one_venue();
  add(s, {level(1, Side::Bid, 100, 10), level(1, Side::Bid, 99, 7), level(1, Side::Ask, 101, 1)});
  s.advance(1);
  const auto id = s.submit(limit(Side::Bid, 100, 5));
  s.advance(2);
  add(s, {trade(3, Side::Ask, 100, 6)});
  s.advance(3);
  EXPECT_EQ(s.venue(0).queue_of(id)->ahead, 4);
  s.modify(id, 100, 2);
  s.advance(4);
  EXPECT_EQ(s.venue(0).queue_of(id)->ahead, 4);
  EXPECT_EQ(order(s, id).size, 2);
  s.modify(id, 100, 3);
  s.advance(5);
  EXPECT_EQ(s.venue(0).queue_of(id)->ahead, 10);
  s.modify(id, 99, 3);
  s.advance(6);
  EXPECT_EQ(s.venue(0).queue_of(id)->ahead, 7);
  s.modify(id, 101, 3);
  s.advance(7);
  EXPECT_EQ(s.responses().back().reason, static_cast<std::uint8_t>(Reason::ModifyWouldCross));
  EXPECT_EQ(order(s, id).price, 99);
}

TEST(Sim, FeesRoundAgainstTheStrategyAndMoneyIsExact) {
  EXPECT_EQ(CbpsFeeModel(0, 1).fee(1, Liquidity::Taker), 1);      // 1e-6 rounds up to 1
  EXPECT_EQ(CbpsFeeModel(-1, 0).fee(1, Liquidity::Maker), 0);     // a rebate rounds toward zero
  EXPECT_EQ(CbpsFeeModel(-100, 0).fee(25'000, Liquidity::Maker), -2);
  EXPECT_EQ(CbpsFeeModel(0, 750).fee(1'000'000, Liquidity::Taker), 750);
  EXPECT_THROW(CbpsFeeModel(1'000'000, 0), InvalidInput);

  Simulator s = one_venue(0, 0, -100, 750);
  add(s, {level(1, Side::Ask, 101, 3), level(1, Side::Bid, 99, 3)});
  s.advance(1);
  s.submit(limit(Side::Bid, 101, 3));
  s.submit(limit(Side::Ask, 99, 2));
  s.advance(2);
  const SimVenue& v = s.venue(0);
  EXPECT_EQ(v.position(), 1);
  EXPECT_TRUE(v.cash() == -303 + 198);
  EXPECT_TRUE(v.fees() == 1 + 1);  // ceil(303 * 750 / 1e6) + ceil(198 * 750 / 1e6)
  const SimAccount a = v.account();
  EXPECT_EQ(a.volume, 5);
  EXPECT_EQ(a.cash_hi, -1);  // -105 as hi * 2^64 + lo
  EXPECT_EQ(a.cash_lo, static_cast<std::uint64_t>(-105));
}

TEST(Sim, CashBeyondInt64IsExact) {
  // Binance spot BTCUSDT at its padded exponents (8 and 8): one BTC at 61837.63 is ~6e20 units.
  Simulator s = one_venue();
  const Price px = 6'183'763'000'000;
  add(s, {level(1, Side::Ask, px, 300'000'000)});
  s.advance(1);
  s.submit(limit(Side::Bid, px, 300'000'000));
  s.advance(2);
  EXPECT_TRUE(s.venue(0).cash() == -static_cast<Int128>(px) * 300'000'000);
}

TEST(Sim, BadInputIsRefusedWithTheRowNamed) {
  Simulator s = one_venue();
  EXPECT_THROW(add(s, {LevelEvent{1, 1, 100, 1, 0, 3, 2, 0}}), InvalidInput);
  EXPECT_THROW(add(s, {LevelEvent{1, 1, 100, -1, 0, 1, 2, 0}}), InvalidInput);
  EXPECT_THROW(add(s, {LevelEvent{1, 1, 100, 1, 0, 1, 9, 0}}), InvalidInput);
  EXPECT_THROW(add(s, {trade(1, Side::Bid, 100, 0)}), InvalidInput);
  add(s, {level(5, Side::Bid, 100, 1)});
  EXPECT_THROW(add(s, {level(4, Side::Bid, 100, 1)}), InvalidInput);  // goes back
  s.advance(5);
  EXPECT_THROW(add(s, {level(5, Side::Bid, 100, 2)}), InvalidInput);  // events at 5 already ran
  EXPECT_THROW(s.submit(limit(Side::Bid, 0, 1)), InvalidInput);
  EXPECT_THROW(s.submit(limit(Side::Bid, 100, 0)), InvalidInput);
  EXPECT_THROW(s.cancel(42), InvalidInput);
  EXPECT_THROW(s.set_timer(4), InvalidInput);
  EXPECT_THROW(ConstantLatency(-1, 0), InvalidInput);
  std::vector<VenueSpec> none(1);
  EXPECT_THROW(Simulator(std::move(none)), InvalidInput);
}

TEST(SimRisk, EachVenueLimitAtItsEdgeAndRefusalsAreLocal) {
  Simulator s = one_venue(5, 3);
  std::vector<VenueLimits> limits(1);
  limits[0].max_order_size = 5;
  limits[0].max_position = 10;
  limits[0].max_open_orders = 3;
  limits[0].max_orders_per_window = 4;
  limits[0].window_ns = 100;
  s.configure_risk(std::move(limits), PortfolioLimits{});
  add(s, {level(1, Side::Bid, 99, 100), level(1, Side::Ask, 101, 100)});
  s.advance(1);
  EXPECT_EQ(order(s, s.submit(limit(Side::Bid, 90, 6))).reason, static_cast<std::uint8_t>(Reason::RiskOrderSize));
  const auto a = s.submit(limit(Side::Bid, 90, 5));
  const auto b = s.submit(limit(Side::Bid, 90, 5));  // worst long 10: at the limit
  EXPECT_EQ(order(s, a).status, static_cast<std::uint8_t>(OrderStatus::Pending));
  EXPECT_EQ(order(s, b).status, static_cast<std::uint8_t>(OrderStatus::Pending));
  const auto c = s.submit(limit(Side::Bid, 90, 1));
  EXPECT_EQ(order(s, c).reason, static_cast<std::uint8_t>(Reason::RiskPosition));
  const auto d = s.submit(limit(Side::Ask, 110, 1));  // the third open order
  EXPECT_EQ(order(s, d).status, static_cast<std::uint8_t>(OrderStatus::Pending));
  const auto e = s.submit(limit(Side::Ask, 110, 1));
  EXPECT_EQ(order(s, e).reason, static_cast<std::uint8_t>(Reason::RiskOpenOrders));
  s.cancel(d);
  s.advance(7);  // d cancelled at 6: one open slot again; 3 sends in the window so far
  const auto f = s.submit(limit(Side::Ask, 110, 1));
  EXPECT_EQ(order(s, f).status, static_cast<std::uint8_t>(OrderStatus::Pending));
  s.cancel(f);
  s.advance(20);
  const auto g = s.submit(limit(Side::Ask, 110, 1));  // the fifth send within (-80, 20]
  EXPECT_EQ(order(s, g).reason, static_cast<std::uint8_t>(Reason::RiskRate));
  s.advance(101);  // the sends at 1 left the window (1, 101]
  EXPECT_EQ(order(s, s.submit(limit(Side::Ask, 110, 1))).status, static_cast<std::uint8_t>(OrderStatus::Pending));

  const auto& events = s.risk().events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].order_id, c);
  EXPECT_EQ(events[1].value_lo, 11u);
  EXPECT_EQ(events[1].limit_lo, 10u);
  EXPECT_EQ(events[3].reason, static_cast<std::uint8_t>(Reason::RiskRate));
  EXPECT_EQ(events[3].ts_ns, 20);
  // A refusal is answered at the decision time, with no latency.
  const SimResponse* refusal = nullptr;
  for (const SimResponse& r : s.responses())
    if (r.order_id == g) refusal = &r;
  ASSERT_NE(refusal, nullptr);
  EXPECT_EQ(refusal->ts_venue_ns, 20);
  EXPECT_EQ(refusal->ts_delivery_ns, 20);
}

TEST(SimRisk, LossTripsTheBreakerUntilTheExactResetAndTheKillCancelsEverything) {
  Simulator s = one_venue();
  PortfolioLimits p;
  p.max_loss = 9;
  p.pause_ns = 100;
  s.configure_risk(std::vector<VenueLimits>(1), std::move(p));
  add(s, {level(1, Side::Bid, 99, 100), level(1, Side::Ask, 101, 100)});
  s.advance(1);
  s.submit(limit(Side::Bid, 101, 10, TimeInForce::Ioc));  // equity -10 at mid 100
  s.advance(2);
  ASSERT_EQ(s.risk().events().size(), 1u);
  EXPECT_EQ(s.risk().events()[0].kind, static_cast<std::uint8_t>(RiskEventKind::BreakerTripped));
  s.advance(100);
  EXPECT_EQ(order(s, s.submit(limit(Side::Bid, 90, 1))).reason, static_cast<std::uint8_t>(Reason::CircuitBreaker));
  s.advance(101);
  const auto resting = s.submit(limit(Side::Bid, 90, 1));
  EXPECT_EQ(order(s, resting).status, static_cast<std::uint8_t>(OrderStatus::Pending));
  EXPECT_EQ(s.risk().events()[2].kind, static_cast<std::uint8_t>(RiskEventKind::BreakerReset));
  EXPECT_EQ(s.risk().events()[2].ts_ns, 101);
  s.advance(102);
  s.kill(true);
  s.advance(103);
  EXPECT_EQ(order(s, resting).status, static_cast<std::uint8_t>(OrderStatus::Cancelled));
  EXPECT_EQ(order(s, resting).reason, static_cast<std::uint8_t>(Reason::KillSwitch));
  EXPECT_EQ(s.venue(0).position(), 0);  // flattened at the bid
  EXPECT_EQ(s.venue(0).open_count(), 0u);
  EXPECT_EQ(order(s, s.submit(limit(Side::Bid, 90, 1))).reason, static_cast<std::uint8_t>(Reason::KillSwitch));
  EXPECT_THROW(s.configure_risk(std::vector<VenueLimits>(1), PortfolioLimits{}), InvalidInput);
}

namespace {

NewOrder stop(Side side, Qty size, Price trigger, Price limit_price = 0, TimeInForce tif = TimeInForce::Gtc) {
  return NewOrder{0, side, limit_price ? OrderType::StopLimit : OrderType::Stop, tif, false, limit_price, size,
                  trigger};
}

std::uint8_t u8(ResponseKind k) { return static_cast<std::uint8_t>(k); }

}  // namespace

TEST(SimStop, BuyStopWaitsOneTickBelowAndTriggersAtItsTriggerAsAMarketOrder) {
  Simulator s = one_venue(10, 5);
  add(s, {level(1, Side::Ask, 101, 3), level(1, Side::Ask, 102, 4)});
  s.advance(1);
  const auto id = s.submit(stop(Side::Bid, 5, 103));
  add(s, {trade(20, Side::Bid, 102, 1), trade(30, Side::Bid, 103, 1)});
  s.advance(29);
  EXPECT_EQ(order(s, id).status, static_cast<std::uint8_t>(OrderStatus::Open));
  EXPECT_EQ(order(s, id).trigger_price, 103);
  EXPECT_EQ(s.venue(0).open_count(), 1u);
  EXPECT_TRUE(s.ledger().fills.empty());
  s.advance(30);
  const auto& f = s.ledger().fills;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].price, 101);
  EXPECT_EQ(f[0].size, 3);
  EXPECT_EQ(f[1].price, 102);
  EXPECT_EQ(f[1].size, 2);
  EXPECT_EQ(f[1].ts_arrival_ns, 11);
  EXPECT_EQ(f[1].ts_fill_ns, 30);
  EXPECT_EQ(order(s, id).flags & kTriggered, kTriggered);
  EXPECT_EQ(s.responses()[1].kind, u8(ResponseKind::Triggered));
  EXPECT_EQ(s.venue(0).open_count(), 0u);
}

TEST(SimStop, SellStopLimitRestsAfterItsTriggerAndAWaitingStopRefusesModifyButCancels) {
  Simulator s = one_venue();
  add(s, {level(1, Side::Bid, 100, 2), level(1, Side::Ask, 101, 2)});
  s.advance(1);
  const auto sl = s.submit(stop(Side::Ask, 3, 99, 101));
  const auto other = s.submit(stop(Side::Ask, 3, 90));
  s.advance(2);
  s.modify(sl, 102, 3);
  s.cancel(other);
  s.advance(3);
  EXPECT_EQ(s.responses()[2].kind, u8(ResponseKind::ModifyRejected));
  EXPECT_EQ(s.responses()[2].reason, static_cast<std::uint8_t>(Reason::StopWaiting));
  EXPECT_EQ(order(s, other).reason, static_cast<std::uint8_t>(Reason::UserCancel));
  add(s, {trade(4, Side::Ask, 100, 1), trade(5, Side::Ask, 99, 1), trade(6, Side::Ask, 80, 1)});
  s.advance(4);
  EXPECT_EQ(s.venue(0).queue_of(sl), nullptr);  // 100 is one tick above the trigger
  s.advance(5);
  ASSERT_NE(s.venue(0).queue_of(sl), nullptr);  // triggered at 99; its limit 101 rests on the ask side
  EXPECT_EQ(s.venue(0).queue_of(sl)->ahead, 2);
  EXPECT_TRUE(s.ledger().fills.empty());
  s.advance(6);  // the trade at 80 is the cancelled stop's trigger too: it stays cancelled
  EXPECT_EQ(order(s, other).status, static_cast<std::uint8_t>(OrderStatus::Cancelled));
}

TEST(SimStop, SubmitChecksStopArguments) {
  Simulator s = one_venue();
  NewOrder post = stop(Side::Bid, 1, 100, 99);
  post.post_only = true;
  EXPECT_THROW(s.submit(post), InvalidInput);
  EXPECT_THROW(s.submit(stop(Side::Bid, 1, 0)), InvalidInput);
  NewOrder limit_with_trigger = limit(Side::Bid, 100, 1);
  limit_with_trigger.trigger_price = 5;
  EXPECT_THROW(s.submit(limit_with_trigger), InvalidInput);
  const auto id = s.submit(stop(Side::Bid, 1, 100));
  EXPECT_THROW(s.modify(id, 100, 1), InvalidInput);  // a stop-market order never rests
}

TEST(SimLatency, SplitMix64MatchesItsPublishedOutputAndBoundedDrawsStayInRange) {
  SplitMix64 g(1234567);
  EXPECT_EQ(g.next(), 6457827717110365317ULL);
  EXPECT_EQ(g.next(), 3203168211198807973ULL);
  EXPECT_EQ(g.next(), 9817491932198370423ULL);
  SplitMix64 h(42);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(h.below(1), 0u);
    EXPECT_LT(h.below(3), 3u);
    EXPECT_LT(h.below((1ULL << 62) + (1ULL << 61) + 1), (1ULL << 62) + (1ULL << 61) + 1);
  }
}

TEST(SimLatency, SeededModelsRepeatForASeedAndStayInTheirRange) {
  UniformLatency a(3, 6, 0, 9, 11), b(3, 6, 0, 9, 11), c(3, 6, 0, 9, 12);
  bool differs = false;
  bool seen[4] = {};
  for (int i = 0; i < 200; ++i) {
    const std::int64_t x = a.entry_ns(0);
    EXPECT_EQ(x, b.entry_ns(0));
    differs = differs || x != c.entry_ns(0);
    ASSERT_GE(x, 3);
    ASSERT_LE(x, 6);
    seen[x - 3] = true;
  }
  EXPECT_TRUE(differs);
  EXPECT_TRUE(seen[0] && seen[1] && seen[2] && seen[3]);
  EmpiricalLatency e({7, 9}, {1}, 5);
  for (int i = 0; i < 50; ++i) {
    const std::int64_t x = e.entry_ns(0);
    EXPECT_TRUE(x == 7 || x == 9);
    EXPECT_EQ(e.response_ns(0), 1);
  }
}

TEST(SimLatency, TableRowsApplyFromTheirTimeAndRequestsNeverOvertake) {
  TableLatency t({{100, 10, 1}, {200, 50, 2}});
  EXPECT_EQ(t.entry_ns(0), 10);  // before the first row: the first row
  EXPECT_EQ(t.entry_ns(199), 10);
  EXPECT_EQ(t.entry_ns(200), 50);
  EXPECT_EQ(t.response_ns(200), 2);

  Simulator s = one_venue();
  s.set_latency(0, std::make_unique<TableLatency>(std::vector<TableLatency::Row>{{0, 50, 0}, {100, 5, 0}}));
  s.advance(99);
  const auto id = s.submit(limit(Side::Bid, 90, 1));  // arrives at 149
  s.advance(100);
  s.cancel(id);  // 105 drawn; it arrives at 149 after the order
  s.advance(200);
  EXPECT_EQ(order(s, id).ts_arrival_ns, 149);
  EXPECT_EQ(order(s, id).status, static_cast<std::uint8_t>(OrderStatus::Cancelled));
  EXPECT_EQ(s.responses().back().ts_venue_ns, 149);
}

TEST(SimLatency, BadModelsAreRefused) {
  EXPECT_THROW(EmpiricalLatency({}, {1}, 1), InvalidInput);
  EXPECT_THROW(EmpiricalLatency({1}, {-1}, 1), InvalidInput);
  EXPECT_THROW(UniformLatency(2, 1, 0, 0, 1), InvalidInput);
  EXPECT_THROW(UniformLatency(-1, 1, 0, 0, 1), InvalidInput);
  EXPECT_THROW(TableLatency({}), InvalidInput);
  EXPECT_THROW(TableLatency({{5, 1, 1}, {5, 1, 1}}), InvalidInput);
  Simulator s = one_venue();
  EXPECT_THROW(s.set_latency(0, nullptr), InvalidInput);
}
