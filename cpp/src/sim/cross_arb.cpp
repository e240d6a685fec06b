#include "crossbook/sim/cross_arb.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

namespace crossbook::sim {

namespace {
constexpr std::int32_t kMaxCbps = 999'999;  // crossbook.arb.fees.MAX_FEE_CBPS
constexpr Int128 kFeeDenominator = 1'000'000;
}  // namespace

CrossArbTaker::CrossArbTaker(const Simulator& sim, CrossArbParams params)
    : p_(std::move(params)), n_(sim.num_venues()) {
  if (p_.taker_cbps.size() != n_)
    throw InvalidInput("cross-arb needs one taker fee per venue: " + std::to_string(n_) + " venues, " +
                       std::to_string(p_.taker_cbps.size()) + " fees");
  for (const std::int32_t f : p_.taker_cbps)
    if (f < -kMaxCbps || f > kMaxCbps)
      throw InvalidInput("fees must be within +-" + std::to_string(kMaxCbps) + " centi-bps, got " +
                         std::to_string(f));
  if (p_.max_size < 1) throw InvalidInput("max_size must be >= 1, got " + std::to_string(p_.max_size));
  if (p_.cooldown_ns < 0)
    throw InvalidInput("cooldown_ns must be >= 0, got " + std::to_string(p_.cooldown_ns));
  next_ok_ns_.assign(n_ * n_, std::numeric_limits<std::int64_t>::min());
}

void CrossArbTaker::run(Simulator& sim, std::int64_t until_ns) {
  sim.set_subscriptions(subscribe::kTouch);
  while (sim.advance(until_ns)) {
    ++touch_events_;
    on_touch(sim);
  }
}

void CrossArbTaker::on_touch(Simulator& sim) {
  const std::int64_t now = sim.now();
  for (std::size_t a = 0; a < n_; ++a) {
    const BboRow& buy = sim.touch(a);
    if (buy.ask_size == 0 || buy.ask_price <= 0) continue;  // no ask, or none to buy at a price
    const Int128 cost = static_cast<Int128>(buy.ask_price) * (kFeeDenominator + p_.taker_cbps[a]);
    for (std::size_t b = 0; b < n_; ++b) {
      const BboRow& sell = sim.touch(b);
      if (b == a || sell.bid_size == 0) continue;
      if (cost >= static_cast<Int128>(sell.bid_price) * (kFeeDenominator - p_.taker_cbps[b])) continue;
      std::int64_t& next_ok = next_ok_ns_[a * n_ + b];
      if (now < next_ok) continue;
      const Qty size = std::min({buy.ask_size, sell.bid_size, p_.max_size});
      sim.submit(NewOrder{static_cast<std::uint32_t>(a), Side::Bid, OrderType::Limit, TimeInForce::Ioc,
                          false, buy.ask_price, size});
      sim.submit(NewOrder{static_cast<std::uint32_t>(b), Side::Ask, OrderType::Limit, TimeInForce::Ioc,
                          false, sell.bid_price, size});
      if (__builtin_add_overflow(now, p_.cooldown_ns, &next_ok)) next_ok = std::numeric_limits<std::int64_t>::max();
      ++pairs_traded_;
      return;
    }
  }
}

}  // namespace crossbook::sim
