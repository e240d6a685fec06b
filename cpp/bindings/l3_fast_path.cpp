// Per-call entry points of OrderBook and MatchingEngine as plain CPython
// vectorcall methods (see fast_call.hpp for why). Each binds its arguments,
// converts them with range checks, and calls the core once.
#include <pybind11/pybind11.h>

#include <optional>

#include "fast_call.hpp"
#include "py_l3.hpp"

namespace crossbook::bindings {

namespace {

using fast::self_as;
using fast::Signature;
using fast::to_i64;
using fast::to_u64;
using fast::to_u8;
using fast::translate;

constexpr const char* kSide = "Side.BID (1) or Side.ASK (2)";

PyObject* as_bool(bool v) { return PyBool_FromLong(v); }

// ------------------------------------------------------------ OrderBook

const Signature<5> kAdd{"add", {"order_id", "side", "price", "size", "owner"}, 5, 4};
const Signature<2> kBookCancel{"cancel", {"order_id", "size"}, 2, 1};
const Signature<2> kExecute{"execute", {"order_id", "size"}, 2, 2};
const Signature<3> kBookModify{"modify", {"order_id", "price", "size"}, 3, 3};

PyObject* book_add(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* a[5];
  if (!kAdd.bind(args, nargs, kwnames, a)) return nullptr;
  PyOrderBook* b = self_as<PyOrderBook>(self);
  std::uint64_t id = 0, owner = 0;
  std::uint8_t side = 0;
  std::int64_t price = 0, size = 0;
  if (!b || !to_u64(a[0], "order_id", &id) || !to_u8(a[1], "side", kSide, &side) ||
      !to_i64(a[2], "price", &price) || !to_i64(a[3], "size", &size) ||
      (a[4] && !to_u64(a[4], "owner", &owner)))
    return nullptr;
  try {
    return as_bool(b->idle().add(id, static_cast<Side>(side), price, size, owner));
  } catch (...) {
    return translate();
  }
}

PyObject* book_cancel(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* a[2];
  if (!kBookCancel.bind(args, nargs, kwnames, a)) return nullptr;
  PyOrderBook* b = self_as<PyOrderBook>(self);
  std::uint64_t id = 0;
  std::int64_t size = 0;
  const bool partial = a[1] && a[1] != Py_None;
  if (!b || !to_u64(a[0], "order_id", &id) || (partial && !to_i64(a[1], "size", &size)))
    return nullptr;
  try {
    return as_bool(b->idle().cancel(id, partial ? std::optional<Qty>(size) : std::nullopt));
  } catch (...) {
    return translate();
  }
}

PyObject* book_execute(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* a[2];
  if (!kExecute.bind(args, nargs, kwnames, a)) return nullptr;
  PyOrderBook* b = self_as<PyOrderBook>(self);
  std::uint64_t id = 0;
  std::int64_t size = 0;
  if (!b || !to_u64(a[0], "order_id", &id) || !to_i64(a[1], "size", &size)) return nullptr;
  try {
    return as_bool(b->idle().execute(id, size));
  } catch (...) {
    return translate();
  }
}

PyObject* book_modify(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* a[3];
  if (!kBookModify.bind(args, nargs, kwnames, a)) return nullptr;
  PyOrderBook* b = self_as<PyOrderBook>(self);
  std::uint64_t id = 0;
  std::int64_t price = 0, size = 0;
  if (!b || !to_u64(a[0], "order_id", &id) || !to_i64(a[1], "price", &price) ||
      !to_i64(a[2], "size", &size))
    return nullptr;
  try {
    return as_bool(b->idle().modify(id, price, size));
  } catch (...) {
    return translate();
  }
}

template <class T>
PyObject* bbo(PyObject* self, PyObject* /*unused*/) {
  T* obj = self_as<T>(self);
  if (!obj) return nullptr;
  try {
    return bbo_object(obj->view(), obj->bbo_cache_ref());
  } catch (...) {
    return translate();
  }
}

// ------------------------------------------------------------ MatchingEngine

const Signature<10> kSubmit{
    "submit",
    {"order_id", "owner", "side", "price", "size", "type", "tif", "post_only", "stp", "ts_ns"},
    5,
    5};
const Signature<4> kCancel{"cancel", {"order_id", "owner", "size", "ts_ns"}, 4, 2};
const Signature<7> kModify{
    "modify", {"order_id", "owner", "price", "size", "ts_ns", "post_only", "stp"}, 5, 4};

bool post_only_flag(PyObject* o, std::uint16_t* flags) {
  if (!o) return true;
  const int v = PyObject_IsTrue(o);
  if (v < 0) return false;
  if (v) *flags |= order_flags::kPostOnly;
  return true;
}

// Runs one request; returns the number of fills it made.
PyObject* run(PyMatchingEngine* e, const OrderRequest& r) {
  try {
    PyMatchingEngine& en = e->idle();
    const std::size_t before = en.fills.size();
    en.submit(r, en.fills, en.rejects);
    return PyLong_FromSize_t(en.fills.size() - before);
  } catch (...) {
    return translate();
  }
}

PyObject* submit(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* a[10];
  if (!kSubmit.bind(args, nargs, kwnames, a)) return nullptr;
  PyMatchingEngine* e = self_as<PyMatchingEngine>(self);
  OrderRequest r{0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(OrderType::Limit),
                 static_cast<std::uint8_t>(TimeInForce::Gtc), 0, 0, 0};
  if (!e || !to_u64(a[0], "order_id", &r.order_id) || !to_u64(a[1], "owner", &r.owner) ||
      !to_u8(a[2], "side", kSide, &r.side) || !to_i64(a[3], "price", &r.price) ||
      !to_i64(a[4], "size", &r.size) || (a[5] && !to_u8(a[5], "type", "an OrderType", &r.type)) ||
      (a[6] && !to_u8(a[6], "tif", "a TimeInForce", &r.tif)) || !post_only_flag(a[7], &r.flags) ||
      (a[8] && !to_u8(a[8], "stp", "a StpMode", &r.stp)) || (a[9] && !to_i64(a[9], "ts_ns", &r.ts_ns)))
    return nullptr;
  return run(e, r);
}

PyObject* cancel(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* a[4];
  if (!kCancel.bind(args, nargs, kwnames, a)) return nullptr;
  PyMatchingEngine* e = self_as<PyMatchingEngine>(self);
  OrderRequest r{0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(OrderType::Cancel), 0, 0, 0, 0};
  if (!e || !to_u64(a[0], "order_id", &r.order_id) || !to_u64(a[1], "owner", &r.owner) ||
      (a[2] && !to_i64(a[2], "size", &r.size)) || (a[3] && !to_i64(a[3], "ts_ns", &r.ts_ns)))
    return nullptr;
  try {
    PyMatchingEngine& en = e->idle();
    return as_bool(en.submit(r, en.fills, en.rejects));
  } catch (...) {
    return translate();
  }
}

PyObject* modify(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* a[7];
  if (!kModify.bind(args, nargs, kwnames, a)) return nullptr;
  PyMatchingEngine* e = self_as<PyMatchingEngine>(self);
  OrderRequest r{0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(OrderType::Modify), 0, 0, 0, 0};
  if (!e || !to_u64(a[0], "order_id", &r.order_id) || !to_u64(a[1], "owner", &r.owner) ||
      !to_i64(a[2], "price", &r.price) || !to_i64(a[3], "size", &r.size) ||
      (a[4] && !to_i64(a[4], "ts_ns", &r.ts_ns)) || !post_only_flag(a[5], &r.flags) ||
      (a[6] && !to_u8(a[6], "stp", "a StpMode", &r.stp)))
    return nullptr;
  return run(e, r);
}

constexpr int kFast = METH_FASTCALL | METH_KEYWORDS;

// The text before "--" is the signature inspect.signature() (and stubtest) reads.
PyMethodDef kBookDefs[] = {
    {"add", fast::as_cfunction(book_add), kFast,
     "add($self, order_id, side, price, size, owner=0)\n--\n\n"
     "A new order joins the back of its level. False when an anomaly was counted."},
    {"cancel", fast::as_cfunction(book_cancel), kFast,
     "cancel($self, order_id, size=None)\n--\n\n"
     "Cancels `size` of the order (keeping its place), or all of it when size is None."},
    {"execute", fast::as_cfunction(book_execute), kFast,
     "execute($self, order_id, size)\n--\n\n"
     "The venue filled `size` of the resting order; at zero it leaves the book."},
    {"modify", fast::as_cfunction(book_modify), kFast,
     "modify($self, order_id, price, size)\n--\n\n"
     "New price and open size; keeps the queue place only when the price is unchanged "
     "and the size does not grow."},
    {"bbo", bbo<PyOrderBook>, METH_NOARGS,
     "bbo($self, /)\n--\n\n((bid_price, bid_size) | None, (ask_price, ask_size) | None)"},
};

PyMethodDef kEngineDefs[] = {
    {"submit", fast::as_cfunction(submit), kFast,
     "submit($self, order_id, owner, side, price, size, *, type=1, tif=1, post_only=False, "
     "stp=0, ts_ns=0)\n--\n\n"
     "Submits one order; returns how many fills it made. Fills and rejections go to "
     "take_fills() and take_rejects()."},
    {"cancel", fast::as_cfunction(cancel), kFast,
     "cancel($self, order_id, owner, size=0, ts_ns=0)\n--\n\n"
     "Cancels the order (size 0) or reduces it by `size`; False when rejected."},
    {"modify", fast::as_cfunction(modify), kFast,
     "modify($self, order_id, owner, price, size, ts_ns=0, *, post_only=False, stp=0)\n--\n\n"
     "New price and size for a resting order; returns how many fills it made."},
};

PyMethodDef kViewBbo = {
    "bbo", bbo<EngineBookView>, METH_NOARGS,
    "bbo($self, /)\n--\n\n((bid_price, bid_size) | None, (ask_price, ask_size) | None)"};

}  // namespace

void install_order_book_fast_paths(py::class_<PyOrderBook>& cls) {
  fast::install(cls, {&kBookDefs[0], &kBookDefs[1], &kBookDefs[2], &kBookDefs[3], &kBookDefs[4]});
}

void install_engine_fast_paths(py::class_<PyMatchingEngine>& cls) {
  fast::install(cls, {&kEngineDefs[0], &kEngineDefs[1], &kEngineDefs[2]});
}

void install_view_fast_paths(py::class_<EngineBookView>& cls) { fast::install(cls, {&kViewBbo}); }

}  // namespace crossbook::bindings
