// Read-only queries of an order-level book, shared by OrderBook and the
// engine's book view so that the two cannot drift apart.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "conversions.hpp"
#include "py_l3.hpp"

namespace crossbook::bindings {

namespace {

PyObject* level_or_none(Price price, Qty size) {
  if (size == 0) Py_RETURN_NONE;  // BboRow's "no level" (a level of size 0 cannot exist)
  PyObject* p = PyLong_FromLongLong(price);
  PyObject* q = PyLong_FromLongLong(size);
  PyObject* t = (p && q) ? PyTuple_Pack(2, p, q) : nullptr;
  Py_XDECREF(p);
  Py_XDECREF(q);
  return t;
}

bool same(const BboRow& a, const BboRow& b) {
  return a.bid_price == b.bid_price && a.bid_size == b.bid_size && a.ask_price == b.ask_price &&
         a.ask_size == b.ask_size;
}

}  // namespace

PyObject* bbo_object(const OrderBook& book, BboCache& cache) {
  const BboRow row = book.bbo();
  if (!cache.tuple || !same(row, cache.row)) {
    PyObject* bid = level_or_none(row.bid_price, row.bid_size);
    if (!bid) return nullptr;
    PyObject* ask = level_or_none(row.ask_price, row.ask_size);
    PyObject* t = ask ? PyTuple_Pack(2, bid, ask) : nullptr;
    Py_DECREF(bid);
    Py_XDECREF(ask);
    if (!t) return nullptr;
    cache.tuple = py::reinterpret_steal<py::object>(t);
    cache.row = row;
  }
  return cache.tuple.inc_ref().ptr();
}

py::array_t<DepthRow> depth_rows(const OrderBook& book, Side side, std::size_t n) {
  const std::size_t rows = std::min(n, book.level_count(side));
  py::array_t<DepthRow> out(static_cast<py::ssize_t>(rows));
  book.depth(side, out.mutable_data(), rows);
  return out;
}

py::array_t<OrderView> order_rows(const OrderBook& book, Side side) {
  std::vector<OrderView> rows;
  book.for_each_order(side, [&](const OrderView& v) {
    rows.push_back(v);
    return true;
  });
  return to_array(rows);
}

py::array_t<LevelEvent> drain_level_events(std::vector<LevelEvent>& buf) {
  py::array_t<LevelEvent> out = to_array(buf);
  buf.clear();
  return out;
}

std::string touch_text(const OrderBook& book, Side side) {
  const BboRow b = book.bbo();
  const Qty size = side == Side::Bid ? b.bid_size : b.ask_size;
  if (size == 0) return "None";
  const Price price = side == Side::Bid ? b.bid_price : b.ask_price;
  return decimal_text(size, book.size_exp()) + " @ " + decimal_text(price, book.price_exp());
}

template <class Cls>
void def_book_queries(py::class_<Cls>& cls) {
  cls.def_property_readonly("price_exp", [](const Cls& c) { return c.view().price_exp(); })
      .def_property_readonly("size_exp", [](const Cls& c) { return c.view().size_exp(); })
      .def(
          "depth",
          [](const Cls& c, py::ssize_t n) {
            if (n < 0) throw py::value_error("n must be >= 0, got " + std::to_string(n));
            const OrderBook& b = c.view();
            const auto k = static_cast<std::size_t>(n);
            return py::make_tuple(depth_rows(b, Side::Bid, k), depth_rows(b, Side::Ask, k));
          },
          py::arg("n"))
      .def(
          "levels",
          [](const Cls& c, int side) {
            const OrderBook& b = c.view();
            const Side s = side_from_int(side);
            return depth_rows(b, s, b.level_count(s));
          },
          py::arg("side"))
      .def(
          "orders", [](const Cls& c, int side) { return order_rows(c.view(), side_from_int(side)); },
          py::arg("side"))
      .def(
          "_order",  // the public order() wraps this in an OrderInfo
          [](const Cls& c, std::uint64_t order_id) -> py::object {
            const auto o = c.view().order(order_id);
            if (!o) return py::none();
            return py::make_tuple(static_cast<int>(o->side), o->price, o->size, o->owner);
          },
          py::arg("order_id"))
      .def(
          "queue_position",
          [](const Cls& c, std::uint64_t order_id) -> py::object {
            const auto q = c.view().queue_position(order_id);
            return q ? py::object(py::int_(*q)) : py::object(py::none());
          },
          py::arg("order_id"))
      .def("__len__", [](const Cls& c) { return c.view().size(); })
      .def(
          "level_count",
          [](const Cls& c, int side) { return c.view().level_count(side_from_int(side)); },
          py::arg("side"))
      .def(
          "format_price", [](const Cls& c, Price p) { return decimal_text(p, c.view().price_exp()); },
          py::arg("price"))
      .def(
          "format_size", [](const Cls& c, Qty q) { return decimal_text(q, c.view().size_exp()); },
          py::arg("size"));
}

template void def_book_queries<PyOrderBook>(py::class_<PyOrderBook>& cls);
template void def_book_queries<EngineBookView>(py::class_<EngineBookView>& cls);

}  // namespace crossbook::bindings
