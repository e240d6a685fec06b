#include "crossbook/sim/risk.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace crossbook::sim {

namespace {

bool live_status(const SimOrder& o) {
  return o.status == static_cast<std::uint8_t>(OrderStatus::Pending) ||
         o.status == static_cast<std::uint8_t>(OrderStatus::Open);
}

void split(Int128 v, std::uint64_t& lo, std::int64_t& hi) {
  lo = static_cast<std::uint64_t>(v);
  hi = static_cast<std::int64_t>(v >> 64);
}

void need_non_negative(bool ok, const std::string& what) {
  if (!ok) throw InvalidInput(what + " must be >= 0");
}

}  // namespace

RiskEngine::RiskEngine(std::vector<const SimVenue*> venues)
    : venues_(std::move(venues)),
      limits_(venues_.size()),
      live_(venues_.size()),
      sent_ns_(venues_.size()),
      last_trade_(venues_.size()),
      shadows_(venues_.size()) {}

void RiskEngine::configure(std::vector<VenueLimits> venues, PortfolioLimits portfolio) {
  if (venues.size() != venues_.size())
    throw InvalidInput("risk limits for " + std::to_string(venues.size()) + " venues, the run has " +
                       std::to_string(venues_.size()));
  std::vector<int> asset_size_exp(portfolio.max_net_position.size(), INT32_MIN);
  for (std::size_t i = 0; i < venues.size(); ++i) {
    const VenueLimits& l = venues[i];
    const std::string v = "venue " + std::to_string(i) + ": ";
    need_non_negative(!l.max_order_size || *l.max_order_size >= 0, v + "max_order_size");
    need_non_negative(!l.max_order_notional || *l.max_order_notional >= 0, v + "max_order_notional");
    need_non_negative(!l.max_position || *l.max_position >= 0, v + "max_position");
    need_non_negative(!l.max_open_orders || *l.max_open_orders >= 0, v + "max_open_orders");
    need_non_negative(!l.max_orders_per_window || *l.max_orders_per_window >= 0, v + "max_orders_per_window");
    if (l.window_ns < 1) throw InvalidInput(v + "window_ns must be >= 1");
    if (l.asset == kNoAsset) continue;
    if (l.asset >= asset_size_exp.size()) throw InvalidInput(v + "unknown asset " + std::to_string(l.asset));
    const int se = venues_[i]->book().size_exp();
    int& want = asset_size_exp[l.asset];
    if (want != INT32_MIN && want != se)
      throw InvalidInput(v + "venues of one asset must share size_exp to sum positions (" +
                         std::to_string(want) + " and " + std::to_string(se) + ")");
    want = se;
  }
  for (const Qty q : portfolio.max_net_position) need_non_negative(q >= 0, "max_net_position");
  need_non_negative(!portfolio.max_loss || *portfolio.max_loss >= 0, "max_loss");
  need_non_negative(!portfolio.max_drawdown || *portfolio.max_drawdown >= 0, "max_drawdown");
  need_non_negative(portfolio.pause_ns >= 0, "pause_ns");
  if ((portfolio.max_loss || portfolio.max_drawdown) && !venues_.empty()) {
    const auto units = [](const SimVenue* s) { return s->book().price_exp() + s->book().size_exp(); };
    for (const SimVenue* s : venues_)
      if (units(s) != units(venues_.front()))
        throw InvalidInput("loss limits sum equity over venues: every venue needs the same "
                           "price_exp + size_exp (" + std::to_string(units(venues_.front())) + " and " +
                           std::to_string(units(s)) + ")");
  }
  limits_ = std::move(venues);
  portfolio_ = std::move(portfolio);
}

void RiskEngine::record(RiskEventKind kind, std::int64_t ts_ns, std::uint32_t venue, std::uint64_t id,
                        const RiskVerdict& v) {
  SimRiskEvent e{ts_ns, id, 0, 0, 0, 0, venue, static_cast<std::uint8_t>(kind),
                 static_cast<std::uint8_t>(v.reason), {}};
  split(v.value, e.value_lo, e.value_hi);
  split(v.limit, e.limit_lo, e.limit_hi);
  events_.push_back(e);
}

Qty RiskEngine::exposure_of(const Live& l, const Ledger& ledger) const {
  const SimOrder& o = ledger.orders[l.id - 1];
  return live_status(o) ? o.size - o.filled + l.modify_leaves : 0;
}

Int128 RiskEngine::exposure(std::uint32_t venue, Side side, const Ledger& ledger) {
  auto& live = live_[venue];
  live.erase(std::remove_if(live.begin(), live.end(),
                            [&](const Live& l) { return !live_status(ledger.orders[l.id - 1]); }),
             live.end());
  Int128 total = 0;
  for (const Live& l : live)
    if (ledger.orders[l.id - 1].side == static_cast<std::uint8_t>(side)) total += exposure_of(l, ledger);
  return total;
}

