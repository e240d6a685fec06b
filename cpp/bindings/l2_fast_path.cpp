// Per-update entry points of L2Book as plain CPython vectorcall methods.
//
// pybind11's dispatcher (overload resolution, generic casters, keyword
// handling) costs more than the book update itself; these two methods are on
// every feed update, so they parse their few integer arguments directly. Any
// call with keywords falls back to the pybind11 definition, kept as `_update`.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
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

// T's numpy dtype, looked up once; kept for the module's life (never freed, so
// that no destructor runs after the interpreter is gone).
template <class T>
PyObject* descr_of() {
  static PyObject* descr = py::dtype::of<T>().release().ptr();
  return descr;
}

// The data of a 1-d C-contiguous aligned array (with `flags` too) whose dtype is
// equivalent to `descr`, or nullptr (no error set): the caller then takes the
// general path, which explains what is wrong. Users' arrays carry the crossbook.dtypes
// descriptor, equal to `descr` but distinct; comparing structured dtypes is slow, so
// the last one found equivalent is remembered in `known_equal`.
void* array_data(PyObject* obj, PyObject* descr, PyObject*& known_equal, int flags, std::size_t* n) {
  auto& api = py::detail::npy_api::get();
  if (!api.PyArray_Check_(obj)) return nullptr;
  auto* a = reinterpret_cast<py::detail::PyArray_Proxy*>(obj);
  if (a->descr != descr && a->descr != known_equal) {
    if (!api.PyArray_EquivTypes_(a->descr, descr)) return nullptr;
    Py_XDECREF(known_equal);
    Py_INCREF(a->descr);
    known_equal = a->descr;
  }
  const int need = flags | py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_ |
                   py::detail::npy_api::NPY_ARRAY_ALIGNED_;
  if (a->nd != 1 || (a->flags & need) != need) return nullptr;
  *n = static_cast<std::size_t>(a->dimensions[0]);
  return a->data;
}

DepthRow* depth_buffer(PyObject* obj, std::size_t* rows) {
  static PyObject* known_equal = nullptr;
  return static_cast<DepthRow*>(
      array_data(obj, descr_of<DepthRow>(), known_equal, py::detail::npy_api::NPY_ARRAY_WRITEABLE_, rows));
}

PyObject* new_depth_array(const BookSide& side, std::size_t n) {
  auto& api = py::detail::npy_api::get();
  const Py_intptr_t rows = static_cast<Py_intptr_t>(std::min(n, side.size()));
  PyObject* descr = descr_of<DepthRow>();
  Py_INCREF(descr);  // stolen by NewFromDescr
  PyObject* arr = api.PyArray_NewFromDescr_(api.PyArray_Type_, descr, 1, &rows, nullptr, nullptr, 0,
                                            nullptr);
  if (!arr) return nullptr;
  auto* data = reinterpret_cast<DepthRow*>(reinterpret_cast<py::detail::PyArray_Proxy*>(arr)->data);
  side.depth(data, static_cast<std::size_t>(rows));
  return arr;
}

