// The risk engine: stands between the strategy and every venue and checks each
// submit and modify at the instant it is decided, before anything is sent.
//
// Rules (the Python docstring of crossbook.sim.risk says the same):
// - A refused request never leaves the desk: the order gets an id, is Rejected
//   with a Reason from 16 up, and its answer is delivered at once (delivery
//   time = decision time); a refused modify is answered ModifyRejected the
//   same way. Every refusal is a SimRiskEvent. Cancels are never refused.
// - Checks, first failure wins: kill switch, circuit breaker, order size,
//   order notional, position, net position, open orders (submits only), rate.
// - Order size and notional are the size sent: a submit's size, a modify's new
//   open size (leaves) at its new price. A market order is valued at the
//   deepest price a walk of the venue's current book (less what is taken)
//   reaches for its size, the mark when that side is empty; with neither it is
//   refused (value -1).
// - Position limits are worst cases that hold whatever fills: the venue's
//   position now, plus the exposure of every live order on the order's side,
//   plus the request. A live order's exposure is its open size (Pending or
//   Open) plus the open size of each modify of it still in flight (a modify
//   sets the open size when it lands, whatever filled before). Only the
//   order's own direction is checked, so a reducing order passes unless its
//   own side's worst case exceeds the limit. Net position per asset sums the
//   venues of that asset (they must share size_exp).
// - Open orders: Pending or Open orders of the venue, plus the new one.
// - Rate: submits and modifies sent to the venue in the sliding window
//   (now - window_ns, now], plus the new one. Refused requests do not count.
// - Equity = sum over venues of cash + position * mark - fees (units
//   10^-(pe+se); loss limits need one pe+se for the run). Mark: floor of the
//   book's mid when both sides exist, else the venue's last recorded trade
//   price, else its last fill price. Checked after every fill and after each
//   venue message's last row on a venue with a non-zero position. Loss breach:
//   -equity > max_loss; drawdown breach: peak - equity > max_drawdown, the peak
//   being the highest equity seen at a check (starting at 0).
// - Breach with Pause: the breaker trips and every submit/modify is refused
//   with CircuitBreaker until trip + pause_ns exactly, when it resets (an
//   event at that time). While tripped no new breach is raised. With Kill:
//   the kill switch.
// - Kill switch (a breach, the strategy or the user): from that instant every
//   submit/modify is refused with KillSwitch; a cancel is sent at once for
//   every Pending or Open order (the entry latency applies, as for a desk; with
//   a non-decreasing entry latency the cancel lands after its order); with
//   flatten, a market order per venue with a position, for its opposite, and
//   then one for each later fill of an order sent before the kill. These
//   bypass the limits; a flatten order the book cannot fill is not retried.
//   The strategy then hears only the answers about the orders live at the
//   kill and the flatten orders: no book, trade or timer callbacks, and no
//   refusals of its own later requests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_set>
#include <vector>

#include "crossbook/sim/types.hpp"
#include "crossbook/sim/venue.hpp"

namespace crossbook::sim {

inline constexpr std::uint32_t kNoVenue = UINT32_MAX;
inline constexpr std::uint32_t kNoAsset = UINT32_MAX;

/// Per simulated venue; nullopt is no limit.
struct VenueLimits {
  std::optional<Qty> max_order_size;
  std::optional<Int128> max_order_notional;  // price * size mantissas
  std::optional<Qty> max_position;
  std::optional<std::int64_t> max_open_orders;
  std::optional<std::int64_t> max_orders_per_window;
  std::int64_t window_ns = 1'000'000'000;
  std::uint32_t asset = kNoAsset;  // index into PortfolioLimits::max_net_position
};

enum class OnBreach : std::uint8_t { Pause = 1, Kill = 2 };

struct PortfolioLimits {
  std::vector<Qty> max_net_position;  // by asset index
  std::optional<Int128> max_loss;
  std::optional<Int128> max_drawdown;
  OnBreach on_breach = OnBreach::Pause;
  std::int64_t pause_ns = 60'000'000'000;
  bool flatten_on_kill = false;
};

enum class RiskEventKind : std::uint8_t { OrderRefused = 1, BreakerTripped = 2, BreakerReset = 3, Kill = 4 };

/// One state change of the risk engine. value and limit are 128-bit, split as
/// value = hi * 2^64 + lo (as SimAccount); a refusal or breach has value > limit.
struct SimRiskEvent {
  std::int64_t ts_ns;
  std::uint64_t order_id;  // 0 when not about an order
  std::uint64_t value_lo;
  std::int64_t value_hi;
  std::uint64_t limit_lo;
  std::int64_t limit_hi;
  std::uint32_t venue;  // kNoVenue when about the whole run
  std::uint8_t kind;
  std::uint8_t reason;
  std::uint8_t reserved[2];
};
static_assert(sizeof(SimRiskEvent) == 56, "SimRiskEvent layout is part of the numpy contract");

/// Why a request is refused or a breach happened: reason None means it passes.
struct RiskVerdict {
  Reason reason = Reason::None;
  Int128 value = 0;
  Int128 limit = 0;
};

class RiskEngine {
 public:
  /// `venues` are the run's venues, in index order; they must outlive the engine
  /// (the simulator owns both). No limits until configure().
  explicit RiskEngine(std::vector<const SimVenue*> venues = {});

