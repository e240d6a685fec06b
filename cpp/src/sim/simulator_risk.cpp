// The simulator's side of the risk engine (rules in crossbook/sim/risk.hpp):
// what it does with a refusal, a breach and the kill switch.
#include <string>
#include <utility>

#include "crossbook/sim/simulator.hpp"

namespace crossbook::sim {

void Simulator::configure_risk(std::vector<VenueLimits> venues, PortfolioLimits portfolio) {
  if (!ledger_.orders.empty() || last_event_ns_ != INT64_MIN)
    throw InvalidInput("risk limits are set before the run: orders or events came first");
  risk_.configure(std::move(venues), std::move(portfolio));
}

void Simulator::kill(bool flatten) { kill_now(flatten, RiskVerdict{Reason::KillSwitch, 0, 0}); }

void Simulator::local_answer(const SimOrder& o, ResponseKind kind, Reason reason) {
  const bool open = o.status == static_cast<std::uint8_t>(OrderStatus::Open);
  const SimResponse r{now_ns_, now_ns_, o.order_id, o.price, o.size, open ? o.size - o.filled : 0, 0,
                      o.venue, static_cast<std::uint8_t>(kind), o.status, static_cast<std::uint8_t>(reason), 0};
  pending_.push(Pending{now_ns_, 2, seq_++, Task::Deliver, o.venue, responses_.size(), 0, 0});
  responses_.push_back(r);
}

std::optional<SimEvent> Simulator::after_event(std::optional<SimEvent> ev) {
  while (fills_seen_ < ledger_.fills.size()) {
    const std::size_t i = fills_seen_++;
    const SimFill f = ledger_.fills[i];
    if (const auto why = risk_.on_fill(f, now_ns_)) breach(*why);
    // A fill of an order the kill had not yet cancelled: flattened in turn.
    if (risk_.flattening() && i >= risk_.flatten_from_fill() && !risk_.is_flatten_order(f.order_id))
      send_flatten(f.venue, f.side == static_cast<std::uint8_t>(Side::Bid) ? Side::Ask : Side::Bid, f.size);
  }
  if (!ev || !risk_.killed()) return ev;
  const bool answer = ev->kind == EventKind::Order || ev->kind == EventKind::Fill;
  if (answer && risk_.answer_heard(responses_[ev->index].order_id)) return ev;
  return std::nullopt;
}

void Simulator::breach(const RiskVerdict& why) {
  if (risk_.on_breach() == OnBreach::Kill) {
    kill_now(risk_.flatten_on_kill(), why);
    return;
  }
  const std::int64_t reset_ns = risk_.trip(why, now_ns_);
  pending_.push(Pending{reset_ns, 0, seq_++, Task::RiskReset, 0, 0, 0, 0});
}

void Simulator::kill_now(bool flatten, const RiskVerdict& why) {
  if (risk_.killed() && (!flatten || risk_.flattening())) return;
  for (const std::uint64_t id : risk_.kill(why, ledger_, now_ns_))
    request(Task::KillCancel, ledger_.order(id).venue, id, 0, 0);
  if (!flatten) return;
  // Every fill so far is in the positions flattened here; later ones get their own order.
  risk_.start_flatten(ledger_.fills.size());
  for (std::uint32_t v = 0; v < venues_.size(); ++v) {
    const Qty pos = venues_[v].venue.position();
    if (pos != 0) send_flatten(v, pos > 0 ? Side::Ask : Side::Bid, pos > 0 ? pos : -pos);
  }
}

void Simulator::send_flatten(std::uint32_t venue, Side side, Qty size) {
  const std::uint64_t id = ledger_.orders.size() + 1;
  SimOrder o{};
  o.order_id = id;
  o.ts_decision_ns = now_ns_;
  o.size = size;
  o.venue = venue;
  o.side = static_cast<std::uint8_t>(side);
  o.type = static_cast<std::uint8_t>(OrderType::Market);
  o.tif = static_cast<std::uint8_t>(TimeInForce::Gtc);
  o.status = static_cast<std::uint8_t>(OrderStatus::Pending);
  request(Task::New, venue, id, 0, 0);
  ledger_.orders.push_back(o);
  risk_.sent_new(o, now_ns_);
  risk_.add_flatten_order(id);
}

}  // namespace crossbook::sim
