// Queue models: where a resting order stands in its level's queue when the
// data has only level sizes (L2). The simulated venue tells the model what
// happened at the order's price and asks how much of the order a trade fills.
//
// The family (hftbacktest's ProbQueueModel is the idea's source): trades at
// the order's price advance it first; a decrease of the level that the trades
// since the level's previous row do not explain was cancelled somewhere in the
// queue, and the model splits it between the size ahead of the order and the
// size behind it. Only the split differs between models. Exact FIFO on
// order-level data is not a QueueModel: the truth needs the orders themselves
// (crossbook.sim.fifo).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "crossbook/types.hpp"

namespace crossbook::sim {

/// A resting order's place: the size the model believes is ahead of it, and
/// what was ahead when it joined (its progress is 1 - ahead / ahead_at_arrival).
/// Always 0 <= ahead <= the level's recorded size after the last row.
struct QueueState {
  Qty ahead = 0;
  Qty ahead_at_arrival = 0;
};

class QueueModel {
 public:
  virtual ~QueueModel() = default;

  /// The order joins the back of its level, whose recorded size is `level_size`.
  void on_arrival(QueueState& q, Qty level_size) const { q.ahead = q.ahead_at_arrival = level_size; }

  /// A trade of `trade_size` at the order's price, aggressor on the other
  /// side: it takes the size ahead first. Returns how much of it reaches the
  /// order (the caller clips that to the order's open size).
  Qty on_trade(QueueState& q, Qty trade_size) const {
    if (trade_size <= q.ahead) {
      q.ahead -= trade_size;
      return 0;
    }
    const Qty excess = trade_size - q.ahead;
    q.ahead = 0;
    return excess;
  }

  /// The feed set the order's level from `prev_size` to `new_size`;
  /// `traded_size` traded at that price since the level's previous row. The
  /// part of the decrease the trades do not explain is split by
  /// cancelled_ahead(); whatever the split, the part given to the size behind
  /// cannot exceed that size (the rest was ahead), and what is gone from the
  /// level cannot be ahead (ahead <= new_size).
  void on_level_change(QueueState& q, Qty prev_size, Qty new_size, Qty traded_size) const {
    const Qty drop = prev_size - new_size;  // both >= 0: no overflow
    if (drop > traded_size && q.ahead > 0) {
      const Qty unexplained = drop - traded_size;
      const Qty behind = std::max<Qty>(0, prev_size - q.ahead);
      Qty from_ahead = std::clamp<Qty>(cancelled_ahead(q.ahead, behind, unexplained), 0,
                                       std::min(unexplained, q.ahead));
      from_ahead = std::min(q.ahead, from_ahead + std::max<Qty>(0, unexplained - from_ahead - behind));
      q.ahead -= from_ahead;
    }
    q.ahead = std::min(q.ahead, new_size);
  }

  /// How much of an unexplained decrease `decrease` (> 0) of a level with
  /// `ahead` (> 0) before the order and `behind` (>= 0) after it left from
  /// ahead. Rounded down, so the model never moves the order further than its
  /// own estimate; the caller clamps it to [0, min(decrease, ahead)].
  virtual Qty cancelled_ahead(Qty ahead, Qty behind, Qty decrease) const = 0;
};

/// Conservative (hftbacktest: "risk averse"): cancellations never advance
/// the order, which joins at the back and moves only by trades at its price
/// and by the level shrinking below the size ahead of it.
///   cancelled_ahead = 0
class ConservativeQueue final : public QueueModel {
 public:
  Qty cancelled_ahead(Qty, Qty, Qty) const override { return 0; }
};

/// Linear: a cancellation is equally likely to be any unit of the queue, so
/// the share from ahead is the share of the queue ahead, in exact integers:
///   cancelled_ahead = floor(decrease * ahead / (ahead + behind))
class LinearQueue final : public QueueModel {
 public:
  Qty cancelled_ahead(Qty ahead, Qty behind, Qty decrease) const override {
    return static_cast<Qty>(static_cast<Int128>(decrease) * ahead / (static_cast<Int128>(ahead) + behind));
  }
};

/// Power with exponent n >= 0: with f(x) = x^n,
///   cancelled_ahead = floor(decrease * f(ahead) / (f(ahead) + f(behind)))
/// computed in double as decrease / (1 + (behind / ahead)^n), which stays
/// finite for any n (a share of 0 when (behind / ahead)^n overflows). n > 1
/// puts cancellations behind the order more often than linear does (people
/// late in a queue cancel more); n = 1 is linear up to rounding of the double
/// (use LinearQueue for exact integers); n = 0 splits every decrease in half.
class PowerQueue final : public QueueModel {
 public:
  /// Throws InvalidInput unless 0 <= exponent < infinity.
  explicit PowerQueue(double exponent) : n_(exponent) {
    if (!std::isfinite(exponent) || exponent < 0)
      throw InvalidInput("power queue exponent must be finite and >= 0, got " + std::to_string(exponent));
  }
  double exponent() const { return n_; }
  Qty cancelled_ahead(Qty ahead, Qty behind, Qty decrease) const override {
    const double r = std::pow(static_cast<double>(behind) / static_cast<double>(ahead), n_);
    return static_cast<Qty>(std::floor(static_cast<double>(decrease) / (1.0 + r)));
  }

 private:
  double n_;
};

/// Logarithmic: f(x) = ln(1 + x), a weight that grows slowly with size, so a
/// deep queue on one side takes little more than a shallow one:
///   cancelled_ahead = floor(decrease * f(ahead) / (f(ahead) + f(behind)))
/// computed in double with log1p, in that order (product, then quotient).
class LogQueue final : public QueueModel {
 public:
  Qty cancelled_ahead(Qty ahead, Qty behind, Qty decrease) const override {
    const double fa = std::log1p(static_cast<double>(ahead));
    const double fb = std::log1p(static_cast<double>(behind));
    return static_cast<Qty>(std::floor(static_cast<double>(decrease) * fa / (fa + fb)));
  }
};

}  // namespace crossbook::sim