  /// Throws InvalidInput for a bad limit, an unknown asset, venues of one asset
  /// with different size_exp, or loss limits over venues with different pe+se.
  void configure(std::vector<VenueLimits> venues, PortfolioLimits portfolio);

  /// Decision-time checks. O(live orders of the venue (+ of its asset)).
  RiskVerdict check_new(const SimOrder& o, const Ledger& ledger, std::int64_t now_ns);
  RiskVerdict check_modify(const SimOrder& o, Price price, Qty leaves, const Ledger& ledger,
                           std::int64_t now_ns);
  void sent_new(const SimOrder& o, std::int64_t now_ns);
  void sent_modify(const SimOrder& o, Qty leaves, std::int64_t now_ns);
  void modify_arrived(std::uint32_t venue, std::uint64_t id, Qty leaves);
  void refused(const SimOrder& o, const RiskVerdict& v, std::int64_t now_ns);

  void on_trade(std::uint32_t venue, Price price) { last_trade_[venue] = price; }
  /// After fill `f`: the equity check; returns the breach, if any.
  std::optional<RiskVerdict> on_fill(const SimFill& f, std::int64_t now_ns);
  /// After a venue message's last row: the equity check when the venue has a position.
  std::optional<RiskVerdict> on_message_end(std::uint32_t venue, std::int64_t now_ns);
  /// Trips the breaker at now_ns; returns the time it resets.
  std::int64_t trip(const RiskVerdict& why, std::int64_t now_ns);
  /// Records the reset once now_ns has reached it.
  void maybe_reset(std::int64_t now_ns);
  bool checks_equity() const { return portfolio_.max_loss || portfolio_.max_drawdown; }
  OnBreach on_breach() const { return portfolio_.on_breach; }
  bool flatten_on_kill() const { return portfolio_.flatten_on_kill; }

  /// Marks the kill; returns the ids of every Pending or Open order, ascending.
  std::vector<std::uint64_t> kill(const RiskVerdict& why, const Ledger& ledger, std::int64_t now_ns);
  bool killed() const { return killed_; }
  bool flattening() const { return flattening_; }
  void start_flatten(std::size_t fills_done) {
    flattening_ = true;
    flatten_from_fill_ = fills_done;
  }
  /// A fill index at or after this one of an order that is not a flatten order
  /// needs a flatten order of its own.
  std::size_t flatten_from_fill() const { return flatten_from_fill_; }
  void add_flatten_order(std::uint64_t id) {
    flatten_orders_.insert(id);
    kill_answers_.insert(id);
  }
  bool is_flatten_order(std::uint64_t id) const { return flatten_orders_.count(id) != 0; }
  /// After the kill, whether an answer about order `id` still reaches the strategy.
  bool answer_heard(std::uint64_t id) const { return !killed_ || kill_answers_.count(id) != 0; }

  const std::vector<SimRiskEvent>& events() const { return events_; }
  std::optional<Price> mark(std::uint32_t venue) const;
  /// cash + position * mark - fees over all venues, as the checks see it.
  Int128 equity() const;

 private:
  struct Live {
    std::uint64_t id;
    Qty modify_leaves;  // open size of this order's modifies still in flight
  };
  struct Shadow {  // the venue's account, replayed fill by fill
    Qty position = 0;
    Int128 cash = 0;
    Int128 fees = 0;
    std::optional<Price> last_fill;
  };

  RiskVerdict check_common(const SimOrder& o, Price price, Qty size, const Ledger& ledger,
                           std::int64_t now_ns);
  RiskVerdict check_rate(std::uint32_t venue, std::int64_t now_ns);
  std::optional<Int128> notional(const SimOrder& o, Price price, Qty size) const;
  /// Prunes orders no longer Pending or Open; returns the side's exposure.
  Int128 exposure(std::uint32_t venue, Side side, const Ledger& ledger);
  Qty exposure_of(const Live& l, const Ledger& ledger) const;
  std::optional<RiskVerdict> check_equity(std::int64_t now_ns);
  void record(RiskEventKind kind, std::int64_t ts_ns, std::uint32_t venue, std::uint64_t id,
              const RiskVerdict& v);

  std::vector<const SimVenue*> venues_;
  std::vector<VenueLimits> limits_;
  PortfolioLimits portfolio_;
  std::vector<std::vector<Live>> live_;            // by venue, ascending id
  std::vector<std::deque<std::int64_t>> sent_ns_;  // by venue: times of sends in the window
  std::vector<std::optional<Price>> last_trade_;
  std::vector<Shadow> shadows_;
  Int128 peak_ = 0;
  bool tripped_ = false;
  std::int64_t reset_ns_ = 0;
  bool killed_ = false;
  bool flattening_ = false;
  std::size_t flatten_from_fill_ = 0;
  std::unordered_set<std::uint64_t> flatten_orders_;
  std::unordered_set<std::uint64_t> kill_answers_;
  std::vector<SimRiskEvent> events_;
};

}  // namespace crossbook::sim
