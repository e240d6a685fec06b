// Queue models: where a resting order stands in its level's queue when the
// data has only level sizes (L2). The simulated venue tells the model what
// happened at the order's price and asks how much of the order a trade fills.
//
// Issue 11's probabilistic models (linear, power, logarithmic) are new
// subclasses that split an unexplained decrease in on_level_change; exact FIFO
// on order-level data is a venue fed with L3 events, not a QueueModel.
#pragma once

#include "crossbook/types.hpp"

namespace crossbook::sim {

/// A resting order's place: the size the model believes is ahead of it.
struct QueueState {
  Qty ahead = 0;
};

class QueueModel {
 public:
  virtual ~QueueModel() = default;
  /// The order joins its price level, whose recorded size is `level_size`.
  virtual void on_arrival(QueueState& q, Qty level_size) const = 0;
  /// A trade of `trade_size` at the order's price, aggressor on the other
  /// side. Returns how much of it reaches the order (the caller clips that to
  /// the order's open size).
  virtual Qty on_trade(QueueState& q, Qty trade_size) const = 0;
  /// The feed set the order's level from `prev_size` to `new_size`.
  virtual void on_level_change(QueueState& q, Qty prev_size, Qty new_size) const = 0;
};

/// Conservative (hftbacktest calls its twin "risk averse"): the order joins at
/// the back; only trades at its price advance it, and a trade fills it with
/// what exceeds the size ahead. A level that shrinks below the size ahead caps
/// it (what is gone from the level cannot be ahead), which is the only way a
/// cancellation moves the order.
class ConservativeQueue final : public QueueModel {
 public:
  void on_arrival(QueueState& q, Qty level_size) const override { q.ahead = level_size; }
  Qty on_trade(QueueState& q, Qty trade_size) const override {
    if (trade_size <= q.ahead) {
      q.ahead -= trade_size;
      return 0;
    }
    const Qty excess = trade_size - q.ahead;
    q.ahead = 0;
    return excess;
  }
  void on_level_change(QueueState& q, Qty, Qty new_size) const override {
    if (new_size < q.ahead) q.ahead = new_size;
  }
};

}  // namespace crossbook::sim
