// best_opportunity and ArbScanner: known answers on hand-built books (fees,
// depth, caps, break-even levels, 128-bit limits), best_opportunity against a
// brute-force oracle that tries every size on unit-expanded books with exact
// rationals, and the streaming scanner against best_opportunity on every pair
// after every event, including the lifetimes its output stream describes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "crossbook/arb.hpp"

namespace {

using namespace crossbook;

constexpr std::int64_t D = kFeeDenominator;
constexpr Qty kMaxQty = std::numeric_limits<Qty>::max();
constexpr auto kAdd = static_cast<std::uint8_t>(Action::Add);
constexpr auto kDelete = static_cast<std::uint8_t>(Action::Delete);
constexpr auto kClear = static_cast<std::uint8_t>(Action::Clear);
constexpr auto kSynced = static_cast<std::uint8_t>(ScanAction::Synced);
constexpr auto kUnsynced = static_cast<std::uint8_t>(ScanAction::Unsynced);
constexpr auto kHeartbeat = static_cast<std::uint8_t>(ScanAction::Heartbeat);
constexpr std::uint8_t kBid = 1, kAsk = 2;

using Levels = std::vector<std::pair<Price, Qty>>;

std::string str(Int128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  std::string s;
  for (; v != 0; v /= 10) s += static_cast<char>('0' + static_cast<int>(neg ? -(v % 10) : v % 10));
  if (neg) s += '-';
  return {s.rbegin(), s.rend()};
}

L2Book book(const Levels& bids, const Levels& asks, int price_exp = 2, int size_exp = 4) {
  L2Book b(price_exp, size_exp);
  for (auto [p, q] : bids) b.update(Side::Bid, p, q);
  for (auto [p, q] : asks) b.update(Side::Ask, p, q);
  return b;
}

Int128 opp_pnl_num(const Opportunity& o, FeeCbps fb, FeeCbps fs) {
  return o.sell_notional * (D - fs) - o.buy_notional * (D + fb);
}

// ------------------------------------------------------------ known answers

TEST(BestOpportunity, NoneWhenBooksDoNotCrossOrASideIsEmpty) {
  const L2Book buy = book({{99, 5}}, {{101, 5}}), sell = book({{100, 5}}, {{102, 5}});
  EXPECT_FALSE(best_opportunity(buy, sell, 0, 0));
  EXPECT_FALSE(best_opportunity(buy, book({}, {{90, 1}}), 0, 0));   // no bids to sell to
  EXPECT_FALSE(best_opportunity(book({{1, 1}}, {}), sell, 0, 0));   // no asks to buy from
  EXPECT_FALSE(best_opportunity(book({}, {{100, 1}}), book({{100, 1}}, {}), 0, 0));  // equal
}

TEST(BestOpportunity, ZeroFeesSingleLevel) {
  const auto o = best_opportunity(book({}, {{100, 5}}), book({{102, 3}}, {}), 0, 0);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->size, 3);
  EXPECT_EQ(str(o->buy_notional), "300");
  EXPECT_EQ(str(o->sell_notional), "306");
  EXPECT_EQ(o->buy_price, 100);
  EXPECT_EQ(o->sell_price, 102);
  EXPECT_EQ(str(o->pnl_num), str(Int128{6} * D));  // 6 quote units of 10^-6
  EXPECT_DOUBLE_EQ(o->edge_bps, 200.0);             // 6 / 300
}

