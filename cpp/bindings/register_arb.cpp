// Bindings of the arbitrage core: the exact best_opportunity walk and the
// streaming ArbScanner. The Python facade is crossbook.arb.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "busy_flag.hpp"
#include "checked_caster.hpp"
#include "conversions.hpp"
#include "crossbook/arb.hpp"
#include "py_l2_book.hpp"

namespace crossbook::bindings {

// The scanner plus the binding's guard: batch calls run without the GIL.
struct PyArbScanner {
  static constexpr const char* kName = "ArbScanner";
  explicit PyArbScanner(ScannerConfig c) : scanner(std::move(c)) {}
  ArbScanner scanner;
  BusyFlag busy;

  ArbScanner& idle() {
    busy.check(kName);
    return scanner;
  }
};

// A read-only window on one of the scanner's books: no copy, so reading the touch
// after every message stays cheap. It keeps the scanner alive (py::keep_alive).
struct ArbBookView {
  static constexpr const char* kName = "ArbBookView";
  PyArbScanner* owner;
  std::size_t index;
  const L2Book& book() const { return owner->idle().book(index); }
};

}  // namespace crossbook::bindings

namespace pybind11::detail {
template <>
class type_caster<crossbook::bindings::PyArbScanner>
    : public crossbook::bindings::checked_caster<crossbook::bindings::PyArbScanner> {};
template <>
class type_caster<crossbook::bindings::ArbBookView>
    : public crossbook::bindings::checked_caster<crossbook::bindings::ArbBookView> {};
}  // namespace pybind11::detail

namespace crossbook::bindings {

namespace {

FeeCbps fee_from(long long v, const char* what) {
  if (v < -kMaxFeeCbps || v > kMaxFeeCbps)
    throw py::value_error(std::string(what) + " must be within +-" + std::to_string(kMaxFeeCbps) +
                          " centi-bps, got " + std::to_string(v));
  return static_cast<FeeCbps>(v);
}

// (size, buy_notional, sell_notional, buy_price, sell_price, pnl_num, edge_bps);
// the 128-bit values become Python ints.
py::object opportunity_tuple(const std::optional<Opportunity>& o) {
  if (!o) return py::none();
  return py::make_tuple(o->size, int128_to_py(o->buy_notional), int128_to_py(o->sell_notional),
                        o->buy_price, o->sell_price, int128_to_py(o->pnl_num), o->edge_bps);
}



py::array_t<OpportunityEvent> to_array(const std::vector<OpportunityEvent>& events) {
  py::array_t<OpportunityEvent> out(static_cast<py::ssize_t>(events.size()));
  if (!events.empty())
    std::memcpy(out.mutable_data(), events.data(), events.size() * sizeof(OpportunityEvent));
  return out;
}

py::array_t<OpportunityEvent> process(PyArbScanner& s, const py::handle& events_obj) {
  auto events = require_array<ScanEvent>(events_obj, "events", false);
  const auto n = static_cast<std::size_t>(events.shape(0));
  const ScanEvent* data = events.data();
  std::vector<OpportunityEvent> out;
  {
    BatchGuard guard(s.busy, PyArbScanner::kName);
    // Safe without the GIL: the input array is kept alive by this frame, the
    // output is ours, the scanner is guarded against other threads, and it
    // checks each event from the bytes it applies (the array may be written to).
    py::gil_scoped_release release;
    const std::size_t cap = std::max<std::size_t>(s.scanner.max_events_per_input(), 4096);
    std::vector<OpportunityEvent> buf(cap);
    std::size_t done = 0;
    while (done < n) {
      const ScanResult r = s.scanner.process(data + done, n - done, buf.data(), cap);
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.emitted));
      done += r.consumed;
    }
  }
  return to_array(out);
}

py::array_t<OpportunityEvent> set_synced(PyArbScanner& s, std::size_t book, bool synced,
                                         std::int64_t ts_ns) {
  ArbScanner& sc = s.idle();
  if (book >= sc.num_books())
    throw py::index_error("book " + std::to_string(book) + " out of range");
  std::vector<OpportunityEvent> buf(std::max<std::size_t>(sc.max_events_per_input(), 1));
  const ScanResult r = sc.set_synced(book, synced, ts_ns, buf.data(), buf.size());
  buf.resize(r.emitted);
  return to_array(buf);
}

py::array_t<OpportunityEvent> flush(PyArbScanner& s, std::int64_t ts_ns) {
  ArbScanner& sc = s.idle();
  std::vector<OpportunityEvent> out, buf(256);
  for (std::size_t k; (k = sc.flush(ts_ns, buf.data(), buf.size())) > 0;)
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k));
  return to_array(out);
}


