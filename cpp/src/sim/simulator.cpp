#include "crossbook/sim/simulator.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace crossbook::sim {

Simulator::Simulator(std::vector<VenueSpec> venues) {
  if (venues.size() > UINT32_MAX) throw InvalidInput("too many venues");
  venues_.reserve(venues.size());
  for (std::size_t i = 0; i < venues.size(); ++i) {
    VenueSpec& s = venues[i];
    if (!s.latency || !s.fees || !s.queue)
      throw InvalidInput("venue " + std::to_string(i) + " needs a latency, fee and queue model");
    L2Book book(s.price_exp, s.size_exp, s.tick);
    venues_.push_back(Slot{SimVenue(static_cast<std::uint32_t>(i), std::move(book), std::move(s.fees),
                                    std::move(s.queue), s.synced),
                           std::move(s.latency)});
  }
  feeds_.resize(venues_.size());
  // The pointers stay valid: venues_ never grows again, and moving the
  // simulator moves the vector's buffer, not its elements.
  std::vector<const SimVenue*> views;
  for (const Slot& s : venues_) views.push_back(&s.venue);
  risk_ = RiskEngine(std::move(views));
  touches_.assign(venues_.size(), BboRow{0, 0, 0, 0});
}

void Simulator::check_time(std::int64_t ts_ns, std::int64_t last_ns, std::size_t index,
                           const char* what) const {
  // A row at a time the loop has already run events at would be processed
  // after them, against the feed-first tie-break: refused like a row in the past.
  if (ts_ns < last_ns || ts_ns < now_ns_ || ts_ns <= last_event_ns_)
    throw InvalidInput(std::string(what) + " row " + std::to_string(index) + ": ts_recv_ns " +
                       std::to_string(ts_ns) + " goes back (previous row " + std::to_string(last_ns) +
                       ", now " + std::to_string(now_ns_) + ", last event " +
                       std::to_string(last_event_ns_) + ")");
}

template <class Row, class Check>
void Simulator::append_rows(std::vector<Row>& dst, const Row* rows, std::size_t n, Check check,
                            const char* what) {
  std::int64_t last = dst.empty() ? now_ns_ : dst.back().ts_recv_ns;
  for (std::size_t i = 0; i < n; ++i) {
    check(rows[i], i, what);
    check_time(rows[i].ts_recv_ns, last, i, what);
    last = rows[i].ts_recv_ns;
  }
  dst.insert(dst.end(), rows, rows + n);
  pick_known_ = false;
}

void Simulator::add_levels(std::size_t venue, const LevelEvent* rows, std::size_t n) {
  append_rows(feeds_.at(venue).levels, rows, n, check_level_row, "level");
}

void Simulator::add_trades(std::size_t venue, const TradeEvent* rows, std::size_t n) {
  append_rows(feeds_.at(venue).trades, rows, n, check_trade_row, "trade");
}

std::int64_t Simulator::later(std::int64_t ts_ns, std::int64_t delay_ns) const {
  std::int64_t out = 0;
  if (delay_ns < 0) throw InvalidInput("a latency model returned a negative delay");
  if (__builtin_add_overflow(ts_ns, delay_ns, &out))
    throw InvalidInput("time " + std::to_string(ts_ns) + " + latency overflows int64");
  return out;
}

SimOrder& Simulator::known_order(std::uint64_t id) {
  if (id == 0 || id > ledger_.orders.size())
    throw InvalidInput("unknown order id " + std::to_string(id));
  return ledger_.order(id);
}

void Simulator::set_latency(std::size_t venue, std::unique_ptr<LatencyModel> model) {
  if (!model) throw InvalidInput("venue " + std::to_string(venue) + " needs a latency model");
  venues_.at(venue).latency = std::move(model);
}

