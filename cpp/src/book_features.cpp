// L2Book::apply with per-event depth and features: one pass, the same checks
// as the plain batch (l2_book.cpp).
#include <cstring>
#include <limits>
#include <optional>

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

// Exact either way; the 64-bit conversion is one instruction, the 128-bit one a
// library call, and totals past int64 are rare.
long double as_long_double(Int128 v) {
  const bool fits = v >= std::numeric_limits<std::int64_t>::min() &&
                    v <= std::numeric_limits<std::int64_t>::max();
  return fits ? static_cast<long double>(static_cast<std::int64_t>(v)) : static_cast<long double>(v);
}

// The best `levels` of one side as last read. When the side held that many, an
// event at a price worse than the edge (the levels-th best) changes neither the
// top nor anything computed from it, so the side need not be read again.
struct SideTop {
  Int128 total = 0;
  Price edge = 0;
  bool full = false;
};

enum class TopChange { kNone, kResize, kReread };

// How the event changes the side's top: not at all, only the size (and count)
// of a level already in it (by `delta`), or in a way that needs a fresh read.
TopChange top_change(const SideTop& top, const BookSide& book_side, const LevelEvent& e, Side side,
                     Qty* delta) {
  const auto s = static_cast<std::uint8_t>(side);
  if (e.action == static_cast<std::uint8_t>(Action::Clear))
    return e.side == 0 || e.side == s ? TopChange::kReread : TopChange::kNone;
  if (e.side != s) return TopChange::kNone;
  if (top.full && (side == Side::Bid ? e.price < top.edge : e.price > top.edge))
    return TopChange::kNone;
  if (e.action == static_cast<std::uint8_t>(Action::Delete) || e.size == 0)
    return TopChange::kReread;
  const std::optional<Level> old = book_side.level(e.price);
  if (!old) return TopChange::kReread;
  *delta = e.size - old->size;  // both > 0: cannot overflow
  return TopChange::kResize;
}

// Reads the side's best `levels`, writing them to `rows` (zero rows past its depth,
// padding included) unless rows is null.
SideTop read_top(const BookSide& side, std::size_t levels, DepthRow* rows) {
  SideTop top;
  std::size_t k = 0;
  side.for_each([&](const Level& l) {
    if (rows) write_depth_row(rows + k, l.price, l.size, l.count);
    top.total += l.size;
    top.edge = l.price;
    return ++k < levels;
  });
  top.full = k == levels;
  if (rows) std::memset(static_cast<void*>(rows + k), 0, (levels - k) * sizeof(DepthRow));
  return top;
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
                           : static_cast<double>(as_long_double(b - a) / as_long_double(b + a));
  f.microprice = kNaN;
  if (now.bid_size > 0 && now.ask_size > 0) {
    f.flags |= feature_flags::kTwoSided;
    f.mid_x2 = static_cast<std::uint64_t>(now.bid_price) + static_cast<std::uint64_t>(now.ask_price);
    f.spread = now.ask_price - now.bid_price;  // both >= 0, cannot overflow
    const long double bp = now.bid_price, ap = now.ask_price;
    const long double bs = as_long_double(b), as = as_long_double(a);
    f.microprice = static_cast<double>((bp * as + ap * bs) / (bs + as));
  }
  return f;
}

void L2Book::apply(const LevelEvent* events, std::size_t n, const ApplyRecord& record) {
  if (!record.depth && !record.features) return apply(events, n, record.bbo);
  const std::size_t k = record.levels;
  if (k == 0) throw InvalidInput("levels must be >= 1");
  for (std::size_t i = 0; i < n; ++i) check_event(events[i], i);
  const std::size_t row = 2 * k;  // depth rows per event
  BboRow before = bbo();
  SideTop top[2] = {read_top(bids_, k, nullptr), read_top(asks_, k, nullptr)};
  BookFeatures last = features(before, before, top[0].total, top[1].total);
  for (std::size_t i = 0; i < n; ++i) {
    const LevelEvent e = recheck(events, i);
    Qty delta[2] = {0, 0};
    const TopChange change[2] = {top_change(top[0], bids_, e, Side::Bid, &delta[0]),
                                 top_change(top[1], asks_, e, Side::Ask, &delta[1])};
    apply_one(e);
    const BboRow now = bbo();
    if (record.bbo) record.bbo[i] = now;
    for (int s = 0; s < 2; ++s) {
      DepthRow* rows = record.depth ? record.depth + row * i + k * s : nullptr;
      if (change[s] == TopChange::kReread) {
        top[s] = read_top(s == 0 ? bids_ : asks_, k, rows);
        continue;
      }
      top[s].total += delta[s];
      if (!rows) continue;
      if (i == 0) {
        read_top(s == 0 ? bids_ : asks_, k, rows);
        continue;
      }
      std::memcpy(static_cast<void*>(rows), rows - row, k * sizeof(DepthRow));
      if (change[s] == TopChange::kResize)
        for (std::size_t j = 0; j < k; ++j)
          if (rows[j].price == e.price) {
            write_depth_row(rows + j, e.price, e.size, e.count);
            break;
          }
    }
    if (record.features) {
      // An unchanged top leaves the touch as it was: no flow, the rest as before.
      if (change[0] != TopChange::kNone || change[1] != TopChange::kNone)
        last = features(before, now, top[0].total, top[1].total);
      else
        last.ofi = last.ofi_bid = last.ofi_ask = 0;
      record.features[i] = last;
    }
    before = now;
  }
}

}  // namespace crossbook