std::optional<Int128> RiskEngine::notional(const SimOrder& o, Price price, Qty size) const {
  // A stop-limit is worth its limit, as a limit order; a stop-market its trigger, the price it
  // is meant to execute at (the book when it triggers is not known yet).
  if (o.type == static_cast<std::uint8_t>(OrderType::Limit) ||
      o.type == static_cast<std::uint8_t>(OrderType::StopLimit))
    return static_cast<Int128>(price) * size;
  if (o.type == static_cast<std::uint8_t>(OrderType::Stop)) return static_cast<Int128>(o.trigger_price) * size;
  const SimVenue& venue = *venues_[o.venue];
  const Side book_side = o.side == static_cast<std::uint8_t>(Side::Bid) ? Side::Ask : Side::Bid;
  std::optional<Price> deepest;
  Qty want = size;
  venue.book().side(book_side).for_each([&](const Level& l) {
    const Qty avail = std::max<Qty>(0, l.size - venue.taken(book_side, l.price));
    if (avail > 0) deepest = l.price;
    want -= std::min(avail, want);
    return want > 0;
  });
  if (!deepest) deepest = mark(o.venue);
  if (!deepest) return std::nullopt;
  return static_cast<Int128>(*deepest) * size;
}

RiskVerdict RiskEngine::check_common(const SimOrder& o, Price price, Qty size, const Ledger& ledger,
                                     std::int64_t now_ns) {
  maybe_reset(now_ns);
  if (killed_) return {Reason::KillSwitch, 0, 0};
  if (tripped_) return {Reason::CircuitBreaker, reset_ns_, 0};
  const VenueLimits& l = limits_[o.venue];
  if (l.max_order_size && size > *l.max_order_size) return {Reason::RiskOrderSize, size, *l.max_order_size};
  if (l.max_order_notional) {
    const auto n = notional(o, price, size);
    if (!n) return {Reason::RiskOrderNotional, -1, *l.max_order_notional};
    if (*n > *l.max_order_notional) return {Reason::RiskOrderNotional, *n, *l.max_order_notional};
  }
  const auto side = static_cast<Side>(o.side);
  const Int128 sign = side == Side::Bid ? 1 : -1;
  if (l.max_position) {
    const Int128 worst = sign * venues_[o.venue]->position() + exposure(o.venue, side, ledger) + size;
    if (worst > *l.max_position) return {Reason::RiskPosition, worst, *l.max_position};
  }
  if (l.asset != kNoAsset) {
    Int128 worst = size;
    for (std::uint32_t v = 0; v < venues_.size(); ++v)
      if (limits_[v].asset == l.asset) worst += sign * venues_[v]->position() + exposure(v, side, ledger);
    const Qty limit = portfolio_.max_net_position[l.asset];
    if (worst > limit) return {Reason::RiskNetPosition, worst, limit};
  }
  return {};
}

RiskVerdict RiskEngine::check_new(const SimOrder& o, const Ledger& ledger, std::int64_t now_ns) {
  const RiskVerdict v = check_common(o, o.price, o.size, ledger, now_ns);
  if (v.reason != Reason::None) return v;
  const VenueLimits& l = limits_[o.venue];
  if (l.max_open_orders) {
    exposure(o.venue, Side::Bid, ledger);  // prunes the closed orders
    const auto open = static_cast<std::int64_t>(live_[o.venue].size()) + 1;
    if (open > *l.max_open_orders) return {Reason::RiskOpenOrders, open, *l.max_open_orders};
  }
  return check_rate(o.venue, now_ns);
}

RiskVerdict RiskEngine::check_rate(std::uint32_t venue, std::int64_t now_ns) {
  const VenueLimits& l = limits_[venue];
  if (!l.max_orders_per_window) return {};
  auto& sent = sent_ns_[venue];
  // The window is (now - window_ns, now].
  while (!sent.empty() && now_ns - sent.front() >= l.window_ns) sent.pop_front();
  const auto n = static_cast<std::int64_t>(sent.size()) + 1;
  if (n > *l.max_orders_per_window) return {Reason::RiskRate, n, *l.max_orders_per_window};
  return {};
}

RiskVerdict RiskEngine::check_modify(const SimOrder& o, Price price, Qty leaves, const Ledger& ledger,
                                     std::int64_t now_ns) {
  const RiskVerdict v = check_common(o, price, leaves, ledger, now_ns);
  if (v.reason != Reason::None) return v;
  return check_rate(o.venue, now_ns);
}

