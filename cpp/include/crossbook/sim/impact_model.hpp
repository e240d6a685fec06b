// Market impact of the strategy's own taker fills (optional, off by default).
//
// The recorded book never reacts to the strategy; beyond the liquidity its fills
// took (SimVenue's taken sizes), a real market moves against a taker. With this
// model, each taker fill of signed size q (+ buy, - sell) at time t0 shifts the
// whole book its venue shows later taker and post-only checks by
//     kick = trunc(q * price_step / size_unit)          price units
// decaying linearly to nothing over decay_ns:
//     shift(t) = sum over fills of trunc(kick * (decay_ns - (t - t0)) / decay_ns)
// for the fills with t - t0 < decay_ns. After buys the book is higher (later buys
// pay more), after sells lower; a shifted price stays >= 1. The shift is taken when
// an order arrives: one order's walk does not move the levels it walks. Trades in the recording, and so maker fills, are
// not shifted: the model moves only what the strategy's own later orders meet.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <string>

#include "crossbook/types.hpp"

namespace crossbook::sim {

class LinearDecayImpact {
 public:
  /// Throws InvalidInput unless price_step >= 0, size_unit > 0 and decay_ns > 0.
  LinearDecayImpact(Price price_step, Qty size_unit, std::int64_t decay_ns)
      : price_step_(price_step), size_unit_(size_unit), decay_ns_(decay_ns) {
    if (price_step < 0 || size_unit <= 0 || decay_ns <= 0)
      throw InvalidInput("impact needs price_step >= 0, size_unit > 0 and decay_ns > 0, got " +
                         std::to_string(price_step) + ", " + std::to_string(size_unit) + ", " +
                         std::to_string(decay_ns));
  }

  /// A taker fill of `signed_size` (+ buy, - sell) at `ts_ns` (never before an earlier one).
  void on_taker_fill(std::int64_t ts_ns, Qty signed_size) {
    const Int128 kick = static_cast<Int128>(signed_size) * price_step_ / size_unit_;
    if (kick != 0) kicks_.push_back(Kick{ts_ns, kick});
  }

  /// The shift at `ts_ns` (not before the last fill). Throws InvalidInput when it
  /// does not fit a price.
  Price shift(std::int64_t ts_ns) {
    while (!kicks_.empty() && elapsed(kicks_.front().ts_ns, ts_ns) >= decay_ns_) kicks_.pop_front();
    Int128 total = 0;
    for (const Kick& k : kicks_) total += k.kick * (decay_ns_ - elapsed(k.ts_ns, ts_ns)) / decay_ns_;
    if (total > std::numeric_limits<Price>::max() || total < -std::numeric_limits<Price>::max())
      throw InvalidInput("market impact shift does not fit int64");
    return static_cast<Price>(total);
  }

 private:
  struct Kick {
    std::int64_t ts_ns;
    Int128 kick;
  };
  static Int128 elapsed(std::int64_t from_ns, std::int64_t to_ns) {
    return static_cast<Int128>(to_ns) - from_ns;
  }

  Price price_step_;
  Qty size_unit_;
  std::int64_t decay_ns_;
  std::deque<Kick> kicks_;
};

}  // namespace crossbook::sim