TEST(BestOpportunity, EachFeeCase) {
  const L2Book buy = book({}, {{10000, 2}}), sell = book({{10010, 2}}, {});
  struct Case { FeeCbps fb, fs; bool some; Int128 per_unit; };
  const std::vector<Case> cases = {
      {0, 0, true, Int128{10} * D},
      {500, 0, true, Int128{10010} * D - Int128{10000} * 1'000'500},   // 5 bps on the buy
      {0, 500, true, Int128{10010} * 999'500 - Int128{10000} * D},     // 5 bps on the sell
      {500, 500, false, 0},                                            // -5000: a loss
      {-200, 700, true, Int128{10010} * 999'300 - Int128{10000} * 999'800},  // a rebate
      {1000, 0, false, 0},  // 10 bps on the buy: 10000 costs exactly 10010, break-even
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "fees " << c.fb << "/" << c.fs);
    const auto o = best_opportunity(buy, sell, c.fb, c.fs);
    const Int128 margin = Int128{10010} * (D - c.fs) - Int128{10000} * (D + c.fb);
    ASSERT_EQ(o.has_value(), c.some);
    ASSERT_EQ(c.some, margin > 0);
    if (!o) continue;
    EXPECT_EQ(o->size, 2);
    EXPECT_EQ(str(o->pnl_num), str(2 * c.per_unit));
    EXPECT_EQ(str(o->pnl_num), str(opp_pnl_num(*o, c.fb, c.fs)));
    EXPECT_DOUBLE_EQ(o->edge_bps, static_cast<double>(2 * c.per_unit) / (100.0 * 20000));
  }
  EXPECT_NEAR(best_opportunity(buy, sell, 500, 0)->edge_bps, 5.0, 1e-12);
}

TEST(BestOpportunity, BreakEvenLevelIsExcluded) {
  // 10 bps on the buy: ask 1000 costs exactly 1001, which bid 1001 returns.
  const L2Book buy = book({}, {{1000, 2}, {1001, 4}}), sell = book({{1002, 1}, {1001, 10}}, {});
  const auto o = best_opportunity(buy, sell, 1000, 0);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->size, 1);
  EXPECT_EQ(str(o->pnl_num), str(Int128{1002} * D - Int128{1000} * 1'001'000));
  EXPECT_EQ(o->sell_price, 1002);
  EXPECT_FALSE(best_opportunity(book({}, {{1000, 5}}), book({{1001, 5}}, {}), 1000, 0));
  EXPECT_FALSE(best_opportunity(book({}, {{7, 5}}), book({{7, 5}}, {}), 0, 0));
}

TEST(BestOpportunity, WalksInterleavedLevelsOnBothSides) {
  const L2Book buy = book({}, {{100, 2}, {101, 3}, {103, 10}});
  const L2Book sell = book({{105, 1}, {102, 3}, {101, 4}}, {});
  // Units: (100,105) (100,102) (101,102) (101,102) then (101,101): zero margin.
  const auto o = best_opportunity(buy, sell, 0, 0);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->size, 4);
  EXPECT_EQ(str(o->buy_notional), str(100 + 100 + 101 + 101));
  EXPECT_EQ(str(o->sell_notional), str(105 + 102 + 102 + 102));
  EXPECT_EQ(o->buy_price, 101);
  EXPECT_EQ(o->sell_price, 102);
  EXPECT_EQ(str(o->pnl_num), str(Int128{5 + 2 + 1 + 1} * D));
}

TEST(BestOpportunity, OneSideShallowBoundsTheSize) {
  const L2Book deep_asks = book({}, {{100, 1000}, {101, 1000}});
  const auto o = best_opportunity(deep_asks, book({{110, 7}}, {}), 0, 0);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->size, 7);  // all the sell book shows
  const auto p = best_opportunity(book({}, {{100, 4}}), book({{110, 500}, {109, 500}}, {}), 0, 0);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size, 4);
  EXPECT_EQ(p->sell_price, 110);
}

TEST(BestOpportunity, MaxSizeCaps) {
  const L2Book buy = book({}, {{100, 2}, {101, 3}}), sell = book({{110, 10}}, {});
  EXPECT_EQ(best_opportunity(buy, sell, 0, 0)->size, 5);
  EXPECT_EQ(best_opportunity(buy, sell, 0, 0, 5)->size, 5);
  EXPECT_EQ(best_opportunity(buy, sell, 0, 0, 50)->size, 5);
  const auto o = best_opportunity(buy, sell, 0, 0, 3);  // cut inside the second ask level
  ASSERT_TRUE(o);
  EXPECT_EQ(o->size, 3);
  EXPECT_EQ(str(o->buy_notional), "301");
  EXPECT_EQ(o->buy_price, 101);
  const auto two = best_opportunity(buy, sell, 0, 0, 2);
  EXPECT_EQ(two->buy_price, 100);
  EXPECT_GE(two->edge_bps, o->edge_bps);
  EXPECT_FALSE(best_opportunity(buy, sell, 0, 0, 0));
  EXPECT_THROW(best_opportunity(buy, sell, 0, 0, -1), InvalidInput);
}

