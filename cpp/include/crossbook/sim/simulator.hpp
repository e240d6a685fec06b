// The execution simulator's event loop: N simulated venues, their recorded
// feeds merged by receive time, and the strategy's requests and the venues'
// answers in flight between them.
//
// One timeline, in local receive time. A feed row changes its venue's book at
// its ts_recv_ns, which is also when the strategy sees it (the recording's own
// exchange-to-receive delay is the feed latency). A request made at `now`
// reaches its venue after the venue's entry latency and meets the book as
// received by then; every answer reaches the strategy after the response latency.
// Each venue is one connection, so nothing overtakes on it: a request arrives
// at max(decision + entry delay, the previous request's arrival there), and an
// answer at max(sent + response delay, the previous answer's delivery from there).
//
// Tie-break at equal timestamps, so that a run is reproducible: feed rows
// first (by venue index; within a venue trades before level rows, because a
// venue's depth update usually reflects the trade it follows, and in input
// order), then request arrivals, then answers, then timers; within each class
// in the order they were created.
//
// The loop is pulled, not pushed: advance() runs in C++ until the next event
// the strategy subscribed to and returns it, so the caller (Python or C++)
// never re-enters the loop from a callback, and a live venue can stand behind
// the same request/answer interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <vector>

#include "crossbook/sim/fee_model.hpp"
#include "crossbook/sim/latency_model.hpp"
#include "crossbook/sim/queue_model.hpp"
#include "crossbook/sim/risk.hpp"
#include "crossbook/sim/types.hpp"
#include "crossbook/sim/venue.hpp"

namespace crossbook::sim {

struct VenueSpec {
  int price_exp = 0;
  int size_exp = 0;
  Price tick = 1;
  bool synced = true;  // until the feed says otherwise with a kActionUnsynced row
  std::unique_ptr<LatencyModel> latency;
  std::unique_ptr<FeeModel> fees;
  std::unique_ptr<QueueModel> queue;
};

enum class EventKind : std::uint8_t { Book = 1, Trade = 2, Order = 3, Fill = 4, Timer = 5, Touch = 6 };

/// Subscription bits: which events advance() stops at.
namespace subscribe {
inline constexpr std::uint32_t kBook = 1u << 0;   // level rows that end a venue message (flags::kLast), and sync rows
inline constexpr std::uint32_t kTrade = 1u << 1;
inline constexpr std::uint32_t kOrder = 1u << 2;  // every answer but fills
inline constexpr std::uint32_t kFill = 1u << 3;
inline constexpr std::uint32_t kTimer = 1u << 4;
/// Where kBook would stop, but only when the venue's touch (touch()) differs
/// from the one last reported: a price or size at the best bid or ask, or the
/// venue's sync (an unsynced venue's touch is empty).
inline constexpr std::uint32_t kTouch = 1u << 5;
}  // namespace subscribe

struct SimEvent {
  EventKind kind;
  std::int64_t ts_ns;
  std::uint32_t venue;
  std::size_t index;  // Book/Trade/Touch: row in that venue's stream; Order/Fill: response index; Timer: timer id
};

struct NewOrder {
  std::uint32_t venue;
  Side side;
  OrderType type;
  TimeInForce tif;
  bool post_only;
  Price price;  // ignored for a market or stop-market order
  Qty size;
  Price trigger_price = 0;  // stop orders only
};

class Simulator {
 public:
  /// Throws InvalidInput for a venue spec without its models.
  explicit Simulator(std::vector<VenueSpec> venues);

  std::size_t num_venues() const { return venues_.size(); }
  /// Appends recorded rows of one venue (copied). Every row is checked first;
  /// receive times must not go back, within the rows or behind what was added
  /// before or behind now(), and must be later than the last event processed
  /// (else the row would run after events of its own time, against the
  /// tie-break). Throws InvalidInput naming the first bad row.
  void add_levels(std::size_t venue, const LevelEvent* rows, std::size_t n);
  void add_trades(std::size_t venue, const TradeEvent* rows, std::size_t n);
  void set_subscriptions(std::uint32_t mask) { subscriptions_ = mask; }
  /// Replaces a venue's latency model (from the next request or answer on).
  /// Throws InvalidInput for a null model.
  void set_latency(std::size_t venue, std::unique_ptr<LatencyModel> model);

  /// Risk limits (risk.hpp), before the run: throws InvalidInput once an
  /// order was made or an event ran, or for limits configure() refuses.
  void configure_risk(std::vector<VenueLimits> venues, PortfolioLimits portfolio);
  /// The kill switch, pulled now (see risk.hpp).
  void kill(bool flatten);
  const RiskEngine& risk() const { return risk_; }
  /// Turns on market impact at `venue` (impact_model.hpp) for the orders that arrive from now on.
  void set_impact(std::size_t venue, std::unique_ptr<LinearDecayImpact> impact) {
    venues_.at(venue).venue.set_impact(std::move(impact));
  }

  /// Requests decided at now(). Invalid arguments throw InvalidInput; what
  /// the risk engine or the venue refuses comes back as an answer with a Reason.
  std::uint64_t submit(const NewOrder& order);
  void cancel(std::uint64_t order_id);
  /// New price and open size (> 0) of a resting limit order (a stop-limit
  /// order once triggered; while it waits, the venue refuses with StopWaiting).
  void modify(std::uint64_t order_id, Price price, Qty leaves);
  /// An event of kind Timer at `ts_ns` (>= now()); returns its id.
  std::uint64_t set_timer(std::int64_t ts_ns);