PyObject* fast_depth(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  if (kwnames || nargs != 1) {
    py::object slow = py::reinterpret_borrow<py::object>(self).attr("_depth");
    return PyObject_Vectorcall(slow.ptr(), args, static_cast<size_t>(nargs), kwnames);
  }
  PyL2Book* book = book_of(self);
  if (!book) return nullptr;
  const Py_ssize_t n = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
  if (n == -1 && PyErr_Occurred()) return nullptr;
  if (n < 0) {
    PyErr_Format(PyExc_ValueError, "n must be >= 0, got %zd", n);
    return nullptr;
  }
  try {
    book->idle();
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
  PyObject* bids = new_depth_array(book->side(Side::Bid), static_cast<std::size_t>(n));
  if (!bids) return nullptr;
  PyObject* asks = new_depth_array(book->side(Side::Ask), static_cast<std::size_t>(n));
  if (!asks) {
    Py_DECREF(bids);
    return nullptr;
  }
  PyObject* t = PyTuple_Pack(2, bids, asks);  // new references of its own
  Py_DECREF(bids);
  Py_DECREF(asks);
  return t;
}

PyObject* fast_depth_into(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                          PyObject* kwnames) {
  std::size_t nb_max = 0, na_max = 0;
  DepthRow* bids = (!kwnames && nargs == 2) ? depth_buffer(args[0], &nb_max) : nullptr;
  DepthRow* asks = bids ? depth_buffer(args[1], &na_max) : nullptr;
  if (!asks) {  // keywords or an unusual array: the general path explains what is wrong
    py::object slow = py::reinterpret_borrow<py::object>(self).attr("_depth_into");
    return PyObject_Vectorcall(slow.ptr(), args, static_cast<size_t>(nargs), kwnames);
  }
  PyL2Book* book = book_of(self);
  if (!book) return nullptr;
  try {
    book->idle();
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
  const std::size_t nb = book->side(Side::Bid).depth(bids, nb_max);
  const std::size_t na = book->side(Side::Ask).depth(asks, na_max);
  PyObject* counts[2] = {PyLong_FromSize_t(nb), PyLong_FromSize_t(na)};
  PyObject* t = (counts[0] && counts[1]) ? PyTuple_Pack(2, counts[0], counts[1]) : nullptr;
  Py_XDECREF(counts[0]);
  Py_XDECREF(counts[1]);
  return t;
}

const LevelEvent* level_events_of(PyObject* obj, std::size_t* n) {
  static PyObject* known_equal = nullptr;
  return static_cast<const LevelEvent*>(array_data(obj, descr_of<LevelEvent>(), known_equal, 0, n));
}

// Below this many events the GIL is kept: releasing and taking it back costs
// more than applying a typical feed message.
constexpr std::size_t kReleaseGilFrom = 4096;

// apply(events): one call per feed message, so the common form skips pybind11.
// bbo_out, keywords or an unusual array take the general path (`_apply`).
PyObject* fast_apply(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  std::size_t n = 0;
  const LevelEvent* events = (!kwnames && nargs == 1) ? level_events_of(args[0], &n) : nullptr;
  if (!events) {
    py::object slow = py::reinterpret_borrow<py::object>(self).attr("_apply");
    return PyObject_Vectorcall(slow.ptr(), args, static_cast<size_t>(nargs), kwnames);
  }
  PyL2Book* book = book_of(self);
  if (!book) return nullptr;
  try {
    if (n >= kReleaseGilFrom) {
      BatchGuard guard(book->busy, PyL2Book::kName);  // the caller's reference keeps the array alive
      py::gil_scoped_release release;
      book->apply(events, n, nullptr);
    } else {
      BatchGuard guard(book->busy, PyL2Book::kName);
      book->apply(events, n, nullptr);
    }
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* fast_is_crossed(PyObject* self, PyObject* /*unused*/) {
  PyL2Book* book = book_of(self);
  if (!book) return nullptr;
  try {
    return PyBool_FromLong(book->idle().is_crossed());
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
}

PyMethodDef kApplyDef = {
    "apply", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast_apply)),
    METH_FASTCALL | METH_KEYWORDS,
    "apply(events, bbo_out=None, *, depth_out=None, features_out=None, n=10)\n\n"
    "Applies LEVEL_EVENT rows in order (all validated first, outputs included); after each\n"
    "event bbo_out (BBO) gets the best bid and ask, depth_out (DEPTH, shape (rows, 2, n))\n"
    "the top n levels of both sides (zero rows past a side's depth) and features_out\n"
    "(BOOK_FEATURES) mid, spread, microprice and imbalance over the top n levels and the\n"
    "event's order-flow imbalance. Large batches run without the GIL."};
PyMethodDef kIsCrossedDef = {"is_crossed", fast_is_crossed, METH_NOARGS,
                             "is_crossed() -> bool: best bid >= best ask"};

PyMethodDef kDepthDef = {
    "depth", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast_depth)),
    METH_FASTCALL | METH_KEYWORDS,
    "depth(n) -> (bids, asks): up to n levels per side, best first, as DEPTH arrays"};
PyMethodDef kDepthIntoDef = {
    "depth_into", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast_depth_into)),
    METH_FASTCALL | METH_KEYWORDS,
    "depth_into(bids, asks) -> (n_bids, n_asks): fills caller-owned DEPTH arrays, best first"};

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
  for (PyMethodDef* def : {&kUpdateDef, &kBboDef, &kDepthDef, &kDepthIntoDef, &kApplyDef, &kIsCrossedDef}) {
    PyObject* descr = PyDescr_NewMethod(type, def);
    if (!descr) throw py::error_already_set();
    cls.attr(def->ml_name) = py::reinterpret_steal<py::object>(descr);
  }
}

}  // namespace crossbook::bindings
