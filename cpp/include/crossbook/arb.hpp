// Cross-venue arbitrage on L2 books of one instrument: the best trade between
// two books after taker fees, and a streaming scanner that tracks how long
// each such opportunity lasts. All money arithmetic is exact (integers); the
// only floating-point values are the edges in bps, derived at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "crossbook/l2_book.hpp"
#include "crossbook/types.hpp"

namespace crossbook {

// Fees are integers in hundredths of a basis point ("centi-bps"): 7.5 bps = 750,
// so the fee fraction is fee / kFeeDenominator. Every published fee schedule we
// know of is a whole number of centi-bps, and the denominator is a power of ten,
// so pnl stays a decimal number. A negative fee is a rebate.
using FeeCbps = std::int32_t;
inline constexpr std::int64_t kFeeDenominator = 1'000'000;
/// Fees must lie in (-kFeeDenominator, kFeeDenominator): a fee of 100% or more
/// makes buying free or selling worthless, which no venue charges.
inline constexpr FeeCbps kMaxFeeCbps = static_cast<FeeCbps>(kFeeDenominator - 1);

/// The most profitable trade between two books: buy on one, sell on the other.
///
/// Units: prices and sizes are mantissas of the books' exponents; notionals
/// are in units of 10^-(price_exp + size_exp) of the quote currency; pnl is
/// pnl_num / kFeeDenominator in those same units, exactly.
struct Opportunity {
  Qty size = 0;               // largest size whose every unit profits after both fees
  Int128 buy_notional = 0;    // sum of ask price * size taken on the buy book
  Int128 sell_notional = 0;   // sum of bid price * size taken on the sell book
  Price buy_price = 0;        // worst (highest) ask taken
  Price sell_price = 0;       // worst (lowest) bid taken
  // sell_notional * (D - fee_sell) - buy_notional * (D + fee_buy), D = kFeeDenominator.
  Int128 pnl_num = 0;
  // pnl / buy_notional in bps, i.e. pnl_num / (100 * buy_notional) rounded;
  // +inf when buy_notional is 0 (asks at price 0).
  double edge_bps = 0;