  /// Processes events in time order up to `until_ns` and returns the first the
  /// strategy subscribed to; nullopt when none is left up to `until_ns`, and
  /// now() then becomes max(now(), until_ns). A row of the venue message just
  /// run costs O(1); finding the next message costs O(venues).
  /// A row that is both a Book and a Touch event returns Book, then Touch at
  /// the next call, before anything else runs.
  std::optional<SimEvent> advance(std::int64_t until_ns);
  /// Time of the next event of any kind; nullopt when nothing is pending.
  std::optional<std::int64_t> next_ts() const;

  std::int64_t now() const { return now_ns_; }
  /// The touch of `venue` as last reported by a Touch event (both sides empty
  /// before the first): size 0 marks an empty side, as in L2Book::bbo().
  const BboRow& touch(std::size_t venue) const { return touches_.at(venue); }
  const Ledger& ledger() const { return ledger_; }
  const std::vector<SimResponse>& responses() const { return responses_; }
  const SimVenue& venue(std::size_t i) const { return venues_.at(i).venue; }
  const LevelEvent& level_row(std::size_t venue, std::size_t i) const { return feeds_.at(venue).levels.at(i); }
  const TradeEvent& trade_row(std::size_t venue, std::size_t i) const { return feeds_.at(venue).trades.at(i); }

 private:
  enum class Task : std::uint8_t { New, Cancel, Modify, Deliver, Timer, KillCancel, RiskReset };
  struct Pending {
    std::int64_t ts_ns;
    std::uint8_t cls;  // 0 breaker reset, 1 arrival, 2 answer, 3 timer: the tie-break after the time
    std::uint64_t seq;
    Task task;
    std::uint32_t venue;
    std::uint64_t id;  // order id, response index or timer id
    Price price;
    Qty size;
    bool operator>(const Pending& o) const {
      if (ts_ns != o.ts_ns) return ts_ns > o.ts_ns;
      if (cls != o.cls) return cls > o.cls;
      return seq > o.seq;
    }
  };
  struct Feed {
    std::vector<LevelEvent> levels;
    std::vector<TradeEvent> trades;
    std::size_t next_level = 0;
    std::size_t next_trade = 0;
  };
  struct Slot {
    SimVenue venue;
    std::unique_ptr<LatencyModel> latency;
    std::int64_t last_arrival_ns = INT64_MIN;   // of the requests to this venue
    std::int64_t last_delivery_ns = INT64_MIN;  // of the answers from it
  };
  struct FeedPick {
    std::int64_t ts_ns;
    std::size_t venue;
    bool trade;
  };

  /// The feed row to run next: the least (ts, venue, trades first) over the streams.
  std::optional<FeedPick> next_feed() const;
  std::optional<SimEvent> run_feed(const FeedPick& pick);
  /// A Touch event when the venue's touch changed since it was last reported.
  std::optional<SimEvent> touch_event(std::uint32_t venue, std::size_t row);
  std::optional<SimEvent> run_pending(const Pending& p);
  void request(Task task, std::uint32_t venue, std::uint64_t id, Price price, Qty size);
  /// Gives the venues' new answers their delivery times.
  void post_outbox() {
    if (!ledger_.outbox.empty()) post_answers();
  }
  void post_answers();
  std::int64_t later(std::int64_t ts_ns, std::int64_t delay_ns) const;
  void check_time(std::int64_t ts_ns, std::int64_t last_ns, std::size_t index, const char* what) const;
  /// Checks every row (row checks, then times) before appending any: all or nothing.
  template <class Row, class Check>
  void append_rows(std::vector<Row>& dst, const Row* rows, std::size_t n, Check check, const char* what);
  SimOrder& known_order(std::uint64_t id);
  // The risk engine's side of the loop (simulator_risk.cpp).
  /// Answers a request refused at the desk: delivered at now, no latency.
  void local_answer(const SimOrder& o, ResponseKind kind, Reason reason);
  /// Runs after each event: the fills' equity checks and flatten orders, and
  /// after a kill drops the events the strategy no longer hears.
  std::optional<SimEvent> after_event(std::optional<SimEvent> ev);
  void breach(const RiskVerdict& why);
  void kill_now(bool flatten, const RiskVerdict& why);
  void send_flatten(std::uint32_t venue, Side side, Qty size);

  std::vector<Slot> venues_;
  std::vector<Feed> feeds_;
  std::vector<BboRow> touches_;
  // The pick after the last feed row run, while it is known without a scan: a
  // venue message's rows share one receive time, and the stream that ran the
  // least key still holds it while its next row has the same time.
  std::optional<FeedPick> pick_;
  bool pick_known_ = false;
  std::optional<SimEvent> deferred_;  // a Touch event owed after a Book event
  Ledger ledger_;
  std::vector<SimResponse> responses_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> pending_;
  std::uint64_t seq_ = 0;
  std::uint64_t timers_ = 0;
  std::uint32_t subscriptions_ = 0;
  std::int64_t now_ns_ = 0;
  std::int64_t last_event_ns_ = INT64_MIN;  // time of the last event processed
  RiskEngine risk_;
  std::size_t fills_seen_ = 0;  // fills the risk engine has been shown
};

}  // namespace crossbook::sim
