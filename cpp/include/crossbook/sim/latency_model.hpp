// Latency models: when an order reaches its venue, and when the venue's answer
// reaches the strategy. The simulated venue asks; it holds no latency logic.
#pragma once

#include <cstdint>

namespace crossbook::sim {

/// Both answers must be >= 0. Non-const so that a seeded random model can keep
/// its generator state; a model is owned by one venue and called in event order,
/// so the same inputs and seed give the same delays.
class LatencyModel {
 public:
  virtual ~LatencyModel() = default;
  /// Delay from a decision at `ts_decision_ns` to the request's arrival at the venue.
  virtual std::int64_t entry_ns(std::int64_t ts_decision_ns) = 0;
  /// Delay from a venue event at `ts_venue_ns` to the strategy hearing of it.
  virtual std::int64_t response_ns(std::int64_t ts_venue_ns) = 0;
};

class ConstantLatency final : public LatencyModel {
 public:
  /// Throws InvalidInput for a negative delay.
  ConstantLatency(std::int64_t entry_ns, std::int64_t response_ns);
  std::int64_t entry_ns(std::int64_t) override { return entry_ns_; }
  std::int64_t response_ns(std::int64_t) override { return response_ns_; }

 private:
  std::int64_t entry_ns_;
  std::int64_t response_ns_;
};

}  // namespace crossbook::sim
