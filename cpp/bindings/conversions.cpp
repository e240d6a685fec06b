#include "conversions.hpp"

#include "crossbook/arb.hpp"

#include <cstdlib>

namespace crossbook::bindings {

void register_dtypes() {
  PYBIND11_NUMPY_DTYPE(LevelEvent, ts_exchange_ns, ts_recv_ns, price, size, count, side, action,
                       flags);
  PYBIND11_NUMPY_DTYPE(DepthRow, price, size, count);
  PYBIND11_NUMPY_DTYPE(BboRow, bid_price, bid_size, ask_price, ask_size);
  PYBIND11_NUMPY_DTYPE(BookFeatures, mid_x2, spread, microprice, imbalance, ofi, ofi_bid, ofi_ask,
                       flags, reserved);
  PYBIND11_NUMPY_DTYPE(OrderEvent, ts_exchange_ns, ts_recv_ns, order_id, price, size, side, action,
                       flags, reserved);
  PYBIND11_NUMPY_DTYPE(OrderRequest, ts_ns, order_id, owner, price, size, side, type, tif, stp,
                       flags, reserved);
  PYBIND11_NUMPY_DTYPE(Fill, ts_ns, taker_id, maker_id, price, size, taker_side, reserved);
  PYBIND11_NUMPY_DTYPE(Reject, ts_ns, order_id, size, reason, reserved);
  PYBIND11_NUMPY_DTYPE(OrderView, order_id, price, size, owner);
  PYBIND11_NUMPY_DTYPE(ScanEvent, ts_exchange_ns, ts_recv_ns, price, size, count, side, action, flags,
                       book, reserved);
  PYBIND11_NUMPY_DTYPE(OpportunityEvent, ts_ns, open_ts_ns, duration_ns, size, buy_price, sell_price,
                       peak_size, edge_bps, peak_edge_bps, pnl_num_lo, pnl_num_hi, buy_notional_lo,
                       buy_notional_hi, sell_notional_lo, sell_notional_hi, buy_book, sell_book, kind,
                       reason, reserved0, reserved1);
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

Int128 int128_from_py(const py::handle& obj, const char* name) {
  if (!PyLong_Check(obj.ptr()))
    throw py::type_error(std::string(name) + " must be an int, got " +
                         py::str(py::type::of(obj)).cast<std::string>());
  int overflow = 0;
  const long long small = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
  if (small == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (!overflow) return small;
  if (py::reinterpret_borrow<py::int_>(obj).attr("bit_length")().cast<int>() > 127)
    throw py::value_error(std::string(name) + " " + py::str(obj).cast<std::string>() +
                          " does not fit a signed 128-bit integer");
  // Two's complement halves: Python's >> floors and & masks, for either sign.
  const auto v = py::reinterpret_borrow<py::int_>(obj);
  const auto hi = static_cast<std::uint64_t>(py::object(v >> py::int_(64)).cast<std::int64_t>());
  const auto lo = py::object(v & py::int_(~std::uint64_t{0})).cast<std::uint64_t>();
  return static_cast<Int128>((static_cast<unsigned __int128>(hi) << 64) | lo);
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
