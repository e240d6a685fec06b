#include "crossbook/matching_engine.hpp"

#include <algorithm>
#include <limits>
#include <string>

namespace crossbook {

using detail::kNil;

namespace {
constexpr Price kMaxPrice = std::numeric_limits<Price>::max();
constexpr Price kMinPrice = std::numeric_limits<Price>::min();
constexpr std::int64_t kBpsPerUnit = 10000;

Side opposite(Side s) { return s == Side::Bid ? Side::Ask : Side::Bid; }
std::uint8_t code(RejectReason r) { return static_cast<std::uint8_t>(r); }

void validate(const EngineConfig& c) {
  auto bad = [](const std::string& what) { throw InvalidInput("engine config: " + what); };
  if (c.stp == StpMode::Default || static_cast<std::uint8_t>(c.stp) > 5)
    bad("stp must be one of None, CancelNewest, CancelOldest, CancelBoth, Decrement");
  if (c.max_order_size < 0) bad("max_order_size must be >= 0");
  if (c.max_notional < 0) bad("max_notional must be >= 0");
  if (c.band_bps < 0) bad("band_bps must be >= 0");
  if (c.halt_move_bps < 0) bad("halt_move_bps must be >= 0");
  if (c.halt_window_ns < 0) bad("halt_window_ns must be >= 0");
}
}  // namespace

MatchingEngine::MatchingEngine(EngineConfig config, int price_exp, int size_exp)
    : book_(AnomalyPolicy::Throw, price_exp, size_exp), config_(config) {
  validate(config_);
}

void MatchingEngine::set_config(const EngineConfig& config) {
  validate(config);
  config_ = config;
  update_band();
}

void MatchingEngine::set_reference_price(std::optional<Price> price) {
  if (price && *price < 0)
    throw InvalidInput("reference price must be >= 0, got " + std::to_string(*price));
  reference_ = price;
  update_band();
}

void MatchingEngine::update_band() {
  band_on_ = config_.band_bps > 0 && reference_.has_value();
  if (!band_on_) return;
  const Int128 ref = *reference_;
  const Int128 off = ref * config_.band_bps / kBpsPerUnit;  // rounded down: the band never widens
  band_lo_ = static_cast<Price>(std::max<Int128>(0, ref - off));
  band_hi_ = static_cast<Price>(std::min<Int128>(kMaxPrice, ref + off));
}

void MatchingEngine::resume() {
  halted_ = false;
  halt_pending_ = false;
  window_min_.clear();
  window_max_.clear();
}

// ---------------------------------------------------------------- requests

bool MatchingEngine::submit(const OrderRequest& r, FillSink& fills, RejectSink& rejects) {
  book_.set_timestamps(r.ts_ns, r.ts_ns);
  bool accepted;
  switch (static_cast<OrderType>(r.type)) {
    case OrderType::Limit:
    case OrderType::Market:
      accepted = submit_new(r, fills, rejects);
      break;
    case OrderType::Cancel:
      accepted = cancel(r, rejects);
      break;
    case OrderType::Modify:
      accepted = modify(r, fills, rejects);
      break;
    default:
      accepted = reject(rejects, r, r.size, RejectReason::InvalidType);
  }
  end_request();
  return accepted;
}

void MatchingEngine::submit_batch(const OrderRequest* requests, std::size_t n, FillSink& fills,
                                  RejectSink& rejects) {
  for (std::size_t i = 0; i < n; ++i) {
    book_.prefetch_ahead(requests, i, n);
    // A copy: submit() checks a request, then reads it again to act on it; the
    // caller's buffer may be written by another thread while a batch runs.
    const OrderRequest r = requests[i];
    submit(r, fills, rejects);
  }
}

void MatchingEngine::end_request() {
  if (halt_pending_) {
    halted_ = true;
    halt_pending_ = false;
  }
  if (traded_ && config_.reference_follows_trades) {
    reference_ = last_trade_;
    update_band();
  }
  traded_ = false;
}

std::uint8_t MatchingEngine::check_fields(const OrderRequest& r) const {
  const bool post_only = (r.flags & order_flags::kPostOnly) != 0;
  if (!valid_side(r.side)) return code(RejectReason::InvalidSide);
  if (r.tif < static_cast<std::uint8_t>(TimeInForce::Gtc) ||
      r.tif > static_cast<std::uint8_t>(TimeInForce::Fok))
    return code(RejectReason::InvalidTif);
  if (r.stp > static_cast<std::uint8_t>(StpMode::Decrement)) return code(RejectReason::InvalidStp);
  if ((r.flags & ~order_flags::kPostOnly) != 0 ||
      (post_only && (r.type != static_cast<std::uint8_t>(OrderType::Limit) ||
                     r.tif != static_cast<std::uint8_t>(TimeInForce::Gtc))))
    return code(RejectReason::InvalidFlags);
  if (r.size <= 0) return code(RejectReason::InvalidSize);
  if (r.type == static_cast<std::uint8_t>(OrderType::Limit) && r.price < 0)
    return code(RejectReason::InvalidPrice);
  return 0;
}

std::uint8_t MatchingEngine::check_limits(bool is_market, Price price, Qty size) const {
  if (config_.max_order_size > 0 && size > config_.max_order_size)
    return code(RejectReason::MaxOrderSize);
  if (!is_market && band_on_ && (price < band_lo_ || price > band_hi_))
    return code(RejectReason::PriceBand);
  if (config_.max_notional > 0 && (!is_market || band_on_)) {
    // A market order can trade anywhere in the band, on either side up to its top.
    const Price worst = is_market ? band_hi_ : price;
    if (Int128{worst} * size > config_.max_notional) return code(RejectReason::MaxNotional);
  }
  return 0;
}

bool MatchingEngine::submit_new(const OrderRequest& r, FillSink& fills, RejectSink& rejects) {
  if (halted_) return reject(rejects, r, r.size, RejectReason::Halted);
  if (!killed_.empty() && killed_.count(r.owner))
    return reject(rejects, r, r.size, RejectReason::KillSwitch);
  const bool is_market = r.type == static_cast<std::uint8_t>(OrderType::Market);
  std::uint8_t why = check_fields(r);
  if (!why) why = check_limits(is_market, r.price, r.size);
  if (why) return reject(rejects, r, r.size, static_cast<RejectReason>(why));
  // One probe serves the duplicate check and, when matching erased nothing
  // (so no entry moved), the insertion of the resting remainder.
  std::size_t bucket = 0;
  const auto id_of = [this](std::uint32_t s) { return book_.orders_[s].id; };
  if (book_.index_.find_for_insert(r.order_id, id_of, &bucket) != kNil)
    return reject(rejects, r, r.size, RejectReason::DuplicateOrderId);
  const std::size_t resting_before = book_.size();

  const Side side = static_cast<Side>(r.side);
  if (!is_market && !book_.fits(side, r.price, r.size, kNil))
    return reject(rejects, r, r.size, RejectReason::InvalidSize);
  Price limit = r.price;
  if (is_market) {
    if (side == Side::Bid)
      limit = band_on_ ? band_hi_ : kMaxPrice;
    else
      limit = band_on_ ? band_lo_ : kMinPrice;
  }
  const StpMode stp = r.stp == 0 ? config_.stp : static_cast<StpMode>(r.stp);
  Taker t{r.order_id, r.owner, side, limit, r.size, stp, r.ts_ns};
  if ((r.flags & order_flags::kPostOnly) && would_take(t))
    return reject(rejects, r, r.size, RejectReason::PostOnlyWouldTake);
  const auto tif = static_cast<TimeInForce>(r.tif);
  if (tif == TimeInForce::Fok && !fok_fillable(t))
    return reject(rejects, r, r.size, RejectReason::FokNotFillable);

  match(t, fills, rejects);
  if (t.remaining == 0) return true;
  if (!is_market && tif == TimeInForce::Gtc) {
    if (book_.size() == resting_before)
      book_.insert_at(bucket, t.id, t.side, t.limit, t.remaining, t.owner);
    else
      rest(t);
    return true;
  }
  // What stopped it: an empty side, its own limit, or (market) the band edge.
  const bool band_stop = is_market && !book_.levels_of(opposite(side)).empty();
  rejects.push_back(Reject{r.ts_ns, r.order_id, t.remaining,
                           code(band_stop ? RejectReason::PriceBand : RejectReason::Expired), {}});
  return true;
}

bool MatchingEngine::cancel(const OrderRequest& r, RejectSink& rejects) {
  const std::size_t bucket = book_.find_bucket(r.order_id);
  if (bucket == detail::OrderIndex::kNoBucket)
    return reject(rejects, r, r.size, RejectReason::UnknownOrder);
  const std::uint32_t o = book_.index_.slot_at(bucket);
  if (book_.orders_[o].owner != r.owner)
    return reject(rejects, r, r.size, RejectReason::OwnerMismatch);
  if (r.size < 0) return reject(rejects, r, r.size, RejectReason::InvalidSize);
  if (r.size == 0 || r.size >= book_.orders_[o].size)
    book_.erase_order(o, bucket);
  else
    book_.reduce_order(o, r.size);
  return true;
}

bool MatchingEngine::modify(const OrderRequest& r, FillSink& fills, RejectSink& rejects) {
  if (halted_) return reject(rejects, r, r.size, RejectReason::Halted);
  const std::uint32_t o = book_.find(r.order_id);
  if (o == kNil) return reject(rejects, r, r.size, RejectReason::UnknownOrder);
  const std::uint64_t owner = book_.orders_[o].owner;
  if (owner != r.owner) return reject(rejects, r, r.size, RejectReason::OwnerMismatch);
  std::uint8_t why = 0;
  if (r.stp > static_cast<std::uint8_t>(StpMode::Decrement))
    why = code(RejectReason::InvalidStp);
  else if ((r.flags & ~order_flags::kPostOnly) != 0)
    why = code(RejectReason::InvalidFlags);
  else if (r.size <= 0)
    why = code(RejectReason::InvalidSize);
  else if (r.price < 0)
    why = code(RejectReason::InvalidPrice);
  else
    why = check_limits(false, r.price, r.size);
  if (why) return reject(rejects, r, r.size, static_cast<RejectReason>(why));

  const Qty rests = book_.orders_[o].size;
  const OrderBook::LevelRec& level = book_.levels_[book_.orders_[o].level];
  if (r.price == level.price && r.size <= rests) {
    if (r.size < rests) book_.reduce_order(o, rests - r.size);
    return true;
  }
  if (!book_.fits(static_cast<Side>(level.side), r.price, r.size, o))
    return reject(rejects, r, r.size, RejectReason::InvalidSize);
  const StpMode stp = r.stp == 0 ? config_.stp : static_cast<StpMode>(r.stp);
  Taker t{r.order_id, owner, static_cast<Side>(level.side), r.price, r.size, stp, r.ts_ns};
  if (!would_take(t)) {
    book_.move_to_back(o, r.price, r.size);
    return true;
  }
  if (r.flags & order_flags::kPostOnly)
    return reject(rejects, r, r.size, RejectReason::PostOnlyWouldTake);
  book_.erase_order(o);
  match(t, fills, rejects);
  if (t.remaining > 0) rest(t);
  return true;
}

std::size_t MatchingEngine::kill(std::uint64_t owner, std::int64_t ts_ns, RejectSink& rejects) {
  killed_.insert(owner);
  book_.set_timestamps(ts_ns, ts_ns);
  std::vector<std::uint32_t> doomed;
  for (const Side side : {Side::Bid, Side::Ask}) {
    book_.levels_of(side).for_each([&](std::uint32_t lvl) {
      for (std::uint32_t o = book_.levels_[lvl].head; o != kNil; o = book_.orders_[o].next)
        if (book_.orders_[o].owner == owner) doomed.push_back(o);
      return true;
    });
  }
  for (const std::uint32_t o : doomed) {
    const OrderBook::OrderSlot& s = book_.orders_[o];
    rejects.push_back(Reject{ts_ns, s.id, s.size, code(RejectReason::KillSwitch), {}});
    book_.erase_order(o);
  }
  return doomed.size();
}

// ---------------------------------------------------------------- matching

bool MatchingEngine::would_take(const Taker& t) const {
  const detail::LevelIndex& opp = book_.levels_of(opposite(t.side));
  return !opp.empty() && crosses(t, opp.best_price());
}

bool MatchingEngine::fok_fillable(const Taker& t) const {
  Qty need = t.remaining;
  const bool stp = t.stp != StpMode::None;
  book_.levels_of(opposite(t.side)).for_each([&](std::uint32_t lvl) {
    const OrderBook::LevelRec& l = book_.levels_[lvl];
    if (!crosses(t, l.price)) return false;
    if (!stp) {
      need -= std::min(need, l.total);
      return need > 0;
    }
    for (std::uint32_t o = l.head; o != kNil; o = book_.orders_[o].next) {
      const OrderBook::OrderSlot& s = book_.orders_[o];
      if (s.owner == t.owner) {
        if (t.stp == StpMode::CancelOldest) continue;  // it will be cancelled, not traded
        return false;                                  // the taker stops trading here
      }
      need -= std::min(need, s.size);
      if (need == 0) return false;
    }
    return true;
  });
  return need == 0;
}

void MatchingEngine::match(Taker& t, FillSink& fills, RejectSink& rejects) {
  const detail::LevelIndex& opp = book_.levels_of(opposite(t.side));
  while (t.remaining > 0 && !opp.empty()) {
    const std::uint32_t lvl = opp.best_level();
    if (!crosses(t, book_.levels_[lvl].price)) return;
    match_level(t, lvl, fills, rejects);
  }
}

void MatchingEngine::match_level(Taker& t, std::uint32_t lvl, FillSink& fills,
                                 RejectSink& rejects) {
  OrderBook::LevelRec& l = book_.levels_[lvl];
  const Qty total_before = l.total;
  const bool stp = t.stp != StpMode::None;
  const auto taker_side = static_cast<std::uint8_t>(t.side);
  while (t.remaining > 0 && l.count > 0) {
    OrderBook::OrderSlot& m = book_.orders_[l.head];
    if (stp && m.owner == t.owner) {
      self_trade(t, lvl, rejects);
      continue;
    }
    const Qty q = std::min(t.remaining, m.size);
    // Filled in place: a temporary Fill copied in costs a store-forwarding stall.
    Fill& fill = fills.emplace_back();
    fill.ts_ns = t.ts_ns;
    fill.taker_id = t.id;
    fill.maker_id = m.id;
    fill.price = l.price;
    fill.size = q;
    fill.taker_side = taker_side;
    record_trade(t.ts_ns, l.price, q);
    t.remaining -= q;
    if (q == m.size) {
      book_.pop_head(lvl);
    } else {
      m.size -= q;
      l.total -= q;
    }
  }
  // One level event per level, however many orders it lost.
  if (l.total != total_before) book_.emit_level(l);
  if (l.count == 0) book_.free_level(lvl);
}

void MatchingEngine::self_trade(Taker& t, std::uint32_t lvl, RejectSink& rejects) {
  OrderBook::LevelRec& l = book_.levels_[lvl];
  OrderBook::OrderSlot& m = book_.orders_[l.head];
  auto removed = [&](std::uint64_t id, Qty size) {
    rejects.push_back(Reject{t.ts_ns, id, size, code(RejectReason::SelfTrade), {}});
  };
  switch (t.stp) {
    case StpMode::CancelNewest:
      removed(t.id, t.remaining);
      t.remaining = 0;
      return;
    case StpMode::CancelOldest:
      removed(m.id, m.size);
      book_.pop_head(lvl);
      return;
    case StpMode::CancelBoth:
      removed(m.id, m.size);
      book_.pop_head(lvl);
      removed(t.id, t.remaining);
      t.remaining = 0;
      return;
    case StpMode::Decrement: {
      const Qty d = std::min(t.remaining, m.size);
      removed(m.id, d);
      removed(t.id, d);
      t.remaining -= d;
      if (d == m.size) {
        book_.pop_head(lvl);
      } else {
        m.size -= d;
        l.total -= d;
      }
      return;
    }
    case StpMode::Default:
    case StpMode::None:
      return;  // resolved before matching; None never reaches here
  }
}

void MatchingEngine::rest(const Taker& t) {
  std::size_t bucket = 0;
  book_.index_.find_for_insert(
      t.id, [this](std::uint32_t s) { return book_.orders_[s].id; }, &bucket);
  book_.insert_at(bucket, t.id, t.side, t.limit, t.remaining, t.owner);
}

void MatchingEngine::record_trade(std::int64_t ts_ns, Price price, Qty size) {
  ++trade_count_;
  traded_volume_ += size;
  last_trade_ = price;
  traded_ = true;
  if (config_.halt_move_bps <= 0) return;
  trade_clock_ = std::max(trade_clock_, ts_ns);
  ts_ns = trade_clock_;
  constexpr std::int64_t kMinTs = std::numeric_limits<std::int64_t>::min();
  const std::int64_t from =
      ts_ns < kMinTs + config_.halt_window_ns ? kMinTs : ts_ns - config_.halt_window_ns;
  while (!window_min_.empty() && window_min_.front().ts_ns < from) window_min_.pop_front();
  while (!window_max_.empty() && window_max_.front().ts_ns < from) window_max_.pop_front();
  while (!window_min_.empty() && window_min_.back().price >= price) window_min_.pop_back();
  while (!window_max_.empty() && window_max_.back().price <= price) window_max_.pop_back();
  window_min_.push_back(TradePoint{ts_ns, price});
  window_max_.push_back(TradePoint{ts_ns, price});
  const Price lo = window_min_.front().price;
  const Price hi = window_max_.front().price;
  if (Int128{hi - lo} * kBpsPerUnit > Int128{config_.halt_move_bps} * lo) halt_pending_ = true;
}

void MatchingEngine::check_invariants() const {
  book_.check_invariants();
  const BboRow b = book_.bbo();
  if (b.bid_size > 0 && b.ask_size > 0 && b.bid_price >= b.ask_price)
    throw InvariantViolation("engine book crossed: bid " + std::to_string(b.bid_price) +
                             " >= ask " + std::to_string(b.ask_price));
}

}  // namespace crossbook