void Simulator::request(Task task, std::uint32_t venue, std::uint64_t id, Price price, Qty size) {
  Slot& slot = venues_[venue];
  const std::int64_t at = std::max(later(now_ns_, slot.latency->entry_ns(now_ns_)), slot.last_arrival_ns);
  slot.last_arrival_ns = at;
  pending_.push(Pending{at, 1, seq_++, task, venue, id, price, size});
}

std::uint64_t Simulator::submit(const NewOrder& r) {
  if (r.venue >= venues_.size()) throw InvalidInput("venue " + std::to_string(r.venue) + " out of range");
  if (!valid_side(static_cast<std::uint8_t>(r.side))) throw InvalidInput("side must be 1 (bid) or 2 (ask)");
  if (r.type < OrderType::Limit || r.type > OrderType::StopLimit)
    throw InvalidInput("type must be 1 (limit), 2 (market), 3 (stop) or 4 (stop-limit)");
  if (r.tif != TimeInForce::Gtc && r.tif != TimeInForce::Ioc && r.tif != TimeInForce::Fok)
    throw InvalidInput("tif must be 1 (GTC), 2 (IOC) or 3 (FOK)");
  const bool market = r.type == OrderType::Market || r.type == OrderType::Stop;
  const bool stop = r.type == OrderType::Stop || r.type == OrderType::StopLimit;
  if (!market && r.price <= 0) throw InvalidInput("limit price must be positive, got " + std::to_string(r.price));
  if (market && r.post_only) throw InvalidInput("a market order cannot be post-only");
  if (stop && r.post_only) throw InvalidInput("a stop order cannot be post-only");
  if (stop && r.trigger_price <= 0)
    throw InvalidInput("trigger price must be positive, got " + std::to_string(r.trigger_price));
  if (!stop && r.trigger_price != 0) throw InvalidInput("only a stop order has a trigger price");
  if (r.size <= 0) throw InvalidInput("size must be positive, got " + std::to_string(r.size));
  const std::uint64_t id = ledger_.orders.size() + 1;
  SimOrder o{};
  o.order_id = id;
  o.ts_decision_ns = now_ns_;
  o.price = market ? 0 : r.price;
  o.trigger_price = r.trigger_price;
  o.size = r.size;
  o.venue = r.venue;
  o.side = static_cast<std::uint8_t>(r.side);
  o.type = static_cast<std::uint8_t>(r.type);
  o.tif = static_cast<std::uint8_t>(r.tif);
  o.flags = r.post_only ? kPostOnly : 0;
  o.status = static_cast<std::uint8_t>(OrderStatus::Pending);
  const RiskVerdict verdict = risk_.check_new(o, ledger_, now_ns_);
  if (verdict.reason != Reason::None) {
    o.status = static_cast<std::uint8_t>(OrderStatus::Rejected);
    o.reason = static_cast<std::uint8_t>(verdict.reason);
    ledger_.orders.push_back(o);
    risk_.refused(o, verdict, now_ns_);
    local_answer(o, ResponseKind::Rejected, verdict.reason);
    return id;
  }
  request(Task::New, r.venue, id, 0, 0);
  ledger_.orders.push_back(o);
  risk_.sent_new(o, now_ns_);
  return id;
}

void Simulator::cancel(std::uint64_t order_id) {
  const SimOrder& o = known_order(order_id);
  request(Task::Cancel, o.venue, order_id, 0, 0);
}

void Simulator::modify(std::uint64_t order_id, Price price, Qty leaves) {
  const SimOrder& o = known_order(order_id);
  if (o.type != static_cast<std::uint8_t>(OrderType::Limit) && o.type != static_cast<std::uint8_t>(OrderType::StopLimit))
    throw InvalidInput("only a limit or stop-limit order can be modified");
  if (price <= 0) throw InvalidInput("price must be positive, got " + std::to_string(price));
  if (leaves <= 0) throw InvalidInput("open size must be positive, got " + std::to_string(leaves));
  const RiskVerdict verdict = risk_.check_modify(o, price, leaves, ledger_, now_ns_);
  if (verdict.reason != Reason::None) {
    risk_.refused(o, verdict, now_ns_);
    local_answer(o, ResponseKind::ModifyRejected, verdict.reason);
    return;
  }
  request(Task::Modify, o.venue, order_id, price, leaves);
  risk_.sent_modify(o, leaves, now_ns_);
}

