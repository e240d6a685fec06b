// A built-in strategy run with no callback into Python: cross-venue taker
// arbitrage on the venues' touches. Its Python twin is
// crossbook.sim.builtin.CrossArbTaker; a test holds the two to the same orders
// and fills on the same data.
#pragma once

#include <cstdint>
#include <vector>

#include "crossbook/sim/simulator.hpp"

namespace crossbook::sim {

struct CrossArbParams {
  /// Per venue: the taker fee the strategy counts on, in centi-bps.
  std::vector<std::int32_t> taker_cbps;
  /// The most one leg buys or sells (size mantissa).
  Qty max_size = 0;
  /// A pair (buy venue, sell venue) trades again only this long after it last did.
  std::int64_t cooldown_ns = 0;
};

/// On every touch event, the first pair (buy venue a, sell venue b), in order of
/// a then b, where buying at a's ask and selling at b's bid earns more than both
/// taker fees,
///     ask_a * (10^6 + fee_a) < bid_b * (10^6 - fee_b)     (fees in centi-bps),
/// and whose cooldown has passed, gets two IOC limit orders: buy at ask_a on a and
/// sell at bid_b on b, each for min(ask size at a, bid size at b, max_size). At
/// most one pair per event; a venue whose touch is empty on the side needed (or
/// that is not synced) takes no part.
class CrossArbTaker {
 public:
  /// Throws InvalidInput for a fee list not of one fee per venue, a fee outside
  /// (-10^6, 10^6), max_size < 1 or cooldown_ns < 0.
  CrossArbTaker(const Simulator& sim, CrossArbParams params);

  /// Runs `sim` (the one given at construction) up to `until_ns`, stopping only at
  /// touch events (it replaces the subscriptions). O(venues^2) per touch event.
  void run(Simulator& sim, std::int64_t until_ns);

  std::uint64_t touch_events() const { return touch_events_; }
  std::uint64_t pairs_traded() const { return pairs_traded_; }

 private:
  void on_touch(Simulator& sim);

  CrossArbParams p_;
  std::size_t n_;
  std::vector<std::int64_t> next_ok_ns_;  // per pair (a * n + b): when it may trade again
  std::uint64_t touch_events_ = 0;
  std::uint64_t pairs_traded_ = 0;
};

}  // namespace crossbook::sim
