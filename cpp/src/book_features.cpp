// L2Book::apply with per-event depth and features: one pass, the same checks
// as the plain batch (l2_book.cpp).
#include <cstring>
#include <limits>

#include "crossbook/l2_book.hpp"

namespace crossbook {

namespace {

// Cont, Kukanov and Stoikov (2014), one side at a time: e_bid = 1{P >= P'} q -
// 1{P <= P'} q' (primes before the event). An empty bid counts as an infinitely
// low price, so a bid that appears adds its size and one that empties removes
// its old size. Both sizes are >= 0, so the difference fits int64.
Qty bid_flow(const BboRow& before, const BboRow& now) {
  const bool had = before.bid_size > 0, has = now.bid_size > 0;
  if (!has) return had ? -before.bid_size : 0;
  if (!had || now.bid_price > before.bid_price) return now.bid_size;
  if (now.bid_price < before.bid_price) return -before.bid_size;
  return now.bid_size - before.bid_size;
}

// e_ask = 1{P <= P'} q - 1{P >= P'} q', an empty ask an infinitely high price.
Qty ask_flow(const BboRow& before, const BboRow& now) {
  const bool had = before.ask_size > 0, has = now.ask_size > 0;
  if (!has) return had ? -before.ask_size : 0;
  if (!had || now.ask_price < before.ask_price) return now.ask_size;
  if (now.ask_price > before.ask_price) return -before.ask_size;
  return now.ask_size - before.ask_size;
}

Int128 total_of(const DepthRow* rows, std::size_t n) {
  Int128 total = 0;
  for (std::size_t i = 0; i < n; ++i) total += rows[i].size;
  return total;
}

}  // namespace

BookFeatures L2Book::features(const BboRow& before, const BboRow& now, Int128 bid_total,
                              Int128 ask_total) const {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  BookFeatures f{};
  f.ofi_bid = bid_flow(before, now);
  f.ofi_ask = ask_flow(before, now);
  // Fits int64: an event moves one side, or clears both (then both parts are <= 0).
  f.ofi = f.ofi_bid - f.ofi_ask;
  // Same expressions as imbalance() and microprice(): with levels == 1 the
  // values are bit for bit theirs.
  const Int128 b = bid_total, a = ask_total;
  f.imbalance = a + b == 0 ? kNaN
                           : static_cast<double>(static_cast<long double>(b - a) /
                                                 static_cast<long double>(b + a));
  f.microprice = kNaN;
  if (now.bid_size > 0 && now.ask_size > 0) {
    f.flags |= feature_flags::kTwoSided;
    f.mid_x2 = static_cast<std::uint64_t>(now.bid_price) + static_cast<std::uint64_t>(now.ask_price);
    f.spread = now.ask_price - now.bid_price;  // both >= 0, cannot overflow
    const long double bp = now.bid_price, ap = now.ask_price;
    const long double bs = static_cast<long double>(b), as = static_cast<long double>(a);
    f.microprice = static_cast<double>((bp * as + ap * bs) / (bs + as));
  }
  return f;
}

void L2Book::apply(const LevelEvent* events, std::size_t n, const ApplyRecord& record) {
  if (!record.depth && !record.features) return apply(events, n, record.bbo);
  const std::size_t k = record.levels;
  if (k == 0) throw InvalidInput("levels must be >= 1");
  for (std::size_t i = 0; i < n; ++i) check_event(events[i], i);
  BboRow before = bbo();
  for (std::size_t i = 0; i < n; ++i) {
    apply_one(recheck(events, i));
    const BboRow now = bbo();
    if (record.bbo) record.bbo[i] = now;
    if (record.depth) {
      DepthRow* bid_rows = record.depth + 2 * k * i;
      DepthRow* ask_rows = bid_rows + k;
      const std::size_t nb = bids_.depth(bid_rows, k), na = asks_.depth(ask_rows, k);
      std::memset(static_cast<void*>(bid_rows + nb), 0, (k - nb) * sizeof(DepthRow));
      std::memset(static_cast<void*>(ask_rows + na), 0, (k - na) * sizeof(DepthRow));
      if (record.features)
        record.features[i] = features(before, now, total_of(bid_rows, nb), total_of(ask_rows, na));
    } else if (record.features) {
      record.features[i] = features(before, now, bids_.total_size(k), asks_.total_size(k));
    }
    before = now;
  }
}

}  // namespace crossbook