void register_book_view(py::module_& m) {
  py::class_<ArbBookView>(m, "ArbBookView")
      .def_property_readonly("price_exp", [](const ArbBookView& v) { return v.book().price_exp(); })
      .def_property_readonly("size_exp", [](const ArbBookView& v) { return v.book().size_exp(); })
      .def_property_readonly("tick", [](const ArbBookView& v) { return v.book().tick(); })
      .def("__len__", [](const ArbBookView& v) { return v.book().size(); })
      .def("bbo", [](const ArbBookView& v) {
        return py::make_tuple(level_tuple(v.book().side(Side::Bid)),
                              level_tuple(v.book().side(Side::Ask)));
      })
      .def("mid", [](const ArbBookView& v) { return v.book().mid(); })
      .def("depth",
           [](const ArbBookView& v, std::size_t n) {
             return py::make_tuple(rows_of(v.book().side(Side::Bid), n),
                                   rows_of(v.book().side(Side::Ask), n));
           },
           py::arg("n"))
      .def("levels",
           [](const ArbBookView& v, int side) {
             const BookSide& s = v.book().side(side_from_int(side));
             return rows_of(s, s.size());
           },
           py::arg("side"))
      .def("_cost_to_fill",
           [](const ArbBookView& v, int side, Qty size) {
             FillEstimate f = v.book().cost_to_fill(side_from_int(side), size);
             return py::make_tuple(f.filled, int128_to_py(f.notional), f.worst_price);
           },
           py::arg("side"), py::arg("size"));
}

std::size_t checked_book(ArbScanner& sc, std::size_t i) {
  if (i >= sc.num_books()) throw py::index_error("book " + std::to_string(i) + " out of range");
  return i;
}

ScannerConfig make_config(int price_exp, int size_exp, const std::vector<long long>& fees,
                          const std::vector<Price>& ticks, std::optional<std::int64_t> max_age_ns,
                          std::optional<Qty> max_size, const std::string& mode) {
  ScannerConfig c;
  c.price_exp = price_exp;
  c.size_exp = size_exp;
  for (long long f : fees) c.taker_fee_cbps.push_back(fee_from(f, "taker fee"));
  c.ticks = ticks;
  c.max_age_ns = max_age_ns.value_or(kNoMaxAge);
  c.max_size = max_size;
  if (mode == "every_event")
    c.mode = ScanMode::EveryEvent;
  else if (mode == "message_end")
    c.mode = ScanMode::MessageEnd;
  else
    throw py::value_error("mode must be 'every_event' or 'message_end', got '" + mode + "'");
  return c;
}

}  // namespace

void register_arb(py::module_& m) {
  register_book_view(m);
  m.def(
      "best_opportunity",
      [](const PyL2Book& buy, const PyL2Book& sell, long long fee_buy, long long fee_sell,
         std::optional<Qty> max_size) {
        return opportunity_tuple(best_opportunity(buy.idle(), sell.idle(),
                                                  fee_from(fee_buy, "buy fee"),
                                                  fee_from(fee_sell, "sell fee"), max_size));
      },
      py::arg("buy_book"), py::arg("sell_book"), py::arg("fee_buy_cbps"), py::arg("fee_sell_cbps"),
      py::arg("max_size") = py::none());
  m.attr("FEE_DENOMINATOR") = kFeeDenominator;

  py::class_<PyArbScanner>(m, "ArbScanner")
      .def(py::init([](int price_exp, int size_exp, const std::vector<long long>& fees,
                       const std::vector<Price>& ticks, std::optional<std::int64_t> max_age_ns,
                       std::optional<Qty> max_size, const std::string& mode) {
             return new PyArbScanner(
                 make_config(price_exp, size_exp, fees, ticks, max_age_ns, max_size, mode));
           }),
           py::arg("price_exp"), py::arg("size_exp"), py::arg("taker_fee_cbps"),
           py::arg("ticks") = std::vector<Price>{}, py::arg("max_age_ns") = py::none(),
           py::arg("max_size") = py::none(), py::arg("mode") = "every_event")
      .def("process", &process, py::arg("events"))
      .def("set_synced", &set_synced, py::arg("book"), py::arg("synced"), py::arg("ts_ns"))
      .def("flush", &flush, py::arg("ts_ns"))
      .def_property_readonly("num_books", [](PyArbScanner& s) { return s.idle().num_books(); })
      .def_property_readonly("now", [](PyArbScanner& s) { return s.idle().now(); })
      .def_property_readonly("open_count", [](PyArbScanner& s) { return s.idle().open_count(); })
      .def("usable",
           [](PyArbScanner& s, std::size_t i) {
             ArbScanner& sc = s.idle();
             return sc.usable(checked_book(sc, i));
           },
           py::arg("book"))
      .def("open_opportunity",
           [](PyArbScanner& s, std::size_t buy, std::size_t sell) {
             ArbScanner& sc = s.idle();
             return opportunity_tuple(sc.open_opportunity(checked_book(sc, buy), checked_book(sc, sell)));
           },
           py::arg("buy"), py::arg("sell"))
      .def("book",
           [](PyArbScanner& s, std::size_t i) {
             return ArbBookView{&s, checked_book(s.idle(), i)};
           },
           py::arg("book"), py::keep_alive<0, 1>())
      .def("book_copy",
           [](PyArbScanner& s, std::size_t i) {
             ArbScanner& sc = s.idle();
             const L2Book& src = sc.book(checked_book(sc, i));
             PyL2Book copy(src.price_exp(), src.size_exp(), src.tick());
             static_cast<L2Book&>(copy) = src;
             return copy;
           },
           py::arg("book"));
}

}  // namespace crossbook::bindings