  bool operator==(const Opportunity& o) const {
    return size == o.size && buy_notional == o.buy_notional &&
           sell_notional == o.sell_notional && buy_price == o.buy_price &&
           sell_price == o.sell_price && pnl_num == o.pnl_num && edge_bps == o.edge_bps;
  }
  bool operator!=(const Opportunity& o) const { return !(*this == o); }
};

/// Buys on `buy_book`'s asks and sells on `sell_book`'s bids, best levels
/// first, while the next unit still profits after both taker fees:
/// bid * (D - fee_sell) > ask * (D + fee_buy), compared exactly. A unit that
/// exactly breaks even is not taken. Returns nullopt when not even one unit
/// profits (or max_size is 0).
///
/// Preconditions: both books have the same price_exp and size_exp, fees in
/// [-kMaxFeeCbps, kMaxFeeCbps], max_size >= 0; InvalidInput otherwise. The size
/// never exceeds either side's displayed depth nor INT64_MAX; InvalidInput
/// also if the exact pnl would not fit in 128 bits (notionals beyond ~1e32).
/// Cost: O(levels crossed + 1) per side, plus one allocation for scratch.
std::optional<Opportunity> best_opportunity(const L2Book& buy_book, const L2Book& sell_book,
                                            FeeCbps fee_buy_cbps, FeeCbps fee_sell_cbps,
                                            std::optional<Qty> max_size = std::nullopt);

// ------------------------------------------------------------ streaming scanner

/// Input of ArbScanner::process: a LevelEvent (same first 40 bytes, same
/// meaning) plus the index of the book it belongs to. Besides the four level
/// actions, `action` may be one of ScanAction, which carry no level.
struct ScanEvent {
  std::int64_t ts_exchange_ns;
  std::int64_t ts_recv_ns;  // the scanner's clock: staleness and lifetimes use it
  Price price;
  Qty size;
  std::int32_t count;
  std::uint8_t side;
  std::uint8_t action;
  std::uint16_t flags;    // flags::kLast ends a venue message
  std::uint32_t book;     // index into the scanner's books
  std::uint32_t reserved; // must be 0 (room to grow without changing the dtype)
};
static_assert(sizeof(ScanEvent) == 48, "ScanEvent layout is part of the numpy contract");

/// Actions of ScanEvent beyond Action (which stops at 4).
enum class ScanAction : std::uint8_t {
  Synced = 16,     // the sync layer trusts this book again
  Unsynced = 17,   // gap, checksum mismatch, reconnect...: stop trusting it
  Heartbeat = 18,  // the feed is alive though the book did not change
};

enum class OpportunityKind : std::uint8_t { Opened = 1, Updated = 2, Closed = 3 };
enum class CloseReason : std::uint8_t {
  None = 0,      // OPENED / UPDATED
  Gone = 1,      // the books no longer cross after fees
  Unsynced = 2,  // one of the books was marked unsynced
  Stale = 3,     // one of the books went max_age_ns without an event
  Flushed = 4,   // ArbScanner::flush (end of a replay)
};

/// Output of ArbScanner: one change of an opportunity on an ordered pair
/// (buy_book, sell_book). Opportunity fields hold the state after the change;
/// on CLOSED, the last state before it closed. UPDATED is written only when
/// size or edge_bps changed (pnl and prices may move with them). Int128
/// values are split into a signed high and an unsigned low 64-bit word:
/// value = hi * 2^64 + lo.
struct OpportunityEvent {
  std::int64_t ts_ns;         // 0: when it happened (CLOSED by staleness: when the book expired)
  std::int64_t open_ts_ns;    // 8
  std::int64_t duration_ns;   // 16: ts_ns - open_ts_ns
  Qty size;                   // 24
  Price buy_price;            // 32: worst ask taken
  Price sell_price;           // 40: worst bid taken
  Qty peak_size;              // 48: over the lifetime so far
  double edge_bps;            // 56
  double peak_edge_bps;       // 64
  std::uint64_t pnl_num_lo;   // 72: pnl = pnl_num / kFeeDenominator
  std::int64_t pnl_num_hi;    // 80
  std::uint64_t buy_notional_lo;   // 88
  std::int64_t buy_notional_hi;    // 96
  std::uint64_t sell_notional_lo;  // 104
  std::int64_t sell_notional_hi;   // 112
  std::uint32_t buy_book;     // 120
  std::uint32_t sell_book;    // 124
  std::uint8_t kind;          // 128: OpportunityKind
  std::uint8_t reason;        // 129: CloseReason
  std::uint16_t reserved0;    // 130
  std::uint32_t reserved1;    // 132
};
static_assert(sizeof(OpportunityEvent) == 136, "OpportunityEvent layout is part of the numpy contract");

/// When the scanner looks for opportunities after a level event.
enum class ScanMode : std::uint8_t {
  EveryEvent = 0,  // after every event: sees transient states inside a message
  MessageEnd = 1,  // only after an event flagged kLast (a snapshot's Clear + Adds is one step)
};

inline constexpr std::int64_t kNoMaxAge = std::numeric_limits<std::int64_t>::max();

struct ScannerConfig {
  int price_exp = 0;  // shared by every book: convert contract sizes and quoting first
  int size_exp = 0;
  std::vector<FeeCbps> taker_fee_cbps;  // one per book; its length is the number of books
  std::vector<Price> ticks;             // tick hint per book; empty means 1 for every book
  std::int64_t max_age_ns = kNoMaxAge;  // a book is stale once now - last event >= this
  std::optional<Qty> max_size;          // caps every opportunity's size
  ScanMode mode = ScanMode::EveryEvent;
};

struct ScanResult {
  std::size_t consumed = 0;  // events applied; the caller resumes from there
  std::size_t emitted = 0;   // OpportunityEvents written to out
};

/// Many books of one instrument (one per venue), owned here, and the
/// opportunities between every ordered pair of them. After every event
/// (EveryEvent) or every message end (MessageEnd), each pair's open
/// opportunity equals best_opportunity() on its books with the scanner's
/// fees and max_size when both books are usable (synced and not stale), and
/// there is none otherwise. With messages of several books interleaved in
/// MessageEnd mode this holds again once no message is half-applied.
///
/// An event on book i re-walks a pair only if it can change it: an ask change
/// at price p matters to (i buys, j sells) only if p profits against j's best
/// bid, since no worse ask is ever taken; likewise for bids. That check is
/// O(1) per other book, so an event costs O(books) plus the walks it triggers.
/// Memory is O(books^2) pair states: meant for tens of venues, at most kMaxBooks.
///
/// Time is ts_recv_ns, never exchange time: staleness is about what this
/// process has heard. Every event, status events included, refreshes its book.
class ArbScanner {
 public:
  static constexpr std::size_t kMaxBooks = 256;

  /// Books start empty and synced (a replay of normalized, already-synced
  /// events needs no status events). Throws InvalidInput for no books, more
  /// than kMaxBooks, fees out of range, a ticks list of the wrong length, a
  /// bad tick, max_age_ns < 0 or max_size < 0.
  explicit ArbScanner(ScannerConfig config);

