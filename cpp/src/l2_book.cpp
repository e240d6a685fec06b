#include "crossbook/l2_book.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace crossbook {

namespace {
constexpr Price kMaxPrice = std::numeric_limits<Price>::max();

std::string side_name(bool is_bid) { return is_bid ? "bid" : "ask"; }
}  // namespace

// ---------------------------------------------------------------- BookSide

BookSide::BookSide(bool is_bid, std::uint32_t width, Price tick)
    : is_bid_(is_bid), tick_(tick), ladder_(is_bid, width, Slot{0, 0}) {
  if (tick < 1 || tick > max_tick())
    throw InvalidInput("tick must be in [1, " + std::to_string(max_tick()) + "], got " +
                       std::to_string(tick));
}

void BookSide::recentre(Price best, Price new_tick) {
  const Price old_tick = tick_;
  tick_ = new_tick;
  const Price best_q = best / tick_;
  const Price nb_q = ladder_.placement(best_q, kMaxPrice / tick_);
  const Price last_q = nb_q + static_cast<Price>(width() - 1);
  const Price lo = nb_q * tick_, hi = last_q * tick_;  // no overflowing intermediate
  ladder_.rebase(nb_q, [&](auto&& place) {
    far_.extract_range(lo, hi,
                       [&](const LevelEntry& e) { place(e.price / tick_, Slot{e.size, e.count}); });
    ladder_.for_each_live([&](std::uint32_t i, const Slot& s) {
      const Price p = ladder_.key_at(i) * old_tick;
      if (p >= lo && p <= hi)
        place(p / tick_, s);
      else
        far_.set(p, s.size, s.count);
    });
  });
  best_ = best;
  best_i_ = static_cast<std::uint32_t>(best_q - nb_q);
  has_best_ = true;
}

void BookSide::refine_tick(Price price) {
  const Price g = std::gcd(tick_, price);
  if (has_best_) {
    recentre(best_, g);  // every price present is a multiple of g
  } else {
    tick_ = g;
    ladder_.reset(0);  // an empty side's window is placed by its first level
  }
}

void BookSide::set_tick(Price tick) {
  if (tick < 1) throw InvalidInput("tick must be >= 1, got " + std::to_string(tick));
  // A hint too coarse for this window width (it shrinks as the window widens) is
  // dropped: the grid only ever matters for speed.
  if (tick > max_tick()) return;
  Price g = tick;
  for_each([&](const Level& l) {
    g = std::gcd(g, l.price);
    return true;
  });
  if (g == tick_) return;
  if (!has_best_) {
    tick_ = g;
    ladder_.reset(0);  // an empty side's window is placed by its first level
    return;
  }
  // A coarser grid: gather everything and re-insert; rare (a hint per snapshot).
  std::vector<Level> all;
  all.reserve(size());
  for_each([&](const Level& l) {
    all.push_back(l);
    return true;
  });
  clear();
  tick_ = g;
  ladder_.reset(0);
  for (const Level& l : all) set(l.price, l.size, l.count);
}

bool BookSide::note_far(Price q) {
  constexpr std::uint32_t kGrowth = 4, kCheckEvery = 4096;
  const Price bq = best_ / tick_;
  const Price dist = q > bq ? q - bq : bq - q;
  if (width() < kMaxWidth && dist < static_cast<Price>(width()) * kGrowth) ++far_near_;
  if (ops_ < kCheckEvery) return false;
  const bool grew = far_near_ * 4 > ops_ && grow();
  ops_ = far_near_ = 0;
  return grew;
}

bool BookSide::grow() {
  const std::uint32_t wider = width() * 4;
  if (wider > kMaxWidth || tick_ > kMaxTick / static_cast<Price>(wider)) return false;
  ladder_.set_width(wider);
  recentre(best_, tick_);  // moves every level from the old window into the wider one
  return true;
}

