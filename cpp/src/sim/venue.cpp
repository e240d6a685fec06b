#include "crossbook/sim/venue.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

namespace crossbook::sim {

namespace {

Side opposite(Side s) { return s == Side::Bid ? Side::Ask : Side::Bid; }
std::size_t slot(Side s) { return s == Side::Bid ? 0 : 1; }

// A level at `level_price` is within reach of an order on `order_side` limited at `limit`.
bool within(Side order_side, Price limit, Price level_price) {
  return order_side == Side::Bid ? level_price <= limit : level_price >= limit;
}

bool is_market(const SimOrder& o) {
  return o.type == static_cast<std::uint8_t>(OrderType::Market) ||
         o.type == static_cast<std::uint8_t>(OrderType::Stop);
}

bool is_stop(const SimOrder& o) {
  return o.type == static_cast<std::uint8_t>(OrderType::Stop) ||
         o.type == static_cast<std::uint8_t>(OrderType::StopLimit);
}

template <class T>
typename std::vector<T>::const_iterator find_id(const std::vector<T>& v, std::uint64_t id) {
  const auto it = std::lower_bound(v.begin(), v.end(), id, [](const T& x, std::uint64_t i) { return x.id < i; });
  return it != v.end() && it->id == id ? it : v.end();
}

std::int64_t checked_i64(Int128 v, const char* what, std::uint32_t venue) {
  if (v > std::numeric_limits<std::int64_t>::max() || v < std::numeric_limits<std::int64_t>::min())
    throw InvalidInput(std::string(what) + " of venue " + std::to_string(venue) +
                       " does not fit int64");
  return static_cast<std::int64_t>(v);
}

// The first entry at or above `price` in rows sorted by price.
template <class Rows>
auto at_price(Rows& rows, Price price) {
  return std::lower_bound(rows.begin(), rows.end(), price,
                          [](const auto& t, Price p) { return t.price < p; });
}

// Adds `size` at `price` (saturating: a traded total only needs to exceed any level's size).
template <class Rows>
void add_at(Rows& rows, Price price, Qty size) {
  const auto it = at_price(rows, price);
  if (it == rows.end() || it->price != price) {
    rows.insert(it, {price, size});
    return;
  }
  it->size = it->size > std::numeric_limits<Qty>::max() - size ? std::numeric_limits<Qty>::max()
                                                                : it->size + size;
}

// Removes the entry at `price` and returns its size (0 when none). O(1) when the
// rows are empty or the price is outside them, as on almost every feed row.
template <class Rows>
Qty remove_at(Rows& rows, Price price) {
  if (rows.empty() || price < rows.front().price || price > rows.back().price) return 0;
  const auto it = at_price(rows, price);
  if (it == rows.end() || it->price != price) return 0;
  const Qty size = it->size;
  rows.erase(it);
  return size;
}

}  // namespace

void check_level_row(const LevelEvent& e, std::size_t index, const char* what) {
  const auto bad = [&](const std::string& why) {
    throw InvalidInput(std::string(what) + " row " + std::to_string(index) + ": " + why);
  };
  if (e.action == kActionSynced || e.action == kActionUnsynced ||
      e.action == static_cast<std::uint8_t>(Action::Clear))
    return;
  if (e.action < static_cast<std::uint8_t>(Action::Add) || e.action > static_cast<std::uint8_t>(Action::Delete))
    bad("unknown action " + std::to_string(e.action));
  if (!valid_side(e.side)) bad("side must be 1 (bid) or 2 (ask), got " + std::to_string(e.side));
  if (e.price < 0) bad("negative price " + std::to_string(e.price));
  if (e.size < 0) bad("negative size " + std::to_string(e.size));
}

void check_trade_row(const TradeEvent& t, std::size_t index, const char* what) {
  const auto bad = [&](const std::string& why) {
    throw InvalidInput(std::string(what) + " row " + std::to_string(index) + ": " + why);
  };
  if (!valid_side(t.side)) bad("aggressor side must be 1 (bid) or 2 (ask), got " + std::to_string(t.side));
  if (t.price <= 0) bad("price must be positive, got " + std::to_string(t.price));
  if (t.size <= 0) bad("size must be positive, got " + std::to_string(t.size));
}

SimVenue::SimVenue(std::uint32_t index, L2Book book, std::unique_ptr<FeeModel> fees,
                   std::unique_ptr<QueueModel> queue, bool synced)
    : index_(index), book_(std::move(book)), fees_(std::move(fees)), queue_(std::move(queue)),
      synced_(synced) {}

SimAccount SimVenue::account() const {
  const auto split = [](Int128 v, std::uint64_t& lo, std::int64_t& hi) {
    lo = static_cast<std::uint64_t>(v);
    hi = static_cast<std::int64_t>(v >> 64);  // arithmetic shift: floor, as value = hi * 2^64 + lo
  };
  SimAccount a{position_, volume_, 0, 0, 0, 0};
  split(cash_, a.cash_lo, a.cash_hi);
  split(fees_paid_, a.fees_lo, a.fees_hi);
  return a;
}

Qty SimVenue::taken(Side side, Price price) const {
  const auto& rows = taken_[slot(side)];
  if (rows.empty()) return 0;
  const auto it = at_price(rows, price);
  return it != rows.end() && it->price == price ? it->size : 0;
}

void SimVenue::add_taken(Side side, Price price, Qty size) { add_at(taken_[slot(side)], price, size); }

void SimVenue::untake(Side side, Price price) { remove_at(taken_[slot(side)], price); }

Qty SimVenue::untrade(Side side, Price price) { return remove_at(traded_[slot(side)], price); }

const QueueState* SimVenue::queue_of(std::uint64_t id) const {
  const auto it = std::lower_bound(resting_.begin(), resting_.end(), id,
                                   [](const Resting& r, std::uint64_t v) { return r.id < v; });
  return it != resting_.end() && it->id == id ? &it->queue : nullptr;
}

Qty SimVenue::available(Side side, const Level& level) const {
  return std::max<Qty>(0, level.size - taken(side, level.price));
}

Qty SimVenue::fillable(Side book_side, Price limit, bool market, Qty want) const {
  const Side order_side = opposite(book_side);
  Qty total = 0;
  book_.side(book_side).for_each([&](const Level& l) {
    if (!market && !within(order_side, limit, met(l.price))) return false;
    total += std::min(available(book_side, l), want - total);
    return total < want;
  });
  return total;
}

bool SimVenue::would_cross(Side order_side, Price price) const {
  return fillable(opposite(order_side), price, false, 1) > 0;
}

void SimVenue::apply_level(const LevelEvent& e) {
  if (e.action == kActionSynced || e.action == kActionUnsynced) {
    synced_ = e.action == kActionSynced;
    return;
  }
  if (e.action == static_cast<std::uint8_t>(Action::Clear)) {
    book_.clear();
    taken_[0].clear();
    taken_[1].clear();
    traded_[0].clear();
    traded_[1].clear();
    return;
  }
  const auto side = static_cast<Side>(e.side);
  const Qty new_size = e.action == static_cast<std::uint8_t>(Action::Delete) ? 0 : e.size;
  if (resting_.empty()) {  // no queue to move: the level's old size is not needed
    book_.update(side, e.price, new_size, e.count);
    untake(side, e.price);
    untrade(side, e.price);
    return;
  }
  const auto prev = book_.side(side).level(e.price);
  const Qty prev_size = prev ? prev->size : 0;
  book_.update(side, e.price, new_size, e.count);
  untake(side, e.price);
  const Qty traded_size = untrade(side, e.price);
  for (Resting& r : resting_)
    if (r.side == side && r.price == e.price)
      queue_->on_level_change(r.queue, prev_size, new_size, traded_size);
}

void SimVenue::apply_trade(const TradeEvent& t, std::int64_t now_ns, Ledger& ledger) {
  const Side hit = opposite(static_cast<Side>(t.side));  // the side the aggressor traded against
  add_at(traded_[slot(hit)], t.price, t.size);
  std::vector<std::pair<std::uint64_t, Qty>> fills;
  for (Resting& r : resting_) {
    if (r.side != hit) continue;
    const SimOrder& o = ledger.order(r.id);
    const Qty leaves = o.size - o.filled;
    Qty reach = 0;
    if (t.price == r.price)
      reach = queue_->on_trade(r.queue, t.size);
    else if (within(opposite(r.side), t.price, r.price))
      reach = leaves;  // the market traded through the order's price
    if (reach > 0) fills.emplace_back(r.id, std::min(reach, leaves));
  }
  for (const auto& [id, size] : fills) {
    SimOrder& o = ledger.order(id);
    fill(o, o.price, size, Liquidity::Maker, now_ns, ledger);
    if (o.filled == o.size) erase_resting(id);
  }
  if (!stops_.empty()) trigger_stops(t, now_ns, ledger);
}

void SimVenue::trigger_stops(const TradeEvent& t, std::int64_t now_ns, Ledger& ledger) {
  std::vector<std::uint64_t> hit;
  for (const WaitingStop& s : stops_)
    if (s.side == Side::Bid ? t.price >= s.trigger : t.price <= s.trigger) hit.push_back(s.id);
  for (const std::uint64_t id : hit) {
    stops_.erase(find_id(stops_, id));
    SimOrder& o = ledger.order(id);
    o.flags |= kTriggered;
    send(o, ResponseKind::Triggered, now_ns, ledger);
    update_shift(now_ns);
    // The stop was accepted, so what the venue would now refuse cancels it instead.
    const Reason why = synced_ ? book_refusal(o) : Reason::NotSynced;
    if (why != Reason::None) {
      close(o, OrderStatus::Cancelled, why);
      send(o, ResponseKind::Cancelled, now_ns, ledger, why);
      continue;
    }
    execute(o, now_ns, ledger);
  }
}

bool SimVenue::stop_waiting(std::uint64_t id) const { return find_id(stops_, id) != stops_.end(); }

Reason SimVenue::book_refusal(const SimOrder& o) const {
  const auto side = static_cast<Side>(o.side);
  const bool market = is_market(o);
  if (!market && (o.flags & kPostOnly) && would_cross(side, o.price)) return Reason::PostOnlyWouldCross;
  if (o.tif == static_cast<std::uint8_t>(TimeInForce::Fok) &&
      fillable(opposite(side), o.price, market, o.size) < o.size)
    return Reason::FokNotFillable;
  return Reason::None;
}

void SimVenue::execute(SimOrder& o, std::int64_t now_ns, Ledger& ledger) {
  take(o, now_ns, ledger);
  if (o.filled == o.size) return;
  if (is_market(o) || o.tif != static_cast<std::uint8_t>(TimeInForce::Gtc)) {
    close(o, OrderStatus::Cancelled, Reason::ImmediateRemainder);
    send(o, ResponseKind::Cancelled, now_ns, ledger, Reason::ImmediateRemainder);
    return;
  }
  rest(o);
}

void SimVenue::arrive_new(std::uint64_t id, std::int64_t now_ns, Ledger& ledger) {
  SimOrder& o = ledger.order(id);
  o.ts_arrival_ns = now_ns;
  update_shift(now_ns);
  // A stop is checked against the book when it triggers, not now.
  const Reason why = !synced_ ? Reason::NotSynced : is_stop(o) ? Reason::None : book_refusal(o);
  if (why != Reason::None) {
    close(o, OrderStatus::Rejected, why);
    send(o, ResponseKind::Rejected, now_ns, ledger, why);
    return;
  }
  o.status = static_cast<std::uint8_t>(OrderStatus::Open);
  send(o, ResponseKind::Accepted, now_ns, ledger);
  if (is_stop(o)) {
    const WaitingStop w{o.order_id, static_cast<Side>(o.side), o.trigger_price};
    stops_.insert(std::lower_bound(stops_.begin(), stops_.end(), w.id,
                                   [](const WaitingStop& x, std::uint64_t i) { return x.id < i; }),
                  w);
    return;
  }
  execute(o, now_ns, ledger);
}

void SimVenue::take(SimOrder& o, std::int64_t now_ns, Ledger& ledger) {
  const auto side = static_cast<Side>(o.side);
  const Side book_side = opposite(side);
  const bool market = is_market(o);
  std::vector<std::pair<Price, Qty>> walk;
  Qty want = o.size - o.filled;
  book_.side(book_side).for_each([&](const Level& l) {
    if (!market && !within(side, o.price, met(l.price))) return false;
    const Qty q = std::min(available(book_side, l), want);
    if (q > 0) walk.emplace_back(l.price, q);
    want -= q;
    return want > 0;
  });
  for (const auto& [price, size] : walk) {
    add_taken(book_side, price, size);
    fill(o, met(price), size, Liquidity::Taker, now_ns, ledger);
    if (impact_) impact_->on_taker_fill(now_ns, side == Side::Bid ? size : -size);
  }
}

void SimVenue::rest(SimOrder& o) {
  Resting r{o.order_id, static_cast<Side>(o.side), o.price, {}};
  const auto level = book_.side(r.side).level(r.price);
  queue_->on_arrival(r.queue, level ? level->size : 0);
  const auto it = std::lower_bound(resting_.begin(), resting_.end(), r.id,
                                   [](const Resting& x, std::uint64_t v) { return x.id < v; });
  resting_.insert(it, r);
}

void SimVenue::fill(SimOrder& o, Price price, Qty size, Liquidity liq, std::int64_t now_ns,
                    Ledger& ledger) {
  const Int128 notional = static_cast<Int128>(price) * size;
  const std::int64_t fee = checked_i64(fees_->fee(notional, liq), "fee", index_);
  const bool buy = o.side == static_cast<std::uint8_t>(Side::Bid);
  position_ = checked_i64(static_cast<Int128>(position_) + (buy ? size : -size), "position", index_);
  volume_ = checked_i64(static_cast<Int128>(volume_) + size, "volume", index_);
  cash_ += buy ? -notional : notional;
  fees_paid_ += fee;
  o.filled += size;
  if (o.filled == o.size) o.status = static_cast<std::uint8_t>(OrderStatus::Filled);
  ledger.fills.push_back(SimFill{o.ts_decision_ns, o.ts_arrival_ns, now_ns, o.order_id, price, size,
                                 fee, index_, o.side, static_cast<std::uint8_t>(liq), {}});
  SimResponse r{now_ns, 0, o.order_id, price, size, o.size - o.filled, fee, index_,
                static_cast<std::uint8_t>(ResponseKind::Fill), o.status, 0,
                static_cast<std::uint8_t>(liq)};
  ledger.outbox.push_back(r);
}

void SimVenue::arrive_cancel(std::uint64_t id, std::int64_t now_ns, Ledger& ledger, Reason reason) {
  SimOrder& o = ledger.order(id);
  const auto stop = find_id(stops_, id);
  if (stop != stops_.end()) {
    stops_.erase(stop);
  } else if (queue_of(id)) {
    erase_resting(id);
  } else {
    send(o, ResponseKind::CancelRejected, now_ns, ledger, Reason::UnknownOrder);
    return;
  }
  close(o, OrderStatus::Cancelled, reason);
  send(o, ResponseKind::Cancelled, now_ns, ledger, reason);
}

void SimVenue::arrive_modify(std::uint64_t id, Price price, Qty leaves, std::int64_t now_ns,
                             Ledger& ledger) {
  SimOrder& o = ledger.order(id);
  update_shift(now_ns);
  Reason refusal = Reason::None;
  if (stop_waiting(id))
    refusal = Reason::StopWaiting;
  else if (!queue_of(id))
    refusal = Reason::UnknownOrder;
  else if (!synced_)
    refusal = Reason::NotSynced;
  else if (price != o.price && would_cross(static_cast<Side>(o.side), price))
    refusal = Reason::ModifyWouldCross;
  if (refusal != Reason::None) {
    send(o, ResponseKind::ModifyRejected, now_ns, ledger, refusal);
    return;
  }
  const bool keeps_place = price == o.price && leaves <= o.size - o.filled;
  o.size = o.filled + leaves;
  if (!keeps_place) {
    erase_resting(id);
    o.price = price;
    rest(o);
  }
  send(o, ResponseKind::Modified, now_ns, ledger);
}

void SimVenue::close(SimOrder& o, OrderStatus status, Reason reason) {
  o.status = static_cast<std::uint8_t>(status);
  o.reason = static_cast<std::uint8_t>(reason);
}

void SimVenue::send(const SimOrder& o, ResponseKind kind, std::int64_t now_ns, Ledger& ledger,
                    Reason reason) {
  ledger.outbox.push_back(SimResponse{now_ns, 0, o.order_id, o.price, o.size, 
                                      o.status == static_cast<std::uint8_t>(OrderStatus::Open)
                                          ? o.size - o.filled : 0,
                                      0, index_, static_cast<std::uint8_t>(kind), o.status,
                                      static_cast<std::uint8_t>(reason), 0});
}

void SimVenue::update_shift(std::int64_t now_ns) { shift_ = impact_ ? impact_->shift(now_ns) : 0; }

Price SimVenue::met(Price level_price) const {
  // Saturates rather than throws: it runs mid-walk, after fills that must stand.
  const Int128 out = static_cast<Int128>(level_price) + shift_;
  return static_cast<Price>(std::clamp<Int128>(out, 1, std::numeric_limits<Price>::max()));
}

void SimVenue::erase_resting(std::uint64_t id) {
  const auto it = std::lower_bound(resting_.begin(), resting_.end(), id,
                                   [](const Resting& r, std::uint64_t v) { return r.id < v; });
  if (it != resting_.end() && it->id == id) resting_.erase(it);
}

}  // namespace crossbook::sim
