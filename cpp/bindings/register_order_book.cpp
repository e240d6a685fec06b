#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <limits>
#include <string>

#include "conversions.hpp"
#include "crossbook/order_book.hpp"
#include "py_l3.hpp"

namespace crossbook::bindings {

PyOrderBook::PyOrderBook(int price_exp, int size_exp, AnomalyPolicy policy, bool track)
    : OrderBook(policy, price_exp, size_exp), track_levels(track) {
  if (track_levels) set_level_sink(&level_buf);
}

PyOrderBook::PyOrderBook(const PyOrderBook& other)
    : OrderBook(other), track_levels(other.track_levels), level_buf(other.level_buf) {
  set_level_sink(track_levels ? &level_buf : nullptr);
}

namespace {

AnomalyPolicy policy_from(const std::string& on_anomaly) {
  if (on_anomaly == "raise") return AnomalyPolicy::Throw;
  if (on_anomaly == "count") return AnomalyPolicy::Count;
  throw py::value_error("on_anomaly must be \"raise\" or \"count\", got \"" + on_anomaly + "\"");
}

const char* policy_name(AnomalyPolicy p) { return p == AnomalyPolicy::Count ? "count" : "raise"; }

py::dict anomalies(const OrderBook& b) {
  py::dict out;
  for (std::size_t k = 0; k < kAnomalyKinds; ++k) {
    const auto kind = static_cast<Anomaly>(k);
    if (const std::uint64_t n = b.anomaly_count(kind)) out[anomaly_name(kind)] = n;
  }
  return out;
}

void apply_events(PyOrderBook& b, const py::handle& events_obj, const py::handle& bbo_obj) {
  auto events = require_array<OrderEvent>(events_obj, "events", false);
  const auto n = static_cast<std::size_t>(events.shape(0));
  BboRow* bbo_out = nullptr;
  py::array_t<BboRow, py::array::c_style> bbo;
  if (!bbo_obj.is_none()) {
    bbo = require_array<BboRow>(bbo_obj, "bbo_out", true);
    if (static_cast<std::size_t>(bbo.shape(0)) < n)
      throw py::value_error("bbo_out has " + std::to_string(bbo.shape(0)) +
                            " rows, fewer than the " + std::to_string(n) + " events");
    bbo_out = bbo.mutable_data();
  }
  const OrderEvent* data = events.data();
  BatchGuard guard(b.busy, PyOrderBook::kName);
  // Safe without the GIL: the arrays are kept alive by this frame and the book
  // (with its level buffer) is guarded against use from other threads.
  py::gil_scoped_release release;
  b.apply(data, n, bbo_out);
}

std::string repr(const PyOrderBook& b) {
  std::string s = "OrderBook(price_exp=" + std::to_string(b.price_exp()) +
                  ", size_exp=" + std::to_string(b.size_exp());
  if (b.policy() == AnomalyPolicy::Count) s += ", on_anomaly=\"count\"";
  if (b.track_levels) s += ", track_levels=True";
  s += ", orders=" + std::to_string(b.size()) +
       ", levels=" + std::to_string(b.level_count(Side::Bid)) + "/" +
       std::to_string(b.level_count(Side::Ask)) + ", bid=" + touch_text(b, Side::Bid) +
       ", ask=" + touch_text(b, Side::Ask);
  if (b.anomaly_total()) s += ", anomalies=" + std::to_string(b.anomaly_total());
  return s + ")";
}

// Builds the copy through type(self) so that a Python subclass copies as itself.
// Holds the guard throughout: building the copy may run Python code (a
// subclass's __init__), which lets another thread in.
py::object copy_book(const py::object& self) {
  const auto& src = self.cast<const PyOrderBook&>();
  BatchGuard guard(src.busy, PyOrderBook::kName);
  py::object dst = py::type::of(self)(src.price_exp(), src.size_exp(),
                                   py::arg("on_anomaly") = policy_name(src.policy()),
                                   py::arg("track_levels") = src.track_levels);
  auto& d = dst.cast<PyOrderBook&>();
  static_cast<OrderBook&>(d) = static_cast<const OrderBook&>(src);
  d.level_buf = src.level_buf;
  d.set_level_sink(d.track_levels ? &d.level_buf : nullptr);
  return dst;
}

py::tuple pickle_state(const PyOrderBook& b) {
  BatchGuard guard(b.busy, PyOrderBook::kName);  // building the arrays may run Python code
  py::tuple counts(kAnomalyKinds);
  for (std::size_t k = 0; k < kAnomalyKinds; ++k)
    counts[k] = py::int_(b.anomaly_count(static_cast<Anomaly>(k)));
  return py::make_tuple(b.price_exp(), b.size_exp(), policy_name(b.policy()), b.track_levels,
                        order_rows(b, Side::Bid), order_rows(b, Side::Ask), counts,
                        to_array(b.level_buf));
}

// The core keeps its anomaly counters private, so an unpickled book gets them
// back by meeting each kind of bad input again, on an empty book with the
// level sink off (policy Count: nothing is thrown). O(anomalies counted).
void replay_anomalies(OrderBook& b, const py::tuple& counts) {
  if (counts.size() != kAnomalyKinds) throw py::value_error("bad OrderBook pickle state");
  auto n = [&](Anomaly k) { return counts[static_cast<std::size_t>(k)].cast<std::uint64_t>(); };
  constexpr Qty kMax = std::numeric_limits<Qty>::max();
  for (std::uint64_t i = 0; i < n(Anomaly::UnknownOrder); ++i) b.cancel(1);
  if (n(Anomaly::DuplicateOrder)) b.add(1, Side::Bid, 1, 1);
  for (std::uint64_t i = 0; i < n(Anomaly::DuplicateOrder); ++i) b.add(1, Side::Bid, 1, 1);
  for (std::uint64_t i = 0; i < n(Anomaly::ExecuteExceedsSize); ++i) {
    b.add(2, Side::Bid, 2, 1);
    b.execute(2, 2);
  }
  for (std::uint64_t i = 0; i < n(Anomaly::CancelExceedsSize); ++i) {
    b.add(3, Side::Bid, 3, 1);
    b.cancel(3, 2);
  }
  for (std::uint64_t i = 0; i < n(Anomaly::NonPositiveSize); ++i) b.add(4, Side::Bid, 1, 0);
  for (std::uint64_t i = 0; i < n(Anomaly::NegativePrice); ++i) b.add(4, Side::Bid, -1, 1);
  for (std::uint64_t i = 0; i < n(Anomaly::InvalidSide); ++i) b.add(4, static_cast<Side>(0), 1, 1);
  const OrderEvent bad_action{0, 0, 4, 0, 0, 1, 0, 0, 0};
  for (std::uint64_t i = 0; i < n(Anomaly::InvalidAction); ++i) b.apply(&bad_action, 1, nullptr);
  if (n(Anomaly::SizeOverflow)) b.add(5, Side::Ask, 5, kMax);
  for (std::uint64_t i = 0; i < n(Anomaly::SizeOverflow); ++i) b.add(6, Side::Ask, 5, 1);
  b.clear();
}

void load_side(OrderBook& b, Side side, const py::handle& rows_obj) {
  auto rows = require_array<OrderView>(rows_obj, "orders", false);
  const OrderView* r = rows.data();
  for (py::ssize_t i = 0; i < rows.shape(0); ++i)
    b.add(r[i].order_id, side, r[i].price, r[i].size, r[i].owner);
}

PyOrderBook unpickle(const py::tuple& t) {
  if (t.size() != 8) throw py::value_error("bad OrderBook pickle state");
  PyOrderBook b(t[0].cast<int>(), t[1].cast<int>(), policy_from(t[2].cast<std::string>()),
                t[3].cast<bool>());
  b.set_level_sink(nullptr);
  if (b.policy() == AnomalyPolicy::Count) replay_anomalies(b, t[6].cast<py::tuple>());
  // Added best level first and in queue order, each FIFO comes back as it was.
  load_side(b, Side::Bid, t[4]);
  load_side(b, Side::Ask, t[5]);
  auto events = require_array<LevelEvent>(t[7], "level events", false);
  b.level_buf.assign(events.data(), events.data() + events.shape(0));
  b.set_level_sink(b.track_levels ? &b.level_buf : nullptr);
  return b;
}

// Bad feed input under policy "raise" arrives as InvalidInputError carrying
// the evidence: which kind of anomaly, which order, which event of a batch.
void register_feed_error(py::module_& m) {
  static PyObject* error_type = py::object(m.attr("InvalidInputError")).release().ptr();  // lives with the module
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FeedError& e) {
      py::object exc = py::reinterpret_steal<py::object>(
          PyObject_CallFunction(error_type, "s", e.what()));
      if (!exc) return;  // the failure to build it is the error now
      exc.attr("anomaly") = anomaly_name(e.kind());
      exc.attr("order_id") = e.order_id();
      exc.attr("event_index") = e.event_index() == FeedError::kNoEvent
                                    ? py::object(py::none())
                                    : py::object(py::int_(e.event_index()));
      PyErr_SetObject(error_type, exc.ptr());
    }
  });
}

}  // namespace