bool BookSide::set(Price price, Qty size, std::int32_t count) {
  ++ops_;
  Price q = price;
  if (tick_ != 1) {
    q = price / tick_;
    if (q * tick_ != price) {
      if (size == 0) return false;  // every level is on the grid: nothing here to remove
      refine_tick(price);
      q = price / tick_;
    }
  }
  if (ladder_.contains(q)) {
    const std::uint32_t i = ladder_.index(q);
    if (size > 0) {
      ladder_.put(i, Slot{size, count});
      if (!has_best_ || better(price, best_)) {
        best_ = price;
        best_i_ = i;
        has_best_ = true;
      }
      return true;
    }
    if (!ladder_.remove(i)) return false;
    if (price == best_) recompute_best();
    return true;
  }
  // A wider window may now hold this price: place it again from the top.
  if (has_best_ && note_far(q)) return set(price, size, count);
  if (size > 0) {
    far_.set(price, size, count);
    // Far levels are worse than the touch unless this one becomes the touch.
    if (!has_best_ || better(price, best_)) recentre(price, tick_);
    return true;
  }
  return far_.erase(price);
}

void BookSide::recompute_best() {
  const std::int64_t j = ladder_.next_worse(best_i_);
  if (j >= 0) {
    best_i_ = static_cast<std::uint32_t>(j);
    best_ = price_at(best_i_);
  } else if (!far_.empty()) {
    recentre(is_bid_ ? far_.back().price : far_.front().price, tick_);
  } else {
    has_best_ = false;
  }
}

void BookSide::clear() {
  ladder_.clear();
  far_.clear();
  has_best_ = false;
}

std::size_t BookSide::truncate(std::size_t n) {
  if (size() <= n) return 0;
  std::vector<Price> doomed;
  doomed.reserve(size() - n);
  std::size_t k = 0;
  for_each([&](const Level& l) {
    if (k++ >= n) doomed.push_back(l.price);
    return true;
  });
  // Worst first, so that the best level (and the window) stays put until n == 0.
  for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) set(*it, 0, 0);
  return doomed.size();
}

std::optional<Level> BookSide::level(Price price) const {
  if (in_window(price)) {
    const std::uint32_t i = ladder_.index(price / tick_);
    if (!ladder_.occupied(i)) return std::nullopt;
    return Level{price, ladder_[i].size, ladder_[i].count};
  }
  const LevelEntry* e = far_.find(price);
  if (!e) return std::nullopt;
  return Level{e->price, e->size, e->count};
}

std::size_t BookSide::depth(DepthRow* out, std::size_t n) const {
  std::size_t k = 0;
  if (n == 0) return 0;
  for_each([&](const Level& l) {
    write_depth_row(out + k++, l.price, l.size, l.count);
    return k < n;
  });
  return k;
}

Int128 BookSide::total_size(std::size_t n) const {
  Int128 total = 0;
  std::size_t k = 0;
  if (n == 0) return 0;
  for_each([&](const Level& l) {
    total += l.size;
    return ++k < n;
  });
  return total;
}

std::size_t BookSide::memory_bytes() const {
  return sizeof(*this) + ladder_.heap_bytes() + far_.memory_bytes();
}