void RiskEngine::sent_new(const SimOrder& o, std::int64_t now_ns) {
  live_[o.venue].push_back(Live{o.order_id, 0});
  if (limits_[o.venue].max_orders_per_window) sent_ns_[o.venue].push_back(now_ns);
}

void RiskEngine::sent_modify(const SimOrder& o, Qty leaves, std::int64_t now_ns) {
  for (Live& l : live_[o.venue])
    if (l.id == o.order_id) l.modify_leaves += leaves;
  if (limits_[o.venue].max_orders_per_window) sent_ns_[o.venue].push_back(now_ns);
}

void RiskEngine::modify_arrived(std::uint32_t venue, std::uint64_t id, Qty leaves) {
  for (Live& l : live_[venue])
    if (l.id == id) l.modify_leaves -= leaves;
}

void RiskEngine::refused(const SimOrder& o, const RiskVerdict& v, std::int64_t now_ns) {
  record(RiskEventKind::OrderRefused, now_ns, o.venue, o.order_id, v);
}

std::optional<Price> RiskEngine::mark(std::uint32_t venue) const {
  const L2Book& b = venues_[venue]->book();
  const BookSide& bids = b.side(Side::Bid);
  const BookSide& asks = b.side(Side::Ask);
  if (!bids.empty() && !asks.empty()) {
    const Int128 sum = static_cast<Int128>(bids.best_price()) + asks.best_price();
    return static_cast<Price>(sum / 2);  // prices are >= 0: truncation is the floor
  }
  if (last_trade_[venue]) return last_trade_[venue];
  return shadows_[venue].last_fill;
}

Int128 RiskEngine::equity() const {
  Int128 total = 0;
  for (std::uint32_t v = 0; v < shadows_.size(); ++v) {
    const Shadow& s = shadows_[v];
    total += s.cash - s.fees;
    if (s.position != 0) total += static_cast<Int128>(s.position) * mark(v).value_or(0);
  }
  return total;
}

std::optional<RiskVerdict> RiskEngine::check_equity(std::int64_t now_ns) {
  maybe_reset(now_ns);
  const Int128 eq = equity();
  peak_ = std::max(peak_, eq);
  if (killed_ || tripped_) return std::nullopt;
  if (portfolio_.max_loss && -eq > *portfolio_.max_loss) return RiskVerdict{Reason::RiskLoss, -eq, *portfolio_.max_loss};
  if (portfolio_.max_drawdown && peak_ - eq > *portfolio_.max_drawdown)
    return RiskVerdict{Reason::RiskDrawdown, peak_ - eq, *portfolio_.max_drawdown};
  return std::nullopt;
}

std::optional<RiskVerdict> RiskEngine::on_fill(const SimFill& f, std::int64_t now_ns) {
  Shadow& s = shadows_[f.venue];
  const Int128 notional = static_cast<Int128>(f.price) * f.size;
  const bool buy = f.side == static_cast<std::uint8_t>(Side::Bid);
  s.position += buy ? f.size : -f.size;
  s.cash += buy ? -notional : notional;
  s.fees += f.fee;
  s.last_fill = f.price;
  if (!checks_equity()) return std::nullopt;
  return check_equity(now_ns);
}

std::optional<RiskVerdict> RiskEngine::on_message_end(std::uint32_t venue, std::int64_t now_ns) {
  if (!checks_equity() || shadows_[venue].position == 0) return std::nullopt;
  return check_equity(now_ns);
}

std::int64_t RiskEngine::trip(const RiskVerdict& why, std::int64_t now_ns) {
  tripped_ = true;
  reset_ns_ = now_ns > INT64_MAX - portfolio_.pause_ns ? INT64_MAX : now_ns + portfolio_.pause_ns;
  record(RiskEventKind::BreakerTripped, now_ns, kNoVenue, 0, why);
  return reset_ns_;
}

void RiskEngine::maybe_reset(std::int64_t now_ns) {
  if (!tripped_ || now_ns < reset_ns_) return;
  tripped_ = false;
  record(RiskEventKind::BreakerReset, reset_ns_, kNoVenue, 0, RiskVerdict{Reason::CircuitBreaker, 0, 0});
}

std::vector<std::uint64_t> RiskEngine::kill(const RiskVerdict& why, const Ledger& ledger,
                                            std::int64_t now_ns) {
  record(RiskEventKind::Kill, now_ns, kNoVenue, 0, why);
  std::vector<std::uint64_t> ids;
  if (killed_) return ids;
  killed_ = true;
  for (std::uint32_t v = 0; v < live_.size(); ++v) {
    exposure(v, Side::Bid, ledger);
    for (const Live& l : live_[v]) ids.push_back(l.id);
  }
  std::sort(ids.begin(), ids.end());
  kill_answers_.insert(ids.begin(), ids.end());
  return ids;
}

}  // namespace crossbook::sim