void register_order_book(py::module_& m) {
  register_feed_error(m);
  py::class_<PyOrderBook> cls(m, "OrderBook");
  cls.def(py::init([](int price_exp, int size_exp, const std::string& on_anomaly, bool track) {
            return PyOrderBook(price_exp, size_exp, policy_from(on_anomaly), track);
          }),
          py::arg("price_exp") = 0, py::arg("size_exp") = 0, py::kw_only(),
          py::arg("on_anomaly") = "raise", py::arg("track_levels") = false)
      .def_property_readonly("on_anomaly",
                             [](const PyOrderBook& b) { return policy_name(b.idle().policy()); })
      .def_property_readonly("track_levels", [](const PyOrderBook& b) { return b.idle().track_levels; })
      .def(
          "clear",
          [](PyOrderBook& b, const py::object& side) {
            auto& book = b.idle();
            if (side.is_none())
              book.clear();
            else
              book.clear(side_from_int(side.cast<int>()));
          },
          py::arg("side") = py::none())
      .def("apply", &apply_events, py::arg("events"), py::arg("bbo_out") = py::none())
      .def("level_events", [](PyOrderBook& b) { return drain_level_events(b.idle().level_buf); })
      .def(
          "set_timestamps",
          [](PyOrderBook& b, std::int64_t ts_exchange_ns, std::int64_t ts_recv_ns) {
            b.idle().set_timestamps(ts_exchange_ns, ts_recv_ns);
          },
          py::arg("ts_exchange_ns"), py::arg("ts_recv_ns"))
      .def_property_readonly("anomalies", [](const PyOrderBook& b) { return anomalies(b.idle()); })
      .def_property_readonly("anomaly_total",
                             [](const PyOrderBook& b) { return b.idle().anomaly_total(); })
      .def("reserve", [](PyOrderBook& b, std::size_t n) { b.idle().reserve(checked_reserve(n)); },
           py::arg("orders"))
      .def("memory_bytes", [](const PyOrderBook& b) { return b.idle().memory_bytes(); })
      .def("check_invariants", [](const PyOrderBook& b) { b.idle().check_invariants(); })
      .def("copy", &copy_book)
      .def("__copy__", &copy_book)
      .def("__deepcopy__", [](const py::object& self, const py::handle&) { return copy_book(self); },
           py::arg("memo"))
      .def("__repr__", [](const PyOrderBook& b) { return repr(b.idle()); })
      .def(py::pickle(&pickle_state, &unpickle));
  def_book_queries(cls);
  install_order_book_fast_paths(cls);
}

}  // namespace crossbook::bindings