TEST(BestOpportunity, RejectsDifferentExponentsAndBadFees) {
  const L2Book a = book({{110, 1}}, {{100, 1}}, 2, 4);
  EXPECT_THROW(best_opportunity(a, book({{110, 1}}, {}, 3, 4), 0, 0), InvalidInput);
  EXPECT_THROW(best_opportunity(a, book({{110, 1}}, {}, 2, 5), 0, 0), InvalidInput);
  EXPECT_THROW(best_opportunity(book({}, {}, 1, 0), a, 0, 0), InvalidInput);  // even empty
  EXPECT_THROW(best_opportunity(a, a, static_cast<FeeCbps>(D), 0), InvalidInput);
  EXPECT_THROW(best_opportunity(a, a, 0, -static_cast<FeeCbps>(D)), InvalidInput);
  EXPECT_NO_THROW(best_opportunity(a, a, kMaxFeeCbps, -kMaxFeeCbps));
}

TEST(BestOpportunity, Int128Limits) {
  // Sizes summing past INT64_MAX stop at INT64_MAX; notionals stay exact.
  const L2Book buy = book({}, {{1, kMaxQty}, {2, kMaxQty}}), sell = book({{4, kMaxQty}, {3, 9}}, {});
  const auto o = best_opportunity(buy, sell, 0, 0);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->size, kMaxQty);
  EXPECT_EQ(str(o->buy_notional), str(Int128{kMaxQty}));
  EXPECT_EQ(str(o->pnl_num), str(Int128{3} * kMaxQty * D));
  // Price and size both near 2^62: pnl * 10^6 cannot fit in 128 bits.
  const Price big = Price{1} << 62;
  EXPECT_THROW(best_opportunity(book({}, {{1, big}}), book({{big, big}}, {}), 0, 0), InvalidInput);
  // An ask at price 0 costs nothing: the edge is infinite, never NaN.
  const auto free = best_opportunity(book({}, {{0, 3}}), book({{5, 3}}, {}), 0, 0);
  ASSERT_TRUE(free);
  EXPECT_EQ(free->edge_bps, std::numeric_limits<double>::infinity());
}

// ------------------------------------------------------------ property: brute-force oracle

struct Rational {  // always reduced, positive denominator
  Int128 n, d;
  Rational(Int128 num, Int128 den) : n(num), d(den) {
    Int128 a = n < 0 ? -n : n, b = d;
    while (b != 0) a = std::exchange(b, a % b);
    if (a > 1) n /= a, d /= a;
  }
  Rational operator*(const Rational& o) const { return {n * o.n, d * o.d}; }
  Rational operator-(const Rational& o) const { return {n * o.d - o.n * d, d * o.d}; }
  bool operator==(const Rational& o) const { return n == o.n && d == o.d; }
};

std::vector<Price> units(const BookSide& s) {
  std::vector<Price> u;
  s.for_each([&](const Level& l) {
    u.insert(u.end(), static_cast<std::size_t>(l.size), l.price);
    return true;
  });
  return u;
}

