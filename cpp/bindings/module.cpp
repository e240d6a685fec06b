// The compiled core of crossbook. Users import crossbook, never crossbook._core.
#include <pybind11/pybind11.h>

#include "busy_flag.hpp"
#include "conversions.hpp"
#include "crossbook/types.hpp"

namespace crossbook::bindings {
void register_l2_book(py::module_& m);
void register_order_book(py::module_& m);
void register_matching_engine(py::module_& m);
void register_l3_enums(py::module_& m);
void register_arb(py::module_& m);
void register_sim(py::module_& m);
}  // namespace crossbook::bindings

PYBIND11_MODULE(_core, m) {
  namespace cb = crossbook::bindings;
  m.doc() = "crossbook C++ core (private; use the crossbook package)";
  cb::register_dtypes();
  pybind11::register_exception<crossbook::InvalidInput>(m, "InvalidInputError", PyExc_ValueError);
  pybind11::register_exception<crossbook::InvariantViolation>(m, "InvariantViolation",
                                                              PyExc_AssertionError);
  pybind11::register_exception<cb::BusyError>(m, "BusyError", PyExc_RuntimeError);
  cb::register_l2_book(m);
  cb::register_order_book(m);  // after InvalidInputError: its FeedError translator uses it
  cb::register_matching_engine(m);
  cb::register_l3_enums(m);
  cb::register_arb(m);
  cb::register_sim(m);
}
