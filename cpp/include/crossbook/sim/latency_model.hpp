// Latency models: when an order reaches its venue, and when the venue's answer
// reaches the strategy. The simulated venue asks; it holds no latency logic.
//
// Random models draw from generators implemented here (splitmix64 and Lemire's
// bounded draw) with integer arithmetic only, never from std:: distributions,
// whose output differs between standard libraries: a seed gives the same
// delays on every platform, and tests/reference/ref_sim.py reproduces them.
#pragma once

#include <cstdint>
#include <vector>

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

/// splitmix64 (Steele, Lea and Flood 2014; Vigna's reference code): 64-bit
/// state, every seed valid, exactly specified.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, bound), unbiased (Lemire 2019: multiply, and redraw the
  /// few products whose low half falls below 2^64 mod bound). bound > 0.
  std::uint64_t below(std::uint64_t bound);

 private:
  std::uint64_t state_;
};

/// Entry and response draws come from two generators split off `seed`, so the
/// number of answers never shifts the entry delays and vice versa. Per venue,
/// entry draws are made in the order the strategy sends requests to it, and
/// response draws in the order the venue sends its answers.
class SeededLatency : public LatencyModel {
 protected:
  explicit SeededLatency(std::uint64_t seed);
  SplitMix64 entry_rng_;
  SplitMix64 response_rng_;
};

/// Each delay is one of its samples, drawn uniformly (so a sample listed twice
/// is twice as likely): measured latencies replayed as a distribution.
class EmpiricalLatency final : public SeededLatency {
 public:
  /// Throws InvalidInput for an empty sample list or a negative sample.
  EmpiricalLatency(std::vector<std::int64_t> entry_ns, std::vector<std::int64_t> response_ns,
                   std::uint64_t seed);
  std::int64_t entry_ns(std::int64_t) override { return entry_[entry_rng_.below(entry_.size())]; }
  std::int64_t response_ns(std::int64_t) override {
    return response_[response_rng_.below(response_.size())];
  }

 private:
  std::vector<std::int64_t> entry_;
  std::vector<std::int64_t> response_;
};

/// Each delay uniform over the integers of [lo, hi], both ends included.
class UniformLatency final : public SeededLatency {
 public:
  /// Throws InvalidInput unless 0 <= lo <= hi for both ranges.
  UniformLatency(std::int64_t entry_lo_ns, std::int64_t entry_hi_ns, std::int64_t response_lo_ns,
                 std::int64_t response_hi_ns, std::uint64_t seed);
  std::int64_t entry_ns(std::int64_t) override;
  std::int64_t response_ns(std::int64_t) override;

 private:
  std::int64_t entry_lo_, entry_hi_, response_lo_, response_hi_;
};

/// Piecewise-constant over time, e.g. latencies measured per minute: the row
/// with the greatest from_ns <= t gives the delays at t (the request's decision
/// time, the answer's venue time); before the first row, the first row applies.
class TableLatency final : public LatencyModel {
 public:
  struct Row {
    std::int64_t from_ns;
    std::int64_t entry_ns;
    std::int64_t response_ns;
  };
  /// Throws InvalidInput for no rows, from_ns not strictly increasing, or a
  /// negative delay. Cost per call: O(log rows).
  explicit TableLatency(std::vector<Row> rows);
  std::int64_t entry_ns(std::int64_t ts_decision_ns) override { return at(ts_decision_ns).entry_ns; }
  std::int64_t response_ns(std::int64_t ts_venue_ns) override { return at(ts_venue_ns).response_ns; }

 private:
  const Row& at(std::int64_t ts_ns) const;
  std::vector<Row> rows_;
};

}  // namespace crossbook::sim