// Tries every size: the answer is the smallest size with the largest exact pnl.
void check_against_oracle(const L2Book& buy, const L2Book& sell, FeeCbps fb, FeeCbps fs,
                          std::optional<Qty> cap) {
  const std::vector<Price> asks = units(buy.side(Side::Ask)), bids = units(sell.side(Side::Bid));
  std::size_t limit = std::min(asks.size(), bids.size());
  if (cap) limit = std::min(limit, static_cast<std::size_t>(*cap));
  Int128 pnl = 0, best = 0;
  std::size_t best_s = 0;
  for (std::size_t s = 1; s <= limit; ++s) {
    pnl += Int128{bids[s - 1]} * (D - fs) - Int128{asks[s - 1]} * (D + fb);
    if (pnl > best) best = pnl, best_s = s;
  }
  const auto o = best_opportunity(buy, sell, fb, fs, cap);
  const bool crossed = !asks.empty() && !bids.empty() &&
                       Int128{bids[0]} * (D - fs) > Int128{asks[0]} * (D + fb);
  if (!crossed) {
    ASSERT_FALSE(o) << "opportunity without a crossed touch";
  }
  ASSERT_EQ(o.has_value(), best_s > 0);
  if (!o) return;
  ASSERT_EQ(static_cast<std::size_t>(o->size), best_s);
  ASSERT_LE(o->size, buy.side(Side::Ask).total_size(1000));
  ASSERT_LE(o->size, sell.side(Side::Bid).total_size(1000));
  const Int128 bn = std::accumulate(asks.begin(), asks.begin() + o->size, Int128{0});
  const Int128 sn = std::accumulate(bids.begin(), bids.begin() + o->size, Int128{0});
  ASSERT_EQ(str(o->buy_notional), str(bn));
  ASSERT_EQ(str(o->sell_notional), str(sn));
  ASSERT_EQ(o->buy_price, asks[best_s - 1]);
  ASSERT_EQ(o->sell_price, bids[best_s - 1]);
  ASSERT_EQ(str(o->pnl_num), str(best));
  const Rational exact = Rational(sn, 1) * Rational(D - fs, D) - Rational(bn, 1) * Rational(D + fb, D);
  ASSERT_TRUE(Rational(o->pnl_num, D) == exact) << str(exact.n) << "/" << str(exact.d);
  ASSERT_DOUBLE_EQ(o->edge_bps, static_cast<double>(static_cast<long double>(o->pnl_num) /
                                                    static_cast<long double>(100 * bn)));
}

// Cutting max_size never raises the edge: exactly (cross-multiplied) and as doubles.
void check_edge_monotone(const L2Book& buy, const L2Book& sell, FeeCbps fb, FeeCbps fs) {
  const auto full = best_opportunity(buy, sell, fb, fs);
  if (!full) return;
  std::optional<Opportunity> prev;
  for (Qty c = 1; c <= full->size; ++c) {
    const auto o = best_opportunity(buy, sell, fb, fs, c);
    ASSERT_TRUE(o);
    ASSERT_EQ(o->size, c);
    if (prev) {
      ASSERT_LE(o->pnl_num * prev->buy_notional, prev->pnl_num * o->buy_notional) << "cap " << c;
      ASSERT_LE(o->edge_bps, prev->edge_bps) << "cap " << c;
    }
    prev = o;
  }
  ASSERT_TRUE(*prev == *full);
}

L2Book random_book(std::mt19937_64& rng, Price mid) {
  L2Book b(2, 4);
  const int nb = static_cast<int>(rng() % 7), na = static_cast<int>(rng() % 7);
  const Price skew = static_cast<Price>(rng() % 9) - 4;  // some books cross others
  for (int k = 0; k < nb; ++k)
    b.update(Side::Bid, mid + skew - 1 - static_cast<Price>(rng() % 6), static_cast<Qty>(rng() % 5 + 1));
  for (int k = 0; k < na; ++k)
    b.update(Side::Ask, mid + skew + static_cast<Price>(rng() % 6), static_cast<Qty>(rng() % 5 + 1));
  return b;
}

FeeCbps random_fee(std::mt19937_64& rng) {
  // 1000 cbps at prices near 1000 makes exact break-even levels common.
  static const FeeCbps fees[] = {0, 0, 100, 750, 1000, 1000, 2000, -250, 10000};
  return fees[rng() % (sizeof fees / sizeof fees[0])];
}

TEST(BestOpportunity, RandomizedAgainstBruteForceOracle) {
  std::mt19937_64 rng(20240607);
  int some = 0;
  for (int i = 0; i < 4000; ++i) {
    SCOPED_TRACE(testing::Message() << "case " << i);
    const L2Book buy = random_book(rng, 1000), sell = random_book(rng, 1000);
    const FeeCbps fb = random_fee(rng), fs = random_fee(rng);
    const std::optional<Qty> cap =
        rng() % 3 == 0 ? std::optional<Qty>(static_cast<Qty>(rng() % 8)) : std::nullopt;
    ASSERT_NO_FATAL_FAILURE(check_against_oracle(buy, sell, fb, fs, cap));
    ASSERT_NO_FATAL_FAILURE(check_edge_monotone(buy, sell, fb, fs));
    some += best_opportunity(buy, sell, fb, fs).has_value();
  }
  EXPECT_GT(some, 300);  // the generator must actually produce crossings
}

}  // namespace
