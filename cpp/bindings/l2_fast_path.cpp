// Per-update entry points of L2Book as plain CPython vectorcall methods.
//
// pybind11's dispatcher (overload resolution, generic casters, keyword
// handling) costs more than the book update itself; these two methods are on
// every feed update, so they parse their few integer arguments directly. Any
// call with keywords falls back to the pybind11 definition, kept as `_update`.
#include <pybind11/pybind11.h>

#include <climits>
#include <string>

#include "conversions.hpp"
#include "py_l2_book.hpp"

namespace crossbook::bindings {

namespace {

PyObject* level_or_none(const BookSide& s) {
  if (s.empty()) Py_RETURN_NONE;
  PyObject* price = PyLong_FromLongLong(s.best_price());
  PyObject* size = PyLong_FromLongLong(s.best_size());
  if (!price || !size) {
    Py_XDECREF(price);
    Py_XDECREF(size);
    return nullptr;
  }
  PyObject* t = PyTuple_New(2);
  if (!t) {
    Py_DECREF(price);
    Py_DECREF(size);
    return nullptr;
  }
  PyTuple_SET_ITEM(t, 0, price);
  PyTuple_SET_ITEM(t, 1, size);
  return t;
}

bool same(const BboRow& a, const BboRow& b) {
  return a.bid_price == b.bid_price && a.bid_size == b.bid_size && a.ask_price == b.ask_price &&
         a.ask_size == b.ask_size;
}

// The C++ book inside a pybind11 instance; nullptr (with TypeError set) when
// __init__ has not run. The method descriptor has already checked the type.
PyL2Book* book_of(PyObject* self) {
  auto vh = reinterpret_cast<py::detail::instance*>(self)->get_value_and_holder();
  if (!vh.holder_constructed()) {
    PyErr_SetString(PyExc_TypeError, "L2Book.__init__ has not been called");
    return nullptr;
  }
  return vh.value_ptr<PyL2Book>();
}

// An int64 argument, or false with an error that names the argument and its value.
bool as_int64(PyObject* o, const char* name, long long* out) {
  *out = PyLong_AsLongLong(o);
  if (!(*out == -1 && PyErr_Occurred())) return true;
  if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
    PyErr_Clear();
    PyErr_Format(PyExc_OverflowError, "%s %R does not fit int64", name, o);
  } else if (PyErr_ExceptionMatches(PyExc_TypeError)) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "%s must be an int, got %.80s %R", name, Py_TYPE(o)->tp_name, o);
  }
  return false;
}

PyObject* fast_bbo(PyObject* self, PyObject* /*unused*/) {
  PyL2Book* book = book_of(self);
  if (!book) return nullptr;
  try {
    return book->idle().bbo_object();
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
}

PyObject* slow_update(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  py::object slow = py::reinterpret_borrow<py::object>(self).attr("_update");
  return PyObject_Vectorcall(slow.ptr(), args, nargsf, kwnames);
}

PyObject* fast_update(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  if (kwnames || nargs < 3 || nargs > 4)
    return slow_update(self, args, static_cast<size_t>(nargs), kwnames);
  PyL2Book* book = book_of(self);
  if (!book) return nullptr;
  long long side = 0, price = 0, size = 0, count = 0;
  if (!as_int64(args[0], "side", &side) || !as_int64(args[1], "price", &price) ||
      !as_int64(args[2], "size", &size) || (nargs == 4 && !as_int64(args[3], "count", &count)))
    return nullptr;
  if (count < INT32_MIN || count > INT32_MAX) {
    PyErr_Format(PyExc_OverflowError, "count %lld does not fit int32", count);
    return nullptr;
  }
  if (side != static_cast<long long>(Side::Bid) && side != static_cast<long long>(Side::Ask)) {
    PyErr_Format(PyExc_ValueError, "side must be Side.BID (1) or Side.ASK (2), got %lld", side);
    return nullptr;
  }
  try {
    const auto s = static_cast<Side>(side);
    const bool found = book->idle().update(s, price, size, static_cast<std::int32_t>(count));
    return PyBool_FromLong(found);
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
}

PyMethodDef kUpdateDef = {
    "update", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast_update)),
    METH_FASTCALL | METH_KEYWORDS,
    "update(side, price, size, count=0) -> bool\n\n"
    "Sets the level's size (0 removes it); False when a removal found no level."};
PyMethodDef kBboDef = {"bbo", fast_bbo, METH_NOARGS,
                       "bbo() -> ((bid_price, bid_size) | None, (ask_price, ask_size) | None)"};

}  // namespace

PyObject* PyL2Book::bbo_object() const {
  const BboRow row = bbo();
  if (!bbo_cache || !same(row, bbo_cache_row)) {
    PyObject* bid = level_or_none(side(Side::Bid));
    if (!bid) return nullptr;
    PyObject* ask = level_or_none(side(Side::Ask));
    if (!ask) {
      Py_DECREF(bid);
      return nullptr;
    }
    PyObject* t = PyTuple_New(2);
    if (!t) {
      Py_DECREF(bid);
      Py_DECREF(ask);
      return nullptr;
    }
    PyTuple_SET_ITEM(t, 0, bid);
    PyTuple_SET_ITEM(t, 1, ask);
    bbo_cache = py::reinterpret_steal<py::object>(t);
    bbo_cache_row = row;
  }
  return bbo_cache.inc_ref().ptr();
}

void install_l2_fast_paths(py::class_<PyL2Book>& cls) {
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  for (PyMethodDef* def : {&kUpdateDef, &kBboDef}) {
    PyObject* descr = PyDescr_NewMethod(type, def);
    if (!descr) throw py::error_already_set();
    cls.attr(def->ml_name) = py::reinterpret_steal<py::object>(descr);
  }
}

}  // namespace crossbook::bindings
