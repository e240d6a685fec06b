// Plain value types shared by the core and the bindings. The numpy dtypes in
// src/crossbook/dtypes.py mirror these structs field for field; the bindings
// check that the two agree, so change both together.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace crossbook {

using Price = std::int64_t;  // integer mantissa, real value = price * 10^-price_exp
using Qty = std::int64_t;    // integer mantissa, real value = size * 10^-size_exp
// Sums of products of mantissas (notionals) do not fit in 64 bits.
__extension__ using Int128 = __int128;

enum class Side : std::uint8_t { Bid = 1, Ask = 2 };

// Same numbering as nautilus_trader's BookAction, so conversions are trivial.
enum class Action : std::uint8_t { Add = 1, Update = 2, Delete = 3, Clear = 4 };

namespace flags {
inline constexpr std::uint16_t kLast = 1u << 0;      // last event of a venue message
inline constexpr std::uint16_t kSnapshot = 1u << 1;  // event belongs to a snapshot
}  // namespace flags

struct LevelEvent {
  std::int64_t ts_exchange_ns;
  std::int64_t ts_recv_ns;
  Price price;
  Qty size;
  std::int32_t count;  // orders at the level, 0 when the venue does not say
  std::uint8_t side;
  std::uint8_t action;
  std::uint16_t flags;
};
static_assert(sizeof(LevelEvent) == 40, "LevelEvent layout is part of the numpy contract");

struct DepthRow {
  Price price;
  Qty size;
  std::int32_t count;
};
static_assert(sizeof(DepthRow) == 24, "DepthRow layout is part of the numpy contract");

// Best bid and ask after an event. A side with no level has size 0 (and price 0):
// a level of size 0 cannot exist, so the size says whether the price means anything.
struct BboRow {
  Price bid_price;
  Qty bid_size;
  Price ask_price;
  Qty ask_size;
};
static_assert(sizeof(BboRow) == 32, "BboRow layout is part of the numpy contract");

namespace feature_flags {
inline constexpr std::uint32_t kTwoSided = 1u << 0;  // both sides have a level
}  // namespace feature_flags

// Book features after an event (L2Book::apply). Integers where the quantity is
// exact: twice the mid (bid + ask never exceeds 2^64 - 2, so it fits unsigned),
// the spread, and the event's order-flow imbalance at the touch (Cont, Kukanov
// and Stoikov 2014) as its bid and ask parts. Floats only for the ratios.
struct BookFeatures {
  std::uint64_t mid_x2;  // best bid + best ask (half-ticks); 0 unless two-sided
  Price spread;          // best ask - best bid, negative when crossed; 0 unless two-sided
  double microprice;     // (bid * A + ask * B) / (A + B), B and A the top-n sizes; NaN unless two-sided
  double imbalance;      // (B - A) / (B + A) over the top n levels; NaN when both are empty
  std::int64_t ofi;      // ofi_bid - ofi_ask
  Qty ofi_bid;           // bid side's flow: + size arriving at or above the old best, - size leaving
  Qty ofi_ask;           // ask side's flow, same sign convention (ofi subtracts it)
  std::uint32_t flags;   // feature_flags
  std::uint32_t reserved;
};
static_assert(sizeof(BookFeatures) == 64, "BookFeatures layout is part of the numpy contract");

// Thrown for input the book refuses; the bindings turn it into ValueError.
class InvalidInput : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Thrown by check_invariants(): a bug in the core, never bad input.
class InvariantViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Decimal exponents a book accepts: an int64 mantissa holds at most 18 full
/// digits, so a scale beyond 10^+-18 cannot carry one meaningful digit of it
/// (and would make a value's text absurdly long).
inline constexpr int kMinExp = -18;
inline constexpr int kMaxExp = 18;

/// Throws InvalidInput naming `what` when exp is outside [kMinExp, kMaxExp].
inline void check_exponent(int exp, const char* what) {
  if (exp < kMinExp || exp > kMaxExp)
    throw InvalidInput(std::string(what) + " must be in [" + std::to_string(kMinExp) + ", " +
                       std::to_string(kMaxExp) + "], got " + std::to_string(exp));
}

/// Zero-filled DepthRow: the struct has 4 padding bytes, which would otherwise
/// reach the caller's numpy array uninitialised.
inline void write_depth_row(DepthRow* out, Price price, Qty size, std::int32_t count) {
  std::memset(out, 0, sizeof(DepthRow));
  out->price = price;
  out->size = size;
  out->count = count;
}

inline bool valid_side(std::uint8_t s) {
  return s == static_cast<std::uint8_t>(Side::Bid) || s == static_cast<std::uint8_t>(Side::Ask);
}

}  // namespace crossbook
