// The bound L2Book: the core's book plus what only the binding needs.
#pragma once

#include <pybind11/pybind11.h>

#include <atomic>
#include <stdexcept>

#include "busy_flag.hpp"
#include "checked_caster.hpp"
#include "crossbook/l2_book.hpp"

namespace crossbook::bindings {

namespace py = pybind11;

struct PyL2Book : L2Book {
  static constexpr const char* kName = "L2Book";
  using L2Book::L2Book;
  PyL2Book(const PyL2Book& other) : L2Book(other) {}

  mutable BusyFlag busy;

  // bbo() follows nearly every update and the touch rarely changes, so the last
  // tuple is handed out again while the best levels are what it was built from.
  // Only touched with the GIL held.
  mutable py::object bbo_cache;
  mutable BboRow bbo_cache_row{};

  const PyL2Book& idle() const {
    busy.check(kName);
    return *this;
  }
  PyL2Book& idle() {
    static_cast<const PyL2Book*>(this)->idle();
    return *this;
  }

  /// ((bid_price, bid_size) | None, (ask_price, ask_size) | None); new reference.
  PyObject* bbo_object() const;
};


/// Replaces `update` and `bbo` with vectorcall methods that skip pybind11's
/// generic dispatch (they are called once per feed update).
void install_l2_fast_paths(py::class_<PyL2Book>& cls);

}  // namespace crossbook::bindings

namespace pybind11::detail {
template <>
class type_caster<crossbook::bindings::PyL2Book>
    : public crossbook::bindings::checked_caster<crossbook::bindings::PyL2Book> {};
}  // namespace pybind11::detail
