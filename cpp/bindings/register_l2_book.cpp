#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"
#include "crossbook/l2_book.hpp"
#include "py_l2_book.hpp"

namespace crossbook::bindings {

namespace {


py::array_t<DepthRow> side_rows(const BookSide& s, std::size_t n) {
  const std::size_t rows = std::min(n, s.size());
  py::array_t<DepthRow> out(static_cast<py::ssize_t>(rows));
  s.depth(out.mutable_data(), rows);
  return out;
}

// Accepts an array of the depth dtype, or any sequence of (price, size[, count]).
py::array_t<DepthRow> as_depth_rows(const py::handle& obj, const char* what) {
  if (py::isinstance<py::array>(obj)) return require_array<DepthRow>(obj, what, false);
  auto seq = py::reinterpret_borrow<py::sequence>(obj);
  py::array_t<DepthRow> out(static_cast<py::ssize_t>(seq.size()));
  DepthRow* rows = out.mutable_data();
  for (std::size_t i = 0; i < seq.size(); ++i) {
    auto item = py::reinterpret_borrow<py::sequence>(seq[i]);
    if (item.size() != 2 && item.size() != 3)
      throw py::value_error(std::string(what) + " row " + std::to_string(i) +
                            " must be (price, size) or (price, size, count)");
    rows[i] = DepthRow{item[0].cast<Price>(), item[1].cast<Qty>(),
                       item.size() == 3 ? item[2].cast<std::int32_t>() : 0};
  }
  return out;
}

std::string repr(const PyL2Book& b) {
  auto top = [&](Side s) -> std::string {
    const BookSide& side = b.side(s);
    if (side.empty()) return "None";
    return decimal_text(side.best_size(), b.size_exp()) + " @ " +
           decimal_text(side.best_price(), b.price_exp());
  };
  return "L2Book(price_exp=" + std::to_string(b.price_exp()) +
         ", size_exp=" + std::to_string(b.size_exp()) +
         ", levels=" + std::to_string(b.side(Side::Bid).size()) + "/" +
         std::to_string(b.side(Side::Ask).size()) + ", bid=" + top(Side::Bid) +
         ", ask=" + top(Side::Ask) + (b.is_crossed() ? ", CROSSED" : "") + ")";
}

// Outputs written by another array of the same call would corrupt one of them
// mid-batch, so the byte ranges must be disjoint.
void check_disjoint(const std::vector<std::pair<const char*, py::array>>& arrays) {
  for (std::size_t i = 0; i < arrays.size(); ++i)
    for (std::size_t j = i + 1; j < arrays.size(); ++j) {
      const auto* a = static_cast<const char*>(arrays[i].second.data());
      const auto* b = static_cast<const char*>(arrays[j].second.data());
      if (a < b + arrays[j].second.nbytes() && b < a + arrays[i].second.nbytes())
        throw py::value_error(std::string(arrays[i].first) + " and " + arrays[j].first +
                              " share memory");
    }
}

void check_rows(const py::array& arr, const char* what, std::size_t n) {
  if (static_cast<std::size_t>(arr.shape(0)) < n)
    throw py::value_error(std::string(what) + " has " + std::to_string(arr.shape(0)) +
                          " rows, fewer than the " + std::to_string(n) + " events");
}

void apply_batch(PyL2Book& b, const py::handle& events_obj, const py::handle& bbo_obj,
                 const py::handle& depth_obj, const py::handle& features_obj, py::ssize_t levels) {
  if (levels < 1) throw py::value_error("n must be >= 1, got " + std::to_string(levels));
  auto events = require_array<LevelEvent>(events_obj, "events", false);
  const auto n = static_cast<std::size_t>(events.shape(0));
  ApplyRecord record;
  record.levels = static_cast<std::size_t>(levels);
  std::vector<std::pair<const char*, py::array>> arrays{{"events", events}};
  if (!bbo_obj.is_none()) {
    auto bbo = require_array<BboRow>(bbo_obj, "bbo_out", true);
    check_rows(bbo, "bbo_out", n);
    record.bbo = bbo.mutable_data();
    arrays.emplace_back("bbo_out", bbo);
  }
  if (!depth_obj.is_none()) {
    auto depth = require_array<DepthRow>(depth_obj, "depth_out", true, 3);
    check_rows(depth, "depth_out", n);
    if (depth.shape(1) != 2 || depth.shape(2) != levels)
      throw py::value_error("depth_out must have shape (rows, 2, n) with n=" + std::to_string(levels) +
                            ", got (" + std::to_string(depth.shape(0)) + ", " +
                            std::to_string(depth.shape(1)) + ", " + std::to_string(depth.shape(2)) +
                            ")");
    record.depth = depth.mutable_data();
    arrays.emplace_back("depth_out", depth);
  }
  if (!features_obj.is_none()) {
    auto features = require_array<BookFeatures>(features_obj, "features_out", true);
    check_rows(features, "features_out", n);
    record.features = features.mutable_data();
    arrays.emplace_back("features_out", features);
  }
  check_disjoint(arrays);
  const LevelEvent* data = events.data();
  BatchGuard guard(b.busy, PyL2Book::kName);
  // Safe without the GIL: the arrays are kept alive by this frame, the book
  // is guarded against use from other threads, and apply() checks each event
  // from the bytes it applies (another thread may write to the array).
  py::gil_scoped_release release;
  b.apply(data, n, record);
}

// Builds the copy through type(self) so that a Python subclass copies as itself.
// Holds the guard throughout: building the copy may run Python code (a
// subclass's __init__), which lets another thread in.
py::object copy_book(const py::object& self) {
  const auto& src = self.cast<const PyL2Book&>();
  BatchGuard guard(src.busy, PyL2Book::kName);
  py::object dst = py::type::of(self)(src.price_exp(), src.size_exp(), src.tick());
  static_cast<L2Book&>(dst.cast<PyL2Book&>()) = static_cast<const L2Book&>(src);
  return dst;
}

py::tuple pickle_state(const PyL2Book& b) {
  BatchGuard guard(b.busy, PyL2Book::kName);  // building the arrays may run Python code
  return py::make_tuple(b.price_exp(), b.size_exp(), side_rows(b.side(Side::Bid), b.size()),
                        side_rows(b.side(Side::Ask), b.size()), b.unknown_deletes(), b.tick());
}

PyL2Book unpickle(const py::tuple& t) {
  if (t.size() != 6) throw py::value_error("bad L2Book pickle state");
  PyL2Book b(t[0].cast<int>(), t[1].cast<int>(), t[5].cast<Price>());
  auto bids = require_array<DepthRow>(t[2], "bids", false);
  auto asks = require_array<DepthRow>(t[3], "asks", false);
  b.load_snapshot(bids.data(), static_cast<std::size_t>(bids.shape(0)), asks.data(),
                  static_cast<std::size_t>(asks.shape(0)));
  b.restore_unknown_deletes(t[4].cast<std::uint64_t>());
  return b;
}

}  // namespace

void register_l2_book(py::module_& m) {
  py::class_<PyL2Book> cls(m, "L2Book");
  cls
      .def(py::init<int, int, Price>(), py::arg("price_exp") = 0, py::arg("size_exp") = 0,
           py::arg("tick") = 1)
      .def_property_readonly("tick", [](const PyL2Book& b) { return b.idle().tick(); })
      .def("set_tick", [](PyL2Book& b, Price tick) { b.idle().set_tick(tick); }, py::arg("tick"))
      .def_property_readonly("price_exp", [](const PyL2Book& b) { return b.idle().price_exp(); })
      .def_property_readonly("size_exp", [](const PyL2Book& b) { return b.idle().size_exp(); })
      .def(
          "_update",  // keyword-argument path of update(); see l2_fast_path.cpp
          [](PyL2Book& b, int side, Price price, Qty size, std::int32_t count) {
            return b.idle().update(side_from_int(side), price, size, count);
          },
          py::arg("side"), py::arg("price"), py::arg("size"), py::arg("count") = 0)
      .def(
          "_depth",  // general path of depth(); see l2_fast_path.cpp
          [](const PyL2Book& b, py::ssize_t n) {
            if (n < 0) throw py::value_error("n must be >= 0, got " + std::to_string(n));
            b.idle();
            const auto k = static_cast<std::size_t>(n);
            return py::make_tuple(side_rows(b.side(Side::Bid), k), side_rows(b.side(Side::Ask), k));
          },
          py::arg("n"))
      .def(
          "_depth_into",  // general path of depth_into(); see l2_fast_path.cpp
          [](const PyL2Book& b, const py::handle& bids_obj, const py::handle& asks_obj) {
            auto bids = require_array<DepthRow>(bids_obj, "bids", true);
            auto asks = require_array<DepthRow>(asks_obj, "asks", true);
            b.idle();
            const std::size_t nb = b.side(Side::Bid).depth(
                bids.mutable_data(), static_cast<std::size_t>(bids.shape(0)));
            const std::size_t na = b.side(Side::Ask).depth(
                asks.mutable_data(), static_cast<std::size_t>(asks.shape(0)));
            return py::make_tuple(nb, na);
          },
          py::arg("bids"), py::arg("asks"))
      .def("levels",
           [](const PyL2Book& b, int side) {
             const BookSide& s = b.idle().side(side_from_int(side));
             return side_rows(s, s.size());
           },
           py::arg("side"))
      .def(
          "level",
          [](const PyL2Book& b, int side, Price price) -> py::object {
            auto l = b.idle().side(side_from_int(side)).level(price);
            if (!l) return py::none();
            return py::make_tuple(l->size, l->count);
          },
          py::arg("side"), py::arg("price"))
      .def("_apply",  // general path of apply(); see l2_fast_path.cpp
           &apply_batch, py::arg("events"), py::arg("bbo_out") = py::none(), py::kw_only(),
           py::arg("depth_out") = py::none(), py::arg("features_out") = py::none(),
           py::arg("n") = 10)
      .def(
          "load_snapshot",
          [](PyL2Book& b, const py::handle& bids_obj, const py::handle& asks_obj) {
            auto bids = as_depth_rows(bids_obj, "bids");
            auto asks = as_depth_rows(asks_obj, "asks");
            b.idle().load_snapshot(bids.data(), static_cast<std::size_t>(bids.shape(0)),
                                   asks.data(), static_cast<std::size_t>(asks.shape(0)));
          },
          py::arg("bids"), py::arg("asks"))
      .def("clear", [](PyL2Book& b) { b.idle().clear(); })
      .def("truncate", [](PyL2Book& b, std::size_t n) { return b.idle().truncate(n); }, py::arg("n"))
      .def("__len__", [](const PyL2Book& b) { return b.idle().size(); })
      .def("copy", &copy_book)
      .def("__copy__", &copy_book)
      .def("__deepcopy__", [](const py::object& self, const py::handle&) { return copy_book(self); },
           py::arg("memo"))
      .def("mid", [](const PyL2Book& b) { return b.idle().mid(); })
      .def("spread", [](const PyL2Book& b) { return b.idle().spread(); })
      .def("microprice", [](const PyL2Book& b) { return b.idle().microprice(); })
      .def(
          "imbalance",
          [](const PyL2Book& b, py::ssize_t n) {
            if (n < 1) throw py::value_error("n must be >= 1, got " + std::to_string(n));
            return b.idle().imbalance(static_cast<std::size_t>(n));
          },
          py::arg("n") = 1)
      .def(
          "_cost_to_fill",
          [](const PyL2Book& b, int side, Qty size) {
            FillEstimate f = b.idle().cost_to_fill(side_from_int(side), size);
            return py::make_tuple(f.filled, int128_to_py(f.notional), f.worst_price);
          },
          py::arg("side"), py::arg("size"))
      .def("format_price",
           [](const PyL2Book& b, Price p) { return decimal_text(p, b.idle().price_exp()); },
           py::arg("price"))
      .def("format_size", [](const PyL2Book& b, Qty q) { return decimal_text(q, b.idle().size_exp()); },
           py::arg("size"))
      .def_property_readonly("unknown_deletes",
                             [](const PyL2Book& b) { return b.idle().unknown_deletes(); })
      .def("memory_bytes", [](const PyL2Book& b) { return b.idle().memory_bytes(); })
      .def("check_invariants", [](const PyL2Book& b) { b.idle().check_invariants(); })
      .def("__repr__", [](const PyL2Book& b) { return repr(b.idle()); })
      .def(py::pickle(&pickle_state, &unpickle));
  install_l2_fast_paths(cls);
}

}  // namespace crossbook::bindings
