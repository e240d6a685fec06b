#include <algorithm>
#include <string>
#include <utility>

#include "crossbook/sim/fee_model.hpp"
#include "crossbook/sim/latency_model.hpp"

namespace crossbook::sim {

namespace {
constexpr std::int32_t kMaxCbps = 999'999;  // crossbook.arb.fees.MAX_FEE_CBPS
constexpr Int128 kFeeDenominator = 1'000'000;

// The n-th output (0-based) of splitmix64 seeded with `seed`: the seeds of a
// model's independent generators.
std::uint64_t split_seed(std::uint64_t seed, int n) {
  SplitMix64 root(seed);
  for (int i = 0; i < n; ++i) root.next();
  return root.next();
}

void check_delay(std::int64_t ns, const char* what) {
  if (ns < 0) throw InvalidInput(std::string(what) + " latency must be >= 0, got " + std::to_string(ns) + " ns");
}

void check_samples(const std::vector<std::int64_t>& samples, const char* what) {
  if (samples.empty()) throw InvalidInput(std::string(what) + " latency samples are empty");
  for (const std::int64_t ns : samples) check_delay(ns, what);
}

void check_range(std::int64_t lo_ns, std::int64_t hi_ns, const char* what) {
  if (lo_ns < 0 || hi_ns < lo_ns)
    throw InvalidInput(std::string(what) + " latency range needs 0 <= lo <= hi, got [" + std::to_string(lo_ns) +
                       ", " + std::to_string(hi_ns) + "] ns");
}

std::int64_t draw_between(SplitMix64& rng, std::int64_t lo, std::int64_t hi) {
  // hi - lo + 1 <= 2^63: no overflow, and never 0.
  const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
  return lo + static_cast<std::int64_t>(rng.below(span));
}

}  // namespace

std::uint64_t SplitMix64::below(std::uint64_t bound) {
  __extension__ using U128 = unsigned __int128;
  U128 m = static_cast<U128>(next()) * bound;
  auto low = static_cast<std::uint64_t>(m);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    while (low < threshold) {
      m = static_cast<U128>(next()) * bound;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

SeededLatency::SeededLatency(std::uint64_t seed)
    : entry_rng_(split_seed(seed, 0)), response_rng_(split_seed(seed, 1)) {}

EmpiricalLatency::EmpiricalLatency(std::vector<std::int64_t> entry_ns, std::vector<std::int64_t> response_ns,
                                   std::uint64_t seed)
    : SeededLatency(seed), entry_(std::move(entry_ns)), response_(std::move(response_ns)) {
  check_samples(entry_, "entry");
  check_samples(response_, "response");
}

UniformLatency::UniformLatency(std::int64_t entry_lo_ns, std::int64_t entry_hi_ns, std::int64_t response_lo_ns,
                               std::int64_t response_hi_ns, std::uint64_t seed)
    : SeededLatency(seed), entry_lo_(entry_lo_ns), entry_hi_(entry_hi_ns), response_lo_(response_lo_ns),
      response_hi_(response_hi_ns) {
  check_range(entry_lo_, entry_hi_, "entry");
  check_range(response_lo_, response_hi_, "response");
}

std::int64_t UniformLatency::entry_ns(std::int64_t) { return draw_between(entry_rng_, entry_lo_, entry_hi_); }

std::int64_t UniformLatency::response_ns(std::int64_t) {
  return draw_between(response_rng_, response_lo_, response_hi_);
}

TableLatency::TableLatency(std::vector<Row> rows) : rows_(std::move(rows)) {
  if (rows_.empty()) throw InvalidInput("a latency table needs at least one row");
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    check_delay(rows_[i].entry_ns, "entry");
    check_delay(rows_[i].response_ns, "response");
    if (i > 0 && rows_[i].from_ns <= rows_[i - 1].from_ns)
      throw InvalidInput("latency table row " + std::to_string(i) + ": from_ns " +
                         std::to_string(rows_[i].from_ns) + " is not after the previous row's " +
                         std::to_string(rows_[i - 1].from_ns));
  }
}

const TableLatency::Row& TableLatency::at(std::int64_t ts_ns) const {
  const auto it = std::upper_bound(rows_.begin(), rows_.end(), ts_ns,
                                   [](std::int64_t t, const Row& r) { return t < r.from_ns; });
  return it == rows_.begin() ? rows_.front() : *(it - 1);
}

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