std::uint64_t Simulator::set_timer(std::int64_t ts_ns) {
  if (ts_ns < now_ns_)
    throw InvalidInput("timer at " + std::to_string(ts_ns) + " is before now " + std::to_string(now_ns_));
  const std::uint64_t id = ++timers_;
  pending_.push(Pending{ts_ns, 3, seq_++, Task::Timer, 0, id, 0, 0});
  return id;
}

std::optional<Simulator::FeedPick> Simulator::next_feed() const {
  std::optional<FeedPick> best;
  for (std::size_t v = 0; v < feeds_.size(); ++v) {
    const Feed& f = feeds_[v];
    // Trades first: strict < keeps an earlier candidate on a tie.
    if (f.next_trade < f.trades.size()) {
      const std::int64_t ts = f.trades[f.next_trade].ts_recv_ns;
      if (!best || ts < best->ts_ns) best = FeedPick{ts, v, true};
    }
    if (f.next_level < f.levels.size()) {
      const std::int64_t ts = f.levels[f.next_level].ts_recv_ns;
      if (!best || ts < best->ts_ns) best = FeedPick{ts, v, false};
    }
  }
  return best;
}

std::optional<std::int64_t> Simulator::next_ts() const {
  if (deferred_) return deferred_->ts_ns;
  const auto feed = pick_known_ ? pick_ : next_feed();
  std::optional<std::int64_t> ts;
  if (feed) ts = feed->ts_ns;
  if (!pending_.empty() && (!ts || pending_.top().ts_ns < *ts)) ts = pending_.top().ts_ns;
  return ts;
}

std::optional<SimEvent> Simulator::advance(std::int64_t until_ns) {
  if (deferred_) {
    if (deferred_->ts_ns > until_ns) return std::nullopt;  // until_ns is before now: nothing can run
    const SimEvent ev = *deferred_;
    deferred_.reset();
    if (!risk_.killed()) return ev;  // a kill in the book callback silences its touch event
  }
  for (;;) {
    if (!pick_known_) {
      pick_ = next_feed();
      pick_known_ = true;
    }
    const std::optional<FeedPick> feed = pick_;
    const bool take_feed = feed && (pending_.empty() || feed->ts_ns <= pending_.top().ts_ns);
    const std::int64_t ts = take_feed ? feed->ts_ns : pending_.empty() ? until_ns : pending_.top().ts_ns;
    if ((!feed && pending_.empty()) || ts > until_ns) {
      if (until_ns > now_ns_) now_ns_ = until_ns;
      return std::nullopt;
    }
    now_ns_ = ts;
    last_event_ns_ = ts;
    std::optional<SimEvent> ev;
    if (take_feed) {
      ev = run_feed(*feed);
    } else {
      const Pending p = pending_.top();
      pending_.pop();
      ev = run_pending(p);
    }
    post_outbox();
    ev = after_event(ev);
    if (ev) return ev;
  }
}

