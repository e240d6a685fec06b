// Conversions between the core's types and Python, in one place.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "crossbook/l2_book.hpp"
#include "crossbook/order_book.hpp"
#include "crossbook/order_types.hpp"
#include "crossbook/types.hpp"

namespace crossbook::bindings {

namespace py = pybind11;

/// Registers the numpy dtypes of the structs in types.hpp (idempotent per module).
void register_dtypes();

/// A C-contiguous, aligned, writeable-or-not array of `ndim` dimensions whose dtype
/// equals T's, or a TypeError naming `what` and the dtype received. Never converts
/// or copies.
template <class T>
py::array_t<T, py::array::c_style> require_array(const py::handle& obj, const char* what,
                                                 bool writeable, py::ssize_t ndim = 1) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(what) + " must be a numpy array");
  auto arr = py::reinterpret_borrow<py::array>(obj);
  const py::dtype want = py::dtype::of<T>();
  if (!arr.dtype().equal(want))
    throw py::type_error(std::string(what) + " must have dtype " + py::str(want).cast<std::string>() +
                         ", got " + py::str(arr.dtype()).cast<std::string>());
  if (arr.ndim() != ndim)
    throw py::value_error(std::string(what) + " must be " +
                          (ndim == 1 ? std::string("one-dimensional")
                                     : std::to_string(ndim) + "-dimensional") +
                          ", got " + std::to_string(arr.ndim()) + " dimensions");
  if (!(arr.flags() & py::array::c_style))
    throw py::value_error(std::string(what) + " must be C-contiguous");
  // Rows are read through typed pointers: an unaligned buffer (a view at an odd
  // byte offset) would be undefined behaviour, so it is refused, not read.
  if (!(arr.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
    throw py::value_error(std::string(what) + " is not aligned; pass a copy");
  if (writeable && !arr.writeable()) throw py::value_error(std::string(what) + " is read-only");
  return py::reinterpret_borrow<py::array_t<T, py::array::c_style>>(arr);
}

/// The best n levels of a side as a DEPTH array (best first).
inline py::array_t<DepthRow> rows_of(const BookSide& s, std::size_t n) {
  const std::size_t rows = std::min(n, s.size());
  py::array_t<DepthRow> out(static_cast<py::ssize_t>(rows));
  s.depth(out.mutable_data(), rows);
  return out;
}

/// (price, size) of a side's best level, or None when the side is empty.
inline py::object level_tuple(const BookSide& s) {
  if (s.empty()) return py::none();
  return py::make_tuple(s.best_price(), s.best_size());
}

/// Python int from a 128-bit integer (no float detour, no overflow).
py::int_ int128_to_py(Int128 v);

/// A Python int as a 128-bit integer; TypeError for a non-int, ValueError
/// (naming `name` and the value) when it does not fit.
Int128 int128_from_py(const py::handle& obj, const char* name);

/// Side from a Python int (Side members are ints); ValueError otherwise.
Side side_from_int(int side);

/// Decimal text of mantissa * 10^-exp, exact: 6183763 with exp 2 -> "61837.63".
std::string decimal_text(std::int64_t mantissa, int exp);

}  // namespace crossbook::bindings
