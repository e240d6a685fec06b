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

void SimVenue::add_taken(Side side, Price price, Qty size) {
  auto& rows = taken_[slot(side)];
  const auto it = at_price(rows, price);
  if (it != rows.end() && it->price == price)
    it->size += size;
  else
    rows.insert(it, Taken{price, size});
}

void SimVenue::untake(Side side, Price price) {
  auto& rows = taken_[slot(side)];
  if (rows.empty() || price < rows.front().price || price > rows.back().price) return;
  const auto it = at_price(rows, price);
  if (it != rows.end() && it->price == price) rows.erase(it);
}

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
    if (!market && !within(order_side, limit, l.price)) return false;
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
    return;
  }
  const auto side = static_cast<Side>(e.side);
  const Qty new_size = e.action == static_cast<std::uint8_t>(Action::Delete) ? 0 : e.size;
  if (resting_.empty()) {  // no queue to move: the level's old size is not needed
    book_.update(side, e.price, new_size, e.count);
    untake(side, e.price);
    return;
  }
  const auto prev = book_.side(side).level(e.price);
  const Qty prev_size = prev ? prev->size : 0;
  book_.update(side, e.price, new_size, e.count);
  untake(side, e.price);
  for (Resting& r : resting_)
    if (r.side == side && r.price == e.price) queue_->on_level_change(r.queue, prev_size, new_size);
}

void SimVenue::apply_trade(const TradeEvent& t, std::int64_t now_ns, Ledger& ledger) {
  const Side hit = opposite(static_cast<Side>(t.side));  // the side the aggressor traded against
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
}

void SimVenue::arrive_new(std::uint64_t id, std::int64_t now_ns, Ledger& ledger) {
  SimOrder& o = ledger.order(id);
  o.ts_arrival_ns = now_ns;
  const auto side = static_cast<Side>(o.side);
  const bool market = o.type == static_cast<std::uint8_t>(OrderType::Market);
  Reason refusal = Reason::None;
  if (!synced_)
    refusal = Reason::NotSynced;
  else if (!market && (o.flags & kPostOnly) && would_cross(side, o.price))
    refusal = Reason::PostOnlyWouldCross;
  else if (o.tif == static_cast<std::uint8_t>(TimeInForce::Fok) &&
           fillable(opposite(side), o.price, market, o.size) < o.size)
    refusal = Reason::FokNotFillable;
  if (refusal != Reason::None) {
    close(o, OrderStatus::Rejected, refusal);
    send(o, ResponseKind::Rejected, now_ns, ledger, refusal);
    return;
  }
  o.status = static_cast<std::uint8_t>(OrderStatus::Open);
  send(o, ResponseKind::Accepted, now_ns, ledger);
  take(o, now_ns, ledger);
  if (o.filled == o.size) return;
  if (market || o.tif != static_cast<std::uint8_t>(TimeInForce::Gtc)) {
    close(o, OrderStatus::Cancelled, Reason::ImmediateRemainder);
    send(o, ResponseKind::Cancelled, now_ns, ledger, Reason::ImmediateRemainder);
    return;
  }
  rest(o);
}

void SimVenue::take(SimOrder& o, std::int64_t now_ns, Ledger& ledger) {
  const auto side = static_cast<Side>(o.side);
  const Side book_side = opposite(side);
  const bool market = o.type == static_cast<std::uint8_t>(OrderType::Market);
  std::vector<std::pair<Price, Qty>> walk;
  Qty want = o.size - o.filled;
  book_.side(book_side).for_each([&](const Level& l) {
    if (!market && !within(side, o.price, l.price)) return false;
    const Qty q = std::min(available(book_side, l), want);
    if (q > 0) walk.emplace_back(l.price, q);
    want -= q;
    return want > 0;
  });
  for (const auto& [price, size] : walk) {
    add_taken(book_side, price, size);
    fill(o, price, size, Liquidity::Taker, now_ns, ledger);
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

void SimVenue::arrive_cancel(std::uint64_t id, std::int64_t now_ns, Ledger& ledger) {
  SimOrder& o = ledger.order(id);
  if (!queue_of(id)) {
    send(o, ResponseKind::CancelRejected, now_ns, ledger, Reason::UnknownOrder);
    return;
  }
  erase_resting(id);
  close(o, OrderStatus::Cancelled, Reason::UserCancel);
  send(o, ResponseKind::Cancelled, now_ns, ledger, Reason::UserCancel);
}

void SimVenue::arrive_modify(std::uint64_t id, Price price, Qty leaves, std::int64_t now_ns,
                             Ledger& ledger) {
  SimOrder& o = ledger.order(id);
  Reason refusal = Reason::None;
  if (!queue_of(id))
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

void SimVenue::erase_resting(std::uint64_t id) {
  const auto it = std::lower_bound(resting_.begin(), resting_.end(), id,
                                   [](const Resting& r, std::uint64_t v) { return r.id < v; });
  if (it != resting_.end() && it->id == id) resting_.erase(it);
}

}  // namespace crossbook::sim
