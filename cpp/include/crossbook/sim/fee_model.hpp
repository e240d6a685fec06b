// Fee models: what a fill costs. The simulated venue asks; it holds no fee logic.
#pragma once

#include <cstdint>

#include "crossbook/sim/types.hpp"
#include "crossbook/types.hpp"

namespace crossbook::sim {

class FeeModel {
 public:
  virtual ~FeeModel() = default;
  /// Fee of one fill of `notional` (price * size mantissas, > 0), in the same
  /// units; negative is a rebate.
  virtual Int128 fee(Int128 notional, Liquidity liquidity) const = 0;
};

/// Maker and taker fees in centi-bps (crossbook.arb.fees: fraction = cbps / 10^6).
/// Each fill's fee is ceil(notional * cbps / 10^6): a charge rounds up and a
/// rebate rounds toward zero, so rounding never favours the strategy.
class CbpsFeeModel final : public FeeModel {
 public:
  /// Throws InvalidInput for a fee outside (-10^6, 10^6).
  CbpsFeeModel(std::int32_t maker_cbps, std::int32_t taker_cbps);
  Int128 fee(Int128 notional, Liquidity liquidity) const override;

 private:
  std::int32_t maker_cbps_;
  std::int32_t taker_cbps_;
};

}  // namespace crossbook::sim
