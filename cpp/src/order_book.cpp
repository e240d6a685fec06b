#include "crossbook/order_book.hpp"

#include <limits>
#include <string>

namespace crossbook {

using detail::kNil;

namespace {
std::string str(std::int64_t v) { return std::to_string(v); }

// Resets the per-event state of apply() however the batch ends.
struct EventScope {
  std::size_t& index;
  std::uint16_t& flags;
  ~EventScope() {
    index = FeedError::kNoEvent;
    flags = 0;
  }
};
}  // namespace

const char* anomaly_name(Anomaly a) {
  switch (a) {
    case Anomaly::UnknownOrder: return "unknown_order";
    case Anomaly::DuplicateOrder: return "duplicate_order";
    case Anomaly::ExecuteExceedsSize: return "execute_exceeds_size";
    case Anomaly::CancelExceedsSize: return "cancel_exceeds_size";
    case Anomaly::NonPositiveSize: return "non_positive_size";
    case Anomaly::NegativePrice: return "negative_price";
    case Anomaly::InvalidSide: return "invalid_side";
    case Anomaly::InvalidAction: return "invalid_action";
    case Anomaly::SizeOverflow: return "size_overflow";
  }
  return "unknown_anomaly";
}

OrderBook::OrderBook(AnomalyPolicy policy, int price_exp, int size_exp)
    : price_exp_(price_exp), size_exp_(size_exp), policy_(policy), bids_(true), asks_(false) {
  check_exponent(price_exp, "price_exp");
  check_exponent(size_exp, "size_exp");
}

// The message is built only when it is thrown: under Count, anomalies in a
// messy feed can be frequent.
template <class Detail>
bool OrderBook::anomaly(Anomaly kind, std::uint64_t id, Detail&& detail) {
  if (policy_ == AnomalyPolicy::Count) {
    ++anomalies_[static_cast<std::size_t>(kind)];
    return false;
  }
  std::string msg = event_index_ == FeedError::kNoEvent
                        ? std::string()
                        : "event " + std::to_string(event_index_) + ": ";
  msg += std::string(anomaly_name(kind)) + ": order " + std::to_string(id) + ": " + detail();
  throw FeedError(kind, id, event_index_, msg);
}

std::uint64_t OrderBook::anomaly_total() const {
  std::uint64_t t = 0;
  for (std::uint64_t c : anomalies_) t += c;
  return t;
}

// ---------------------------------------------------------------- primitives

bool OrderBook::fits(Side side, Price price, Qty size, std::uint32_t moving) const {
  const std::uint32_t lvl = levels_of(side).find(price);
  if (lvl == kNil) return true;
  Qty total = levels_[lvl].total;
  if (moving != kNil && orders_[moving].level == lvl) total -= orders_[moving].size;
  return total <= std::numeric_limits<Qty>::max() - size;
}

std::uint32_t OrderBook::alloc_order() {
  if (free_order_ != kNil) {
    const std::uint32_t o = free_order_;
    free_order_ = orders_[o].level;
    return o;
  }
  if (orders_.size() >= kNil - 1) throw std::length_error("order pool full (2^32 - 1 orders)");
  orders_.push_back(OrderSlot{});
  return static_cast<std::uint32_t>(orders_.size() - 1);
}

std::uint32_t OrderBook::level_for(Side side, Price price) {
  detail::LevelIndex& idx = levels_of(side);
  std::uint32_t lvl = idx.find(price);
  if (lvl != kNil) return lvl;
  if (free_level_ != kNil) {
    lvl = free_level_;
    free_level_ = levels_[lvl].head;
  } else {
    if (levels_.size() >= kNil - 1) throw std::length_error("level pool full");
    levels_.push_back(LevelRec{});
    lvl = static_cast<std::uint32_t>(levels_.size() - 1);
  }
  levels_[lvl] = LevelRec{price, 0, 0, kNil, kNil, static_cast<std::uint8_t>(side)};
  idx.insert(price, lvl);
  return lvl;
}

void OrderBook::free_level(std::uint32_t lvl) {
  LevelRec& l = levels_[lvl];
  levels_of(l.side).erase(l.price);
  l.head = free_level_;
  free_level_ = lvl;
}

void OrderBook::unlink(std::uint32_t o) {
  OrderSlot& s = orders_[o];
  LevelRec& l = levels_[s.level];
  if (s.prev != kNil) orders_[s.prev].next = s.next; else l.head = s.next;
  if (s.next != kNil) orders_[s.next].prev = s.prev; else l.tail = s.prev;
  l.total -= s.size;
  --l.count;
}

void OrderBook::link_back(std::uint32_t o, std::uint32_t lvl) {
  OrderSlot& s = orders_[o];
  LevelRec& l = levels_[lvl];
  s.level = lvl;
  s.prev = l.tail;
  s.next = kNil;
  if (l.tail != kNil) orders_[l.tail].next = o; else l.head = o;
  l.tail = o;
  l.total += s.size;
  ++l.count;
}

std::uint32_t OrderBook::insert_at(std::size_t bucket, std::uint64_t id, Side side, Price price,
                                   Qty size, std::uint64_t owner) {
  const std::uint32_t lvl = level_for(side, price);
  const std::uint32_t o = alloc_order();
  orders_[o].id = id;
  orders_[o].size = size;
  orders_[o].owner = owner;
  link_back(o, lvl);
  index_.put(bucket, id, o);
  emit_level(levels_[lvl]);
  return o;
}

void OrderBook::erase_order(std::uint32_t o, std::size_t bucket) {
  unlink(o);
  OrderSlot& s = orders_[o];
  const std::uint32_t lvl = s.level;
  if (bucket == detail::OrderIndex::kNoBucket)
    index_.erase(s.id, o);
  else
    index_.erase_at(bucket);
  emit_level(levels_[lvl]);
  if (levels_[lvl].count == 0) free_level(lvl);
  s.level = free_order_;
  free_order_ = o;
}

void OrderBook::move_to_back(std::uint32_t o, Price price, Qty size) {
  const std::uint32_t old_lvl = orders_[o].level;
  const Side side = static_cast<Side>(levels_[old_lvl].side);
  const bool same_level = levels_[old_lvl].price == price;
  unlink(o);
  if (!same_level) {
    emit_level(levels_[old_lvl]);
    if (levels_[old_lvl].count == 0) free_level(old_lvl);
  }
  const std::uint32_t lvl = same_level ? old_lvl : level_for(side, price);
  orders_[o].size = size;
  link_back(o, lvl);
  emit_level(levels_[lvl]);
}

// ---------------------------------------------------------------- feed operations

bool OrderBook::add(std::uint64_t order_id, Side side, Price price, Qty size, std::uint64_t owner) {
  const auto s = static_cast<std::uint8_t>(side);
  if (!valid_side(s))
    return anomaly(Anomaly::InvalidSide, order_id, [&] { return "side " + str(s); });
  if (price < 0)
    return anomaly(Anomaly::NegativePrice, order_id, [&] { return "price " + str(price); });
  if (size <= 0)
    return anomaly(Anomaly::NonPositiveSize, order_id, [&] { return "size " + str(size); });
  if (!fits(side, price, size, kNil))
    return anomaly(Anomaly::SizeOverflow, order_id, [&] {
      return "size " + str(size) + " overflows the total at price " + str(price);
    });
  const auto id_of = [this](std::uint32_t slot) { return orders_[slot].id; };
  std::size_t bucket = 0;
  const std::uint32_t existing = index_.find_for_insert(order_id, id_of, &bucket);
  if (existing == kNil) {
    insert_at(bucket, order_id, side, price, size, owner);
    return true;
  }
  anomaly(Anomaly::DuplicateOrder, order_id, [&] {
    return "already rests with size " + str(orders_[existing].size) + " at price " +
           str(levels_[orders_[existing].level].price) + "; new price " + str(price) +
           ", size " + str(size);
  });
  erase_order(existing);
  index_.find_for_insert(order_id, id_of, &bucket);
  insert_at(bucket, order_id, side, price, size, owner);
  return false;
}

bool OrderBook::cancel(std::uint64_t order_id, std::optional<Qty> size) {
  const std::size_t bucket = find_bucket(order_id);
  const std::uint32_t o = bucket == detail::OrderIndex::kNoBucket ? kNil : index_.slot_at(bucket);
  if (o == kNil)
    return anomaly(Anomaly::UnknownOrder, order_id, [] { return "cancel of an unknown order"; });
  if (!size) {
    erase_order(o, bucket);
    return true;
  }
  if (*size <= 0)
    return anomaly(Anomaly::NonPositiveSize, order_id, [&] { return "cancel size " + str(*size); });
  const Qty rests = orders_[o].size;
  if (*size < rests) {
    reduce_order(o, *size);
    return true;
  }
  const bool clean = *size == rests || anomaly(Anomaly::CancelExceedsSize, order_id, [&] {
                       return "cancel of " + str(*size) + " but " + str(rests) + " rests";
                     });
  erase_order(o, bucket);
  return clean;
}

bool OrderBook::execute(std::uint64_t order_id, Qty size) {
  const std::size_t bucket = find_bucket(order_id);
  const std::uint32_t o = bucket == detail::OrderIndex::kNoBucket ? kNil : index_.slot_at(bucket);
  if (o == kNil)
    return anomaly(Anomaly::UnknownOrder, order_id, [] { return "execute of an unknown order"; });
  if (size <= 0)
    return anomaly(Anomaly::NonPositiveSize, order_id, [&] { return "execute size " + str(size); });
  const Qty rests = orders_[o].size;
  if (size < rests) {
    reduce_order(o, size);
    return true;
  }
  const bool clean = size == rests || anomaly(Anomaly::ExecuteExceedsSize, order_id, [&] {
                       return "execute of " + str(size) + " but " + str(rests) + " rests";
                     });
  erase_order(o, bucket);
  return clean;
}

bool OrderBook::modify(std::uint64_t order_id, Price price, Qty size) {
  const std::uint32_t o = find(order_id);
  if (o == kNil)
    return anomaly(Anomaly::UnknownOrder, order_id, [] { return "modify of an unknown order"; });
  if (price < 0)
    return anomaly(Anomaly::NegativePrice, order_id,
                   [&] { return "modify to price " + str(price); });
  if (size <= 0)
    return anomaly(Anomaly::NonPositiveSize, order_id,
                   [&] { return "modify to size " + str(size); });
  const Qty rests = orders_[o].size;
  if (price == levels_[orders_[o].level].price && size <= rests) {
    if (size < rests) reduce_order(o, rests - size);
    return true;
  }
  if (!fits(static_cast<Side>(levels_[orders_[o].level].side), price, size, o))
    return anomaly(Anomaly::SizeOverflow, order_id, [&] {
      return "modify to size " + str(size) + " overflows the total at price " + str(price);
    });
  move_to_back(o, price, size);
  return true;
}

void OrderBook::clear(std::optional<Side> side) {
  if (!side) {
    orders_.clear();
    levels_.clear();
    free_order_ = free_level_ = kNil;
    index_.clear();
    bids_.clear();
    asks_.clear();
  } else {
    detail::LevelIndex& idx = levels_of(*side);
    std::vector<std::uint32_t> doomed;
    doomed.reserve(idx.size());
    idx.for_each([&](std::uint32_t lvl) {
      doomed.push_back(lvl);
      return true;
    });
    for (std::uint32_t lvl : doomed) {
      for (std::uint32_t o = levels_[lvl].head; o != kNil;) {
        const std::uint32_t next = orders_[o].next;
        index_.erase(orders_[o].id, o);
        orders_[o].level = free_order_;
        free_order_ = o;
        o = next;
      }
      levels_[lvl].head = free_level_;
      free_level_ = lvl;
    }
    idx.clear();
  }
  if (sink_) {
    const std::uint8_t s = side ? static_cast<std::uint8_t>(*side) : 0;
    sink_->push_back(LevelEvent{ts_exchange_ns_, ts_recv_ns_, 0, 0, 0, s,
                                static_cast<std::uint8_t>(Action::Clear), flags_});
  }
}

void OrderBook::apply_one(const OrderEvent& e) {
  switch (static_cast<OrderAction>(e.action)) {
    case OrderAction::Add:
      add(e.order_id, static_cast<Side>(e.side), e.price, e.size);
      return;
    case OrderAction::Modify:
      modify(e.order_id, e.price, e.size);
      return;
    case OrderAction::Cancel:
      cancel(e.order_id, e.size == 0 ? std::nullopt : std::optional<Qty>(e.size));
      return;
    case OrderAction::Execute:
      execute(e.order_id, e.size);
      return;
    case OrderAction::Clear:
      if (e.side == 0)
        clear();
      else if (valid_side(e.side))
        clear(static_cast<Side>(e.side));
      else
        anomaly(Anomaly::InvalidSide, e.order_id, [&] { return "clear of side " + str(e.side); });
      return;
  }
  anomaly(Anomaly::InvalidAction, e.order_id, [&] { return "action " + str(e.action); });
}

void OrderBook::apply(const OrderEvent* events, std::size_t n, BboRow* bbo_out) {
  EventScope scope{event_index_, flags_};
  for (std::size_t i = 0; i < n; ++i) {
    // A copy: the caller's buffer is read once per event, so that a thread
    // writing to it meanwhile cannot make a checked field differ from the one used.
    const OrderEvent e = events[i];
    prefetch_ahead(events, i, n);
    event_index_ = i;
    ts_exchange_ns_ = e.ts_exchange_ns;
    ts_recv_ns_ = e.ts_recv_ns;
    // Only the last level event of an order event may say "last of the message".
    flags_ = static_cast<std::uint16_t>(e.flags & ~flags::kLast);
    const std::size_t before = sink_ ? sink_->size() : 0;
    apply_one(e);
    if (sink_ && (e.flags & flags::kLast) && sink_->size() > before)
      sink_->back().flags |= flags::kLast;
    if (bbo_out) bbo_out[i] = bbo();
  }
}

// ---------------------------------------------------------------- queries

BboRow OrderBook::bbo() const {
  BboRow r{0, 0, 0, 0};
  if (!bids_.empty()) {
    const LevelRec& l = levels_[bids_.best_level()];
    r.bid_price = l.price;
    r.bid_size = l.total;
  }
  if (!asks_.empty()) {
    const LevelRec& l = levels_[asks_.best_level()];
    r.ask_price = l.price;
    r.ask_size = l.total;
  }
  return r;
}

std::size_t OrderBook::depth(Side side, DepthRow* out, std::size_t n) const {
  std::size_t k = 0;
  if (n == 0) return 0;
  levels_of(side).for_each([&](std::uint32_t lvl) {
    const LevelRec& l = levels_[lvl];
    write_depth_row(out + k++, l.price, l.total, static_cast<std::int32_t>(l.count));
    return k < n;
  });
  return k;
}

std::optional<OrderInfo> OrderBook::order(std::uint64_t order_id) const {
  const std::uint32_t o = find(order_id);
  if (o == kNil) return std::nullopt;
  const OrderSlot& s = orders_[o];
  const LevelRec& l = levels_[s.level];
  return OrderInfo{static_cast<Side>(l.side), l.price, s.size, s.owner};
}

std::optional<Qty> OrderBook::queue_position(std::uint64_t order_id) const {
  const std::uint32_t o = find(order_id);
  if (o == kNil) return std::nullopt;
  Qty ahead = 0;
  for (std::uint32_t p = orders_[o].prev; p != kNil; p = orders_[p].prev) ahead += orders_[p].size;
  return ahead;
}

void OrderBook::reserve(std::size_t orders) {
  orders_.reserve(orders);
  index_.reserve(orders);
}

std::size_t OrderBook::memory_bytes() const {
  return sizeof(*this) - 2 * sizeof(detail::LevelIndex) + bids_.memory_bytes() +
         asks_.memory_bytes() + orders_.capacity() * sizeof(OrderSlot) +
         levels_.capacity() * sizeof(LevelRec) + index_.memory_bytes();
}

// ---------------------------------------------------------------- invariants

void OrderBook::check_level(std::uint32_t lvl, std::size_t* orders_seen) const {
  const LevelRec& l = levels_[lvl];
  const std::string at = std::string(l.side == 1 ? "bid" : "ask") + " level " + str(l.price) + ": ";
  auto fail = [&](const std::string& what) { throw InvariantViolation(at + what); };
  if (l.count == 0 || l.total <= 0) fail("empty level kept");
  Qty total = 0;
  std::uint32_t count = 0;
  std::uint32_t prev = kNil;
  for (std::uint32_t o = l.head; o != kNil; prev = o, o = orders_[o].next) {
    const OrderSlot& s = orders_[o];
    if (++count > l.count) fail("FIFO longer than the order count (or a cycle)");
    if (s.prev != prev) fail("order " + std::to_string(s.id) + ": prev link broken");
    if (s.level != lvl) fail("order " + std::to_string(s.id) + " points at another level");
    if (s.size <= 0) fail("order " + std::to_string(s.id) + " with size <= 0");
    if (find(s.id) != o) fail("order " + std::to_string(s.id) + " not indexed at its slot");
    total += s.size;
  }
  if (l.tail != prev) fail("tail is not the last order of the FIFO");
  if (count != l.count) fail("order count " + str(l.count) + " but FIFO holds " + str(count));
  if (total != l.total) fail("total " + str(l.total) + " but orders sum to " + str(total));
  *orders_seen += count;
}

void OrderBook::check_invariants() const {
  std::size_t orders_seen = 0;
  for (const Side side : {Side::Bid, Side::Ask}) {
    const detail::LevelIndex& idx = levels_of(side);
    idx.check([this](std::uint32_t lvl) { return levels_[lvl].price; });
    idx.for_each([&](std::uint32_t lvl) {
      if (levels_[lvl].side != static_cast<std::uint8_t>(side))
        throw InvariantViolation("level " + str(levels_[lvl].price) + " on the wrong side");
      check_level(lvl, &orders_seen);
      return true;
    });
  }
  if (orders_seen != index_.size())
    throw InvariantViolation("index holds " + std::to_string(index_.size()) +
                             " orders but the levels " + std::to_string(orders_seen));
  std::size_t free_orders = 0;
  for (std::uint32_t o = free_order_; o != kNil; o = orders_[o].level)
    if (++free_orders > orders_.size()) throw InvariantViolation("order free list has a cycle");
  if (free_orders + index_.size() != orders_.size())
    throw InvariantViolation("order pool: live + free != slots");
  std::size_t free_levels = 0;
  for (std::uint32_t l = free_level_; l != kNil; l = levels_[l].head)
    if (++free_levels > levels_.size()) throw InvariantViolation("level free list has a cycle");
  if (free_levels + bids_.size() + asks_.size() != levels_.size())
    throw InvariantViolation("level pool: live + free != records");
  if (!index_.probe_chains_ok()) throw InvariantViolation("order index: broken probe chain");
}

}  // namespace crossbook