  /// Applies events in order, updating books and opportunities, and writes
  /// every opportunity change to `out`, in time order. Stops early, losing
  /// nothing, when the room left in `out` could be too small for the next
  /// event; call again from events + consumed after draining. Validates the
  /// whole batch first and throws InvalidInput naming the first bad event,
  /// changing nothing. Preconditions: out_cap >= max_events_per_input() when
  /// n > 0. Cost: O(books) per event plus the walks of the pairs it can change.
  /// If an exact pnl would overflow 128 bits (see best_opportunity) it throws
  /// InvalidInput naming the event, which is then applied but not scanned:
  /// discard the scanner (its exponents are wrong for the data). Each event is
  /// checked again from the copy that is applied, so a buffer another thread
  /// writes during the call throws InvalidInput there instead of reaching a book.
  ScanResult process(const ScanEvent* events, std::size_t n, OpportunityEvent* out,
                     std::size_t out_cap);

  /// Shorthand for process() of one Synced/Unsynced event.
  ScanResult set_synced(std::size_t book, bool synced, std::int64_t ts_ns, OpportunityEvent* out,
                        std::size_t out_cap);

  /// Closes open opportunities (reason Flushed) at max(ts_ns, now()), at most
  /// out_cap of them; returns how many. Call until 0 to close all (end of a
  /// replay). The books keep their levels. O(books^2).
  std::size_t flush(std::int64_t ts_ns, OpportunityEvent* out, std::size_t out_cap);

  /// The most events one input event can produce: (books + 2) * (books - 1).
  std::size_t max_events_per_input() const { return (n_ + 2) * (n_ - 1); }

  std::size_t num_books() const { return n_; }
  const L2Book& book(std::size_t i) const { return books_.at(i).book; }
  FeeCbps fee_cbps(std::size_t i) const { return books_.at(i).fee; }
  bool synced(std::size_t i) const { return books_.at(i).synced; }
  /// Whether book i is synced and had an event less than max_age_ns before now().
  bool usable(std::size_t i) const { return usable_at(books_.at(i), now_); }
  /// The latest ts_recv_ns seen (the clock never goes back).
  std::int64_t now() const { return now_; }
  const ScannerConfig& config() const { return config_; }

  /// The open opportunity buying on `buy` and selling on `sell`, if any. O(1).
  std::optional<Opportunity> open_opportunity(std::size_t buy, std::size_t sell) const;
  std::size_t open_count() const { return open_count_; }

 private:
  struct BookState {
    L2Book book;
    FeeCbps fee;
    bool synced = true;
    bool any_event = false;
    std::int64_t last_ns = 0;
    std::uint32_t open_pairs = 0;  // open pairs this book is part of
    // Changes not yet scanned: until the message ends in MessageEnd mode,
    // until the end of the same event in EveryEvent mode.
    bool dirty_all = false;
    Price dirty_ask_min = std::numeric_limits<Price>::max();
    Price dirty_bid_max = -1;
    bool pending() const {
      return dirty_all || dirty_ask_min != std::numeric_limits<Price>::max() || dirty_bid_max >= 0;
    }
  };
  struct PairState {
    bool open = false;
    std::int64_t open_ts_ns = 0;
    Opportunity opp;
    double peak_edge_bps = 0;
    Qty peak_size = 0;
  };
  struct Out {
    OpportunityEvent* buf;
    std::size_t cap;
    std::size_t n = 0;
  };

  bool usable_at(const BookState& b, std::int64_t now) const;
  std::int64_t expiry(const BookState& b) const;
  void check_event(const ScanEvent& e, std::size_t index) const;
  void step(const ScanEvent& e, Out& out);
  void expire_stale(Out& out);
  void mark_dirty(BookState& b, const ScanEvent& e);
  void rescan(std::size_t i, Out& out);
  void evaluate(std::size_t buy, std::size_t sell, Out& out);
  void close_pairs_of(std::size_t i, std::int64_t ts, CloseReason why, Out& out);
  void close(std::size_t buy, std::size_t sell, std::int64_t ts, CloseReason why, Out& out);
  void emit(std::size_t buy, std::size_t sell, const PairState& p, std::int64_t ts,
            OpportunityKind kind, CloseReason why, Out& out);
  PairState& pair(std::size_t buy, std::size_t sell) { return pairs_[buy * n_ + sell]; }

  ScannerConfig config_;
  std::size_t n_;
  std::vector<BookState> books_;
  std::vector<PairState> pairs_;
  std::size_t open_count_ = 0;
  std::int64_t now_ = std::numeric_limits<std::int64_t>::min();
  std::vector<Level> scratch_;  // ask levels of a walk, kept so that walks do not allocate
};

}  // namespace crossbook