bool BookSide::check_invariants() const {
  const std::string who = side_name(is_bid_);
  if (tick_ < 1 || tick_ > max_tick()) throw InvariantViolation(who + ": tick out of range");
  const Price base_q = ladder_.base();
  if (base_q < 0 || base_q > kMaxPrice / tick_ - static_cast<Price>(width() - 1))
    throw InvariantViolation(who + ": ladder window out of range");
  std::uint32_t counted = 0;
  for (std::uint32_t i = 0; i < ladder_.span(); ++i) {
    if (!ladder_.occupied(i)) continue;
    ++counted;
    if (ladder_[i].size <= 0) throw InvariantViolation(who + ": live ladder slot with size <= 0");
    if (has_best_ && better(price_at(i), best_))
      throw InvariantViolation(who + ": ladder level better than the cached best");
  }
  if (counted != ladder_.live()) throw InvariantViolation(who + ": live count out of step with bitmap");
  if (!far_.check()) throw InvariantViolation(who + ": far levels unsorted or index out of step");
  far_.for_each(false, [&](const LevelEntry& e) {
    if (e.price % tick_ != 0) throw InvariantViolation(who + ": far level off the tick grid");
    if (in_window(e.price)) throw InvariantViolation(who + ": far level inside the window");
    return true;
  });
  if (size() == 0) {
    if (has_best_) throw InvariantViolation(who + ": empty side with a best price");
    return true;
  }
  if (!has_best_) throw InvariantViolation(who + ": non-empty side without a best price");
  if (!in_window(best_) || !ladder_.occupied(ladder_.index(best_ / tick_)))
    throw InvariantViolation(who + ": best price not a live ladder level");
  if (price_at(best_i_) != best_) throw InvariantViolation(who + ": cached best slot out of step");
  if (!far_.empty()) {
    const Price nearest = is_bid_ ? far_.back().price : far_.front().price;
    if (!better(best_, nearest))
      throw InvariantViolation(who + ": far level better than the touch");
  }
  return true;
}

// ---------------------------------------------------------------- L2Book

L2Book::L2Book(int price_exp, int size_exp, Price tick)
    : price_exp_(price_exp),
      size_exp_(size_exp),
      bids_(true, BookSide::kDefaultWidth, tick),
      asks_(false, BookSide::kDefaultWidth, tick) {
  check_exponent(price_exp, "price_exp");
  check_exponent(size_exp, "size_exp");
}

void L2Book::set_tick(Price tick) {
  bids_.set_tick(tick);
  asks_.set_tick(tick);
}

bool L2Book::update(Side side, Price price, Qty size, std::int32_t count) {
  if (price < 0) throw InvalidInput("price must be >= 0, got " + std::to_string(price));
  if (size < 0) throw InvalidInput("size must be >= 0, got " + std::to_string(size));
  if (count < 0) throw InvalidInput("count must be >= 0, got " + std::to_string(count));
  BookSide& s = side == Side::Bid ? bids_ : asks_;
  const bool found = s.set(price, size, count);
  unknown_deletes_ += found ? 0 : 1;
  return found;
}

void L2Book::check_event(const LevelEvent& e, std::size_t index, const char* note) const {
  // The message is built only on failure: this runs once per event of every batch.
  auto fail = [&](const std::string& what) {
    throw InvalidInput("event " + std::to_string(index) + ": " + what + note);
  };
  if (e.action < static_cast<std::uint8_t>(Action::Add) ||
      e.action > static_cast<std::uint8_t>(Action::Clear))
    fail("unknown action " + std::to_string(e.action));
  if (e.action == static_cast<std::uint8_t>(Action::Clear)) {
    if (e.side != 0 && !valid_side(e.side)) fail("unknown side " + std::to_string(e.side));
    return;
  }
  if (!valid_side(e.side)) fail("unknown side " + std::to_string(e.side));
  if (e.price < 0) fail("price must be >= 0, got " + std::to_string(e.price));
  if (e.size < 0) fail("size must be >= 0, got " + std::to_string(e.size));
  if (e.count < 0) fail("count must be >= 0, got " + std::to_string(e.count));
}

void L2Book::apply_one(const LevelEvent& e) {
  const auto action = static_cast<Action>(e.action);
  if (action == Action::Clear) {
    if (e.side != static_cast<std::uint8_t>(Side::Ask)) bids_.clear();
    if (e.side != static_cast<std::uint8_t>(Side::Bid)) asks_.clear();
    return;
  }
  BookSide& s = e.side == static_cast<std::uint8_t>(Side::Bid) ? bids_ : asks_;
  const Qty size = action == Action::Delete ? 0 : e.size;
  unknown_deletes_ += s.set(e.price, size, e.count) ? 0 : 1;
}