std::optional<SimEvent> Simulator::run_feed(const FeedPick& pick) {
  Feed& f = feeds_[pick.venue];
  SimVenue& venue = venues_[pick.venue].venue;
  const auto v = static_cast<std::uint32_t>(pick.venue);
  if (pick.trade) {
    const std::size_t i = f.next_trade++;
    risk_.on_trade(v, f.trades[i].price);
    pick_known_ = f.next_trade < f.trades.size() && f.trades[f.next_trade].ts_recv_ns == pick.ts_ns;
    venue.apply_trade(f.trades[i], now_ns_, ledger_);
    if (subscriptions_ & subscribe::kTrade) return SimEvent{EventKind::Trade, now_ns_, v, i};
    return std::nullopt;
  }
  // The rest of the rows at this time run here, without a trip through
  // advance(): nothing else can come between them, since feed rows run before
  // requests and answers of their own time and a level row sends no answer.
  std::size_t i = 0;
  for (;;) {
    i = f.next_level++;
    pick_known_ = f.next_level < f.levels.size() && f.levels[f.next_level].ts_recv_ns == pick.ts_ns;
    const LevelEvent& row = f.levels[i];
    venue.apply_level(row);
    const bool status = row.action == kActionSynced || row.action == kActionUnsynced;
    if (status || (row.flags & flags::kLast)) break;
    if (!pick_known_) return std::nullopt;
  }
  if (f.levels[i].flags & flags::kLast)
    if (const auto why = risk_.on_message_end(v, now_ns_)) breach(*why);
  std::optional<SimEvent> touch;
  if (subscriptions_ & subscribe::kTouch) touch = touch_event(v, i);
  if (subscriptions_ & subscribe::kBook) {
    deferred_ = touch;
    return SimEvent{EventKind::Book, now_ns_, v, i};
  }
  return touch;
}

std::optional<SimEvent> Simulator::touch_event(std::uint32_t v, std::size_t row) {
  const SimVenue& venue = venues_[v].venue;
  const BboRow now = venue.synced() ? venue.book().bbo() : BboRow{0, 0, 0, 0};
  BboRow& last = touches_[v];
  if (now.bid_price == last.bid_price && now.bid_size == last.bid_size &&
      now.ask_price == last.ask_price && now.ask_size == last.ask_size)
    return std::nullopt;
  last = now;
  return SimEvent{EventKind::Touch, now_ns_, v, row};
}

std::optional<SimEvent> Simulator::run_pending(const Pending& p) {
  SimVenue& venue = venues_[p.venue].venue;
  switch (p.task) {
    case Task::New:
      venue.arrive_new(p.id, now_ns_, ledger_);
      return std::nullopt;
    case Task::Cancel:
      venue.arrive_cancel(p.id, now_ns_, ledger_);
      return std::nullopt;
    case Task::Modify:
      venue.arrive_modify(p.id, p.price, p.size, now_ns_, ledger_);
      risk_.modify_arrived(p.venue, p.id, p.size);
      return std::nullopt;
    case Task::KillCancel:
      venue.arrive_cancel(p.id, now_ns_, ledger_, Reason::KillSwitch);
      return std::nullopt;
    case Task::RiskReset:
      risk_.maybe_reset(now_ns_);
      return std::nullopt;
    case Task::Deliver: {
      const bool fill = responses_[p.id].kind == static_cast<std::uint8_t>(ResponseKind::Fill);
      if (subscriptions_ & (fill ? subscribe::kFill : subscribe::kOrder))
        return SimEvent{fill ? EventKind::Fill : EventKind::Order, now_ns_, p.venue, p.id};
      return std::nullopt;
    }
    case Task::Timer:
      if (subscriptions_ & subscribe::kTimer) return SimEvent{EventKind::Timer, now_ns_, 0, p.id};
      return std::nullopt;
  }
  return std::nullopt;
}

void Simulator::post_answers() {
  for (SimResponse& r : ledger_.outbox) {
    Slot& slot = venues_[r.venue];
    r.ts_delivery_ns = std::max(later(r.ts_venue_ns, slot.latency->response_ns(r.ts_venue_ns)),
                                slot.last_delivery_ns);
    slot.last_delivery_ns = r.ts_delivery_ns;
    pending_.push(Pending{r.ts_delivery_ns, 2, seq_++, Task::Deliver, r.venue, responses_.size(), 0, 0});
    responses_.push_back(r);
  }
  ledger_.outbox.clear();
}

}  // namespace crossbook::sim
