#include <string>

#include "crossbook/sim/fee_model.hpp"
#include "crossbook/sim/latency_model.hpp"

namespace crossbook::sim {

namespace {
constexpr std::int32_t kMaxCbps = 999'999;  // crossbook.arb.fees.MAX_FEE_CBPS
constexpr Int128 kFeeDenominator = 1'000'000;
}  // namespace

ConstantLatency::ConstantLatency(std::int64_t entry_ns, std::int64_t response_ns)
    : entry_ns_(entry_ns), response_ns_(response_ns) {
  if (entry_ns < 0 || response_ns < 0)
    throw InvalidInput("latencies must be >= 0, got entry " + std::to_string(entry_ns) +
                       " ns, response " + std::to_string(response_ns) + " ns");
}

CbpsFeeModel::CbpsFeeModel(std::int32_t maker_cbps, std::int32_t taker_cbps)
    : maker_cbps_(maker_cbps), taker_cbps_(taker_cbps) {
  for (const std::int32_t f : {maker_cbps, taker_cbps})
    if (f < -kMaxCbps || f > kMaxCbps)
      throw InvalidInput("fees must be within +-" + std::to_string(kMaxCbps) + " centi-bps, got " +
                         std::to_string(f));
}

Int128 CbpsFeeModel::fee(Int128 notional, Liquidity liquidity) const {
  const Int128 num = notional * (liquidity == Liquidity::Maker ? maker_cbps_ : taker_cbps_);
  // Ceiling division; C++ division truncates toward zero.
  const Int128 q = num / kFeeDenominator;
  return q + (num % kFeeDenominator > 0 ? 1 : 0);
}

}  // namespace crossbook::sim
