// Queue models of the simulator, one order with a level of 10 ahead of it. The
// same cases through the simulator, and the differential test against the Python
// reference, are in tests/sim/test_queue_models.py and test_sim_state.py.
#include <gtest/gtest.h>

#include <limits>

#include "crossbook/sim/queue_model.hpp"

using namespace crossbook;
using namespace crossbook::sim;

namespace {

// The order joins a level of 10; 4 join behind it; the level then goes to `to`
// with `traded` traded since the previous row. Returns the size ahead.
Qty after(const QueueModel& m, Qty to, Qty traded = 0) {
  QueueState q;
  m.on_arrival(q, 10);
  m.on_level_change(q, 10, 14, 0);
  m.on_level_change(q, 14, to, traded);
  return q.ahead;
}

}  // namespace

TEST(QueueModels, AnUnexplainedDecreaseIsSplitByTheModel) {
  EXPECT_EQ(after(ConservativeQueue(), 10), 10);
  EXPECT_EQ(after(LinearQueue(), 10), 8);     // floor(4 * 10 / 14) = 2 from ahead
  EXPECT_EQ(after(PowerQueue(3), 10), 7);     // floor(4 / (1 + 0.4^3)) = 3
  EXPECT_EQ(after(PowerQueue(0), 10), 8);     // half
  EXPECT_EQ(after(LogQueue(), 10), 8);        // floor(4 ln 11 / (ln 11 + ln 5)) = 2
}

TEST(QueueModels, TradesExplainADecreaseFirst) {
  EXPECT_EQ(after(LinearQueue(), 10, 4), 10);  // all explained: the trades moved it already
  EXPECT_EQ(after(LinearQueue(), 10, 2), 9);   // 2 unexplained: floor(2 * 10 / 14) = 1
  EXPECT_EQ(after(LinearQueue(), 10, std::numeric_limits<Qty>::max()), 10);
}

TEST(QueueModels, WhatTheSplitGivesBeyondTheSizeBehindWasAhead) {
  EXPECT_EQ(after(PowerQueue(0), 4), 4);   // 10 leave, 5 each, but only 4 were behind
  EXPECT_EQ(after(PowerQueue(0), 6), 6);
  EXPECT_EQ(after(PowerQueue(1000), 10), 6);  // (4/10)^1000 = 0: all 4 from ahead
}

TEST(QueueModels, AHugeExponentOverflowsToNothingFromAheadAndStaysFinite) {
  QueueState q;
  const PowerQueue m(1000);
  m.on_arrival(q, 4);
  m.on_level_change(q, 4, 14, 0);   // 10 behind: (10/4)^1000 overflows to infinity
  m.on_level_change(q, 14, 10, 0);
  EXPECT_EQ(q.ahead, 4);
}

TEST(QueueModels, ATradeTakesTheSizeAheadThenFills) {
  QueueState q;
  const LinearQueue m;
  m.on_arrival(q, 10);
  EXPECT_EQ(m.on_trade(q, 7), 0);
  EXPECT_EQ(q.ahead, 3);
  EXPECT_EQ(m.on_trade(q, 5), 2);
  EXPECT_EQ(q.ahead, 0);
  EXPECT_EQ(q.ahead_at_arrival, 10);
}

TEST(QueueModels, BadExponentsAreRefused) {
  EXPECT_THROW(PowerQueue(-1), InvalidInput);
  EXPECT_THROW(PowerQueue(std::numeric_limits<double>::infinity()), InvalidInput);
  EXPECT_THROW(PowerQueue(std::numeric_limits<double>::quiet_NaN()), InvalidInput);
}
