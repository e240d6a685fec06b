#include "conversions.hpp"

#include <cstdlib>

namespace crossbook::bindings {

void register_dtypes() {
  PYBIND11_NUMPY_DTYPE(LevelEvent, ts_exchange_ns, ts_recv_ns, price, size, count, side, action,
                       flags);
  PYBIND11_NUMPY_DTYPE(DepthRow, price, size, count);
  PYBIND11_NUMPY_DTYPE(BboRow, bid_price, bid_size, ask_price, ask_size);
}

py::int_ int128_to_py(Int128 v) {
  const bool neg = v < 0;
  // Magnitude as unsigned so that the most negative value does not overflow.
  unsigned __int128 mag = neg ? static_cast<unsigned __int128>(0) - static_cast<unsigned __int128>(v)
                              : static_cast<unsigned __int128>(v);
  const auto hi = static_cast<std::uint64_t>(mag >> 64);
  const auto lo = static_cast<std::uint64_t>(mag);
  py::int_ out = py::int_(hi);
  out = py::reinterpret_steal<py::int_>(PyNumber_Lshift(out.ptr(), py::int_(64).ptr()));
  out = py::reinterpret_steal<py::int_>(PyNumber_Or(out.ptr(), py::int_(lo).ptr()));
  if (neg) out = py::reinterpret_steal<py::int_>(PyNumber_Negative(out.ptr()));
  if (!out) throw py::error_already_set();
  return out;
}

Side side_from_int(int side) {
  if (side == static_cast<int>(Side::Bid)) return Side::Bid;
  if (side == static_cast<int>(Side::Ask)) return Side::Ask;
  throw py::value_error("side must be Side.BID (1) or Side.ASK (2), got " + std::to_string(side));
}

std::string decimal_text(std::int64_t mantissa, int exp) {
  const bool neg = mantissa < 0;
  // Work on the unsigned magnitude so that INT64_MIN renders too.
  std::uint64_t mag = neg ? 0 - static_cast<std::uint64_t>(mantissa) : static_cast<std::uint64_t>(mantissa);
  std::string digits = std::to_string(mag);
  if (exp <= 0) {
    if (mag != 0) digits.append(static_cast<std::size_t>(-exp), '0');
  } else {
    const auto e = static_cast<std::size_t>(exp);
    if (digits.size() <= e) digits.insert(0, e - digits.size() + 1, '0');
    digits.insert(digits.size() - e, 1, '.');
  }
  return neg ? "-" + digits : digits;
}

}  // namespace crossbook::bindings