void L2Book::apply(const LevelEvent* events, std::size_t n, BboRow* bbo_out) {
  for (std::size_t i = 0; i < n; ++i) check_event(events[i], i);
  if (bbo_out) {
    for (std::size_t i = 0; i < n; ++i) {
      apply_one(recheck(events, i));
      bbo_out[i] = bbo();
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) apply_one(recheck(events, i));
  }
}

// The first pass alone would let a thread that writes to the buffer meanwhile
// put an unchecked value into the book.
LevelEvent L2Book::recheck(const LevelEvent* events, std::size_t i) const {
  const LevelEvent e = events[i];
  check_event(e, i, " (changed while the batch ran; the events before it were applied)");
  return e;
}

void L2Book::load_snapshot(const DepthRow* bids, std::size_t nb, const DepthRow* asks,
                           std::size_t na) {
  auto check = [](const DepthRow* rows, std::size_t n, const char* what) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::string at = std::string(what) + " row " + std::to_string(i) + ": ";
      if (rows[i].price < 0)
        throw InvalidInput(at + "price must be >= 0, got " + std::to_string(rows[i].price));
      if (rows[i].size <= 0)
        throw InvalidInput(at + "snapshot size must be > 0, got " + std::to_string(rows[i].size));
      if (rows[i].count < 0)
        throw InvalidInput(at + "count must be >= 0, got " + std::to_string(rows[i].count));
    }
  };
  check(bids, nb, "bids");
  check(asks, na, "asks");
  clear();
  for (std::size_t i = 0; i < nb; ++i) bids_.set(bids[i].price, bids[i].size, bids[i].count);
  for (std::size_t i = 0; i < na; ++i) asks_.set(asks[i].price, asks[i].size, asks[i].count);
}

void L2Book::clear() {
  bids_.clear();
  asks_.clear();
}

BboRow L2Book::bbo() const {
  BboRow r{0, 0, 0, 0};
  if (!bids_.empty()) {
    r.bid_price = bids_.best_price();
    r.bid_size = bids_.best_size();
  }
  if (!asks_.empty()) {
    r.ask_price = asks_.best_price();
    r.ask_size = asks_.best_size();
  }
  return r;
}

std::optional<double> L2Book::mid() const {
  if (bids_.empty() || asks_.empty()) return std::nullopt;
  const Int128 twice = Int128{bids_.best_price()} + asks_.best_price();
  return static_cast<double>(static_cast<long double>(twice) / 2);
}

std::optional<Price> L2Book::spread() const {
  if (bids_.empty() || asks_.empty()) return std::nullopt;
  return asks_.best_price() - bids_.best_price();  // both >= 0, cannot overflow
}

std::optional<double> L2Book::microprice() const {
  if (bids_.empty() || asks_.empty()) return std::nullopt;
  const long double bp = bids_.best_price(), ap = asks_.best_price();
  const long double bs = bids_.best_size(), as = asks_.best_size();
  return static_cast<double>((bp * as + ap * bs) / (bs + as));
}

std::optional<double> L2Book::imbalance(std::size_t n) const {
  const Int128 b = bids_.total_size(n), a = asks_.total_size(n);
  if (a + b == 0) return std::nullopt;
  return static_cast<double>(static_cast<long double>(b - a) / static_cast<long double>(b + a));
}

FillEstimate L2Book::cost_to_fill(Side book_side, Qty size) const {
  if (size <= 0) throw InvalidInput("size to fill must be > 0, got " + std::to_string(size));
  FillEstimate f;
  side(book_side).for_each([&](const Level& l) {
    const Qty take = std::min(size - f.filled, l.size);
    f.filled += take;
    f.notional += Int128{l.price} * take;
    f.worst_price = l.price;
    return f.filled < size;
  });
  return f;
}

std::size_t L2Book::memory_bytes() const {
  return sizeof(*this) - 2 * sizeof(BookSide) + bids_.memory_bytes() + asks_.memory_bytes();
}

void L2Book::check_invariants() const {
  bids_.check_invariants();
  asks_.check_invariants();
}

}  // namespace crossbook
