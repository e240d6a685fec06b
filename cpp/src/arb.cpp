#include "crossbook/arb.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>

namespace crossbook {

namespace {

__extension__ using UInt128 = unsigned __int128;

constexpr std::int64_t kD = kFeeDenominator;
constexpr Qty kMaxQty = std::numeric_limits<Qty>::max();
constexpr Int128 kMaxInt128 = static_cast<Int128>(~UInt128{0} >> 1);

void check_fee(FeeCbps fee, const std::string& what) {
  if (fee < -kMaxFeeCbps || fee > kMaxFeeCbps)
    throw InvalidInput(what + " must be in [" + std::to_string(-kMaxFeeCbps) + ", " +
                       std::to_string(kMaxFeeCbps) + "] centi-bps, got " + std::to_string(fee));
}

// pnl_num / (100 * buy_notional) = 1e4 * pnl / buy_notional. While both
// integers are below 2^64 they convert to long double exactly and the division
// rounds once, so the result is a monotone function of the exact ratio: equal
// ratios give equal doubles, which the "cutting max_size never raises the
// edge" property relies on.
double edge_bps_of(Int128 pnl_num, Int128 buy_notional) {
  if (buy_notional == 0) return std::numeric_limits<double>::infinity();
  if (buy_notional <= kMaxInt128 / 100)
    return static_cast<double>(static_cast<long double>(pnl_num) /
                               static_cast<long double>(buy_notional * 100));
  return static_cast<double>(static_cast<long double>(pnl_num) /
                             static_cast<long double>(buy_notional) / 100.0L);
}

// The walk behind best_opportunity. Greedy is optimal: asks are taken in
// rising and bids in falling price order, so the marginal profit of the next
// unit, bid * (D - fs) - ask * (D + fb), never increases along the walk. Total
// pnl is therefore concave in size, and taking every unit with a positive
// margin (and stopping at the first that has none) gives both the maximum pnl
// and the largest size that reaches it with no losing or break-even unit.
std::optional<Opportunity> walk(const L2Book& buy_book, const L2Book& sell_book, FeeCbps fee_buy,
                                FeeCbps fee_sell, Qty cap, std::vector<Level>& asks) {
  const BookSide& ask_side = buy_book.side(Side::Ask);
  const BookSide& bid_side = sell_book.side(Side::Bid);
  if (cap <= 0 || ask_side.empty() || bid_side.empty()) return std::nullopt;
  const Int128 kb = kD + fee_buy, ks = kD - fee_sell;
  const Int128 best_bid_value = Int128{bid_side.best_price()} * ks;

  // An ask that loses against the best bid loses against every bid: collect
  // only the asks that can be taken, so the bid walk below can interleave them.
  asks.clear();
  Int128 collected = 0;
  ask_side.for_each([&](const Level& l) {
    if (best_bid_value <= Int128{l.price} * kb) return false;
    asks.push_back(l);
    collected += l.size;
    return collected < cap;
  });
  if (asks.empty()) return std::nullopt;

  Opportunity o;
  std::size_t ai = 0;
  Qty ask_left = asks[0].size;
  bool overflow = false;
  // Every notional stays below 2^126 since size <= INT64_MAX and price <= INT64_MAX;
  // only pnl_num, scaled by ~2^20, can overflow.
  bid_side.for_each([&](const Level& b) {
    const Int128 bid_value = Int128{b.price} * ks;
    Qty bid_left = b.size;
    while (bid_left > 0) {
      const Level& a = asks[ai];
      const Int128 margin = bid_value - Int128{a.price} * kb;
      if (margin <= 0) return false;
      const Qty take = std::min({bid_left, ask_left, cap - o.size});
      Int128 gain;
      if (__builtin_mul_overflow(margin, Int128{take}, &gain) ||
          __builtin_add_overflow(o.pnl_num, gain, &o.pnl_num)) {
        overflow = true;
        return false;
      }
      o.size += take;
      o.buy_notional += Int128{a.price} * take;
      o.sell_notional += Int128{b.price} * take;
      o.buy_price = a.price;
      o.sell_price = b.price;
      if (o.size == cap) return false;
      bid_left -= take;
      ask_left -= take;
      if (ask_left == 0) {
        if (++ai == asks.size()) return false;
        ask_left = asks[ai].size;
      }
    }
    return true;
  });
  if (overflow)
    throw InvalidInput("opportunity pnl does not fit in 128 bits (notional beyond ~1e32 "
                       "mantissa units: are the exponents right?)");
  o.edge_bps = edge_bps_of(o.pnl_num, o.buy_notional);
  return o;
}

std::uint64_t lo64(Int128 v) { return static_cast<std::uint64_t>(static_cast<UInt128>(v)); }
std::int64_t hi64(Int128 v) { return static_cast<std::int64_t>(v >> 64); }

bool is_level_action(std::uint8_t a) {
  return a >= static_cast<std::uint8_t>(Action::Add) && a <= static_cast<std::uint8_t>(Action::Clear);
}

}  // namespace

std::optional<Opportunity> best_opportunity(const L2Book& buy_book, const L2Book& sell_book,
                                            FeeCbps fee_buy_cbps, FeeCbps fee_sell_cbps,
                                            std::optional<Qty> max_size) {
  if (buy_book.price_exp() != sell_book.price_exp() || buy_book.size_exp() != sell_book.size_exp())
    throw InvalidInput("books must share exponents: buy book has price_exp " +
                       std::to_string(buy_book.price_exp()) + ", size_exp " +
                       std::to_string(buy_book.size_exp()) + "; sell book has price_exp " +
                       std::to_string(sell_book.price_exp()) + ", size_exp " +
                       std::to_string(sell_book.size_exp()));
  check_fee(fee_buy_cbps, "buy fee");
  check_fee(fee_sell_cbps, "sell fee");
  if (max_size && *max_size < 0)
    throw InvalidInput("max_size must be >= 0, got " + std::to_string(*max_size));
  std::vector<Level> scratch;
  return walk(buy_book, sell_book, fee_buy_cbps, fee_sell_cbps, max_size.value_or(kMaxQty),
              scratch);
}

// ---------------------------------------------------------------- ArbScanner

ArbScanner::ArbScanner(ScannerConfig config) : config_(std::move(config)) {
  n_ = config_.taker_fee_cbps.size();
  if (n_ == 0 || n_ > kMaxBooks)
    throw InvalidInput("a scanner needs 1 to " + std::to_string(kMaxBooks) +
                       " books (one taker fee each), got " + std::to_string(n_));
  if (!config_.ticks.empty() && config_.ticks.size() != n_)
    throw InvalidInput("ticks must be empty or one per book: got " +
                       std::to_string(config_.ticks.size()) + " for " + std::to_string(n_) +
                       " books");
  if (config_.max_age_ns < 0)
    throw InvalidInput("max_age_ns must be >= 0, got " + std::to_string(config_.max_age_ns));
  if (config_.max_size && *config_.max_size < 0)
    throw InvalidInput("max_size must be >= 0, got " + std::to_string(*config_.max_size));
  books_.reserve(n_);
  for (std::size_t i = 0; i < n_; ++i) {
    check_fee(config_.taker_fee_cbps[i], "taker fee of book " + std::to_string(i));
    const Price tick = config_.ticks.empty() ? 1 : config_.ticks[i];
    books_.push_back(
        BookState{L2Book(config_.price_exp, config_.size_exp, tick), config_.taker_fee_cbps[i]});
  }
  pairs_.resize(n_ * n_);
}

std::int64_t ArbScanner::expiry(const BookState& b) const {
  if (!b.any_event) return std::numeric_limits<std::int64_t>::min();
  std::int64_t t;
  if (__builtin_add_overflow(b.last_ns, config_.max_age_ns, &t))
    return std::numeric_limits<std::int64_t>::max();
  return t;
}

// `now` is never before b.last_ns (the clock only moves forward), so the age
// is exact in 64 unsigned bits where last_ns + max_age_ns could overflow.
bool ArbScanner::usable_at(const BookState& b, std::int64_t now) const {
  if (!b.synced) return false;
  if (config_.max_age_ns == kNoMaxAge) return true;
  const std::uint64_t age = static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(b.last_ns);
  return b.any_event && age < static_cast<std::uint64_t>(config_.max_age_ns);
}

std::optional<Opportunity> ArbScanner::open_opportunity(std::size_t buy, std::size_t sell) const {
  if (buy >= n_ || sell >= n_) throw std::out_of_range("book index out of range");
  const PairState& p = pairs_[buy * n_ + sell];
  if (!p.open) return std::nullopt;
  return p.opp;
}

void ArbScanner::check_event(const ScanEvent& e, std::size_t index) const {
  auto fail = [&](const std::string& what) {
    throw InvalidInput("event " + std::to_string(index) + ": " + what);
  };
  if (e.book >= n_)
    fail("book " + std::to_string(e.book) + " out of range (" + std::to_string(n_) + " books)");
  if (e.reserved != 0) fail("reserved field must be 0");
  if (e.action >= static_cast<std::uint8_t>(ScanAction::Synced) &&
      e.action <= static_cast<std::uint8_t>(ScanAction::Heartbeat))
    return;
  if (!is_level_action(e.action)) fail("unknown action " + std::to_string(e.action));
  if (e.action == static_cast<std::uint8_t>(Action::Clear)) {
    if (e.side != 0 && !valid_side(e.side)) fail("unknown side " + std::to_string(e.side));
    return;
  }
  if (!valid_side(e.side)) fail("unknown side " + std::to_string(e.side));
  if (e.price < 0) fail("price must be >= 0, got " + std::to_string(e.price));
  if (e.size < 0) fail("size must be >= 0, got " + std::to_string(e.size));
  if (e.count < 0) fail("count must be >= 0, got " + std::to_string(e.count));
}

ScanResult ArbScanner::process(const ScanEvent* events, std::size_t n, OpportunityEvent* out,
                               std::size_t out_cap) {
  if (n == 0) return {};
  if (out_cap < max_events_per_input())
    throw InvalidInput("out_cap must be >= max_events_per_input() = " +
                       std::to_string(max_events_per_input()) + ", got " +
                       std::to_string(out_cap));
  for (std::size_t i = 0; i < n; ++i) check_event(events[i], i);
  Out o{out, out_cap};
  std::size_t k = 0;
  for (; k < n; ++k) {
    // Worst case for one event: every open pair closes as stale, then each
    // pair of the event's book changes once.
    if (o.cap - o.n < open_count_ + 2 * (n_ - 1)) break;
    // Read once into a local and checked again: a buffer written by another
    // thread during the call must not reach step() unchecked (e.book indexes).
    const ScanEvent e = events[k];
    check_event(e, k);
    try {
      step(e, o);
    } catch (const InvalidInput& err) {
      throw InvalidInput("event " + std::to_string(k) + ": " + err.what());
    }
  }
  return {k, o.n};
}

ScanResult ArbScanner::set_synced(std::size_t book, bool synced, std::int64_t ts_ns,
                                  OpportunityEvent* out, std::size_t out_cap) {
  if (book >= n_) throw InvalidInput("book " + std::to_string(book) + " out of range");
  const auto action = synced ? ScanAction::Synced : ScanAction::Unsynced;
  const ScanEvent e{ts_ns, ts_ns, 0, 0, 0, 0, static_cast<std::uint8_t>(action), flags::kLast,
                    static_cast<std::uint32_t>(book), 0};
  return process(&e, 1, out, out_cap);
}

void ArbScanner::step(const ScanEvent& e, Out& out) {
  now_ = std::max(now_, e.ts_recv_ns);
  expire_stale(out);
  const std::size_t i = e.book;
  BookState& b = books_[i];
  const bool was_usable = usable_at(b, now_);
  const bool level_event = is_level_action(e.action);
  if (level_event) {
    const LevelEvent le{e.ts_exchange_ns, e.ts_recv_ns, e.price, e.size,
                        e.count,          e.side,       e.action, e.flags};
    b.book.apply(&le, 1, nullptr);
    mark_dirty(b, e);
  } else if (e.action == static_cast<std::uint8_t>(ScanAction::Synced)) {
    b.synced = true;
  } else if (e.action == static_cast<std::uint8_t>(ScanAction::Unsynced)) {
    if (b.synced) close_pairs_of(i, now_, CloseReason::Unsynced, out);
    b.synced = false;
  }
  b.any_event = true;
  b.last_ns = now_;
  // Pairs were closed (or never opened) while the book was unusable: all of
  // them have to be looked at, not only those the event touched.
  if (!was_usable && usable_at(b, now_)) b.dirty_all = true;
  if (!level_event || config_.mode == ScanMode::EveryEvent || (e.flags & flags::kLast))
    rescan(i, out);
}

void ArbScanner::mark_dirty(BookState& b, const ScanEvent& e) {
  if (e.action == static_cast<std::uint8_t>(Action::Clear))
    b.dirty_all = true;
  else if (e.side == static_cast<std::uint8_t>(Side::Ask))
    b.dirty_ask_min = std::min(b.dirty_ask_min, e.price);
  else
    b.dirty_bid_max = std::max(b.dirty_bid_max, e.price);
}

void ArbScanner::rescan(std::size_t i, Out& out) {
  BookState& b = books_[i];
  const bool all = b.dirty_all;
  const Price ask_min = b.dirty_ask_min, bid_max = b.dirty_bid_max;
  b.dirty_all = false;
  b.dirty_ask_min = std::numeric_limits<Price>::max();
  b.dirty_bid_max = -1;
  if (!usable_at(b, now_)) return;
  const bool asks_changed = ask_min != std::numeric_limits<Price>::max();
  const bool bids_changed = bid_max >= 0;
  if (!all && !asks_changed && !bids_changed) return;
  const Int128 kb_i = kD + b.fee, ks_i = kD - b.fee;
  const Int128 ask_value = Int128{ask_min} * kb_i, bid_value = Int128{bid_max} * ks_i;
  for (std::size_t j = 0; j < n_; ++j) {
    if (j == i) continue;
    BookState& o = books_[j];
    if (!usable_at(o, now_)) continue;
    // The best-price tests below are exact only against a book whose own
    // changes have all been looked at. One in the middle of a message (an
    // interleaved venue) gets all its pairs re-walked when that message ends.
    if (o.pending()) {
      o.dirty_all = true;
      continue;
    }
    if (all) {
      evaluate(i, j, out);
    } else if (asks_changed) {
      const BookSide& bids = o.book.side(Side::Bid);
      if (!bids.empty() && Int128{bids.best_price()} * (kD - o.fee) > ask_value) evaluate(i, j, out);
    }
    if (all) {
      evaluate(j, i, out);
    } else if (bids_changed) {
      const BookSide& asks = o.book.side(Side::Ask);
      if (!asks.empty() && bid_value > Int128{asks.best_price()} * (kD + o.fee)) evaluate(j, i, out);
    }
  }
}

void ArbScanner::evaluate(std::size_t buy, std::size_t sell, Out& out) {
  const Qty cap = config_.max_size.value_or(kMaxQty);
  const std::optional<Opportunity> r =
      walk(books_[buy].book, books_[sell].book, books_[buy].fee, books_[sell].fee, cap, scratch_);
  PairState& p = pair(buy, sell);
  if (!r) {
    if (p.open) close(buy, sell, now_, CloseReason::Gone, out);
    return;
  }
  if (!p.open) {
    p = PairState{true, now_, *r, r->edge_bps, r->size};
    ++open_count_;
    ++books_[buy].open_pairs;
    ++books_[sell].open_pairs;
    emit(buy, sell, p, now_, OpportunityKind::Opened, CloseReason::None, out);
    return;
  }
  const bool changed = r->size != p.opp.size || r->edge_bps != p.opp.edge_bps;
  p.opp = *r;
  p.peak_edge_bps = std::max(p.peak_edge_bps, r->edge_bps);
  p.peak_size = std::max(p.peak_size, r->size);
  if (changed) emit(buy, sell, p, now_, OpportunityKind::Updated, CloseReason::None, out);
}

void ArbScanner::expire_stale(Out& out) {
  if (config_.max_age_ns == kNoMaxAge || open_count_ == 0) return;
  // A pair closes when the first of its two books expired; closes are
  // written in time order so that the output stream stays sorted.
  std::vector<std::tuple<std::int64_t, std::size_t, std::size_t>> due;
  for (std::size_t i = 0; i < n_; ++i) {
    if (books_[i].open_pairs == 0 || usable_at(books_[i], now_)) continue;
    for (std::size_t j = 0; j < n_; ++j) {
      for (auto [buy, sell] : {std::pair{i, j}, std::pair{j, i}}) {
        if (!pair(buy, sell).open) continue;
        const std::int64_t ts = std::min(expiry(books_[buy]), expiry(books_[sell]));
        due.emplace_back(ts, buy, sell);
        pair(buy, sell).open = false;  // listed once even when both books expired
      }
    }
  }
  std::sort(due.begin(), due.end());
  for (const auto& [ts, buy, sell] : due) {
    pair(buy, sell).open = true;
    close(buy, sell, ts, CloseReason::Stale, out);
  }
}

void ArbScanner::close_pairs_of(std::size_t i, std::int64_t ts, CloseReason why, Out& out) {
  for (std::size_t j = 0; j < n_; ++j) {
    if (pair(i, j).open) close(i, j, ts, why, out);
    if (pair(j, i).open) close(j, i, ts, why, out);
  }
}

void ArbScanner::close(std::size_t buy, std::size_t sell, std::int64_t ts, CloseReason why,
                       Out& out) {
  PairState& p = pair(buy, sell);
  emit(buy, sell, p, ts, OpportunityKind::Closed, why, out);
  p.open = false;
  --open_count_;
  --books_[buy].open_pairs;
  --books_[sell].open_pairs;
}

std::size_t ArbScanner::flush(std::int64_t ts_ns, OpportunityEvent* out, std::size_t out_cap) {
  now_ = std::max(now_, ts_ns);
  Out o{out, out_cap};
  for (std::size_t k = 0; k < pairs_.size() && o.n < o.cap && open_count_ > 0; ++k)
    if (pairs_[k].open) close(k / n_, k % n_, now_, CloseReason::Flushed, o);
  return o.n;
}

void ArbScanner::emit(std::size_t buy, std::size_t sell, const PairState& p, std::int64_t ts,
                      OpportunityKind kind, CloseReason why, Out& out) {
  if (out.n >= out.cap) throw InvariantViolation("opportunity buffer overrun (scanner bug)");
  const Opportunity& o = p.opp;
  // ts >= open_ts always; the difference of two arbitrary int64 may still not fit.
  const std::uint64_t age = static_cast<std::uint64_t>(ts) - static_cast<std::uint64_t>(p.open_ts_ns);
  const auto duration = static_cast<std::int64_t>(
      std::min<std::uint64_t>(age, std::numeric_limits<std::int64_t>::max()));
  out.buf[out.n++] = OpportunityEvent{ts,
                                      p.open_ts_ns,
                                      duration,
                                      o.size,
                                      o.buy_price,
                                      o.sell_price,
                                      p.peak_size,
                                      o.edge_bps,
                                      p.peak_edge_bps,
                                      lo64(o.pnl_num),
                                      hi64(o.pnl_num),
                                      lo64(o.buy_notional),
                                      hi64(o.buy_notional),
                                      lo64(o.sell_notional),
                                      hi64(o.sell_notional),
                                      static_cast<std::uint32_t>(buy),
                                      static_cast<std::uint32_t>(sell),
                                      static_cast<std::uint8_t>(kind),
                                      static_cast<std::uint8_t>(why),
                                      0,
                                      0};
}

}  // namespace crossbook
