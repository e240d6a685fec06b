#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <limits>
#include <string>

#include "conversions.hpp"
#include "crossbook/matching_engine.hpp"
#include "py_l3.hpp"

namespace crossbook::bindings {

PyMatchingEngine::PyMatchingEngine(const EngineConfig& config, int price_exp, int size_exp,
                                   bool track)
    : MatchingEngine(config, price_exp, size_exp), track_levels(track) {
  if (track_levels) set_level_sink(&level_buf);
}

PyMatchingEngine::PyMatchingEngine(const PyMatchingEngine& other)
    : MatchingEngine(other),
      track_levels(other.track_levels),
      level_buf(other.level_buf),
      fills(other.fills),
      rejects(other.rejects) {
  set_level_sink(track_levels ? &level_buf : nullptr);
}

namespace {

constexpr const char* kName = PyMatchingEngine::kName;

// An optional limit: None = off, else an int that must be > 0 (>= 0 when
// `zero_ok`), since the core's "0 = off" would be a surprising spelling.
template <class T>
T optional_limit(const py::object& obj, const char* name, bool zero_ok = false) {
  if (obj.is_none()) return 0;
  const Int128 v = int128_from_py(obj, name);
  if (v < (zero_ok ? 0 : 1) || v > static_cast<Int128>(std::numeric_limits<T>::max()))
    throw py::value_error(std::string(name) + " must be None or an int " +
                          (zero_ok ? ">= 0" : "> 0") + " that fits " +
                          (sizeof(T) == 16 ? "int128" : "int64") + ", got " +
                          py::str(obj).cast<std::string>());
  return static_cast<T>(v);
}

py::object none_if_zero(Int128 v) { return v == 0 ? py::object(py::none()) : py::object(int128_to_py(v)); }

PyMatchingEngine make_engine(int price_exp, int size_exp, int stp, const py::object& max_order_size,
                             const py::object& max_notional, const py::object& price_band_bps,
                             const py::object& reference_price, bool reference_follows_trades,
                             const py::object& halt_move_bps, const py::object& halt_window_ns,
                             bool track_levels) {
  EngineConfig c;
  if (stp < 1 || stp > 5)
    throw py::value_error("stp must be a StpMode other than DEFAULT (1-5), got " + std::to_string(stp));
  c.stp = static_cast<StpMode>(stp);
  c.max_order_size = optional_limit<Qty>(max_order_size, "max_order_size");
  c.max_notional = optional_limit<Int128>(max_notional, "max_notional");
  c.band_bps = optional_limit<std::int64_t>(price_band_bps, "price_band_bps");
  c.reference_follows_trades = reference_follows_trades;
  if (halt_move_bps.is_none() != halt_window_ns.is_none())
    throw py::value_error("halt_move_bps and halt_window_ns go together: give both or neither");
  c.halt_move_bps = optional_limit<std::int64_t>(halt_move_bps, "halt_move_bps");
  c.halt_window_ns = optional_limit<std::int64_t>(halt_window_ns, "halt_window_ns", true);
  PyMatchingEngine e(c, price_exp, size_exp, track_levels);
  if (!reference_price.is_none()) e.set_reference_price(reference_price.cast<Price>());
  return e;
}

// Hands the vector's buffer to numpy without a copy: the array owns it.
template <class T>
py::array_t<T> adopt(std::vector<T>&& items) {
  auto* owned = new std::vector<T>(std::move(items));
  py::capsule free_it(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(static_cast<py::ssize_t>(owned->size()), owned->data(), free_it);
}

py::tuple submit_batch(PyMatchingEngine& e, const py::handle& requests_obj) {
  auto requests = require_array<OrderRequest>(requests_obj, "requests", false);
  const auto n = static_cast<std::size_t>(requests.shape(0));
  const OrderRequest* data = requests.data();
  // Capacity for about one fill and one reject in four per request: address
  // space only, the pages are touched as they fill, and rarely regrown.
  FillSink fills;
  RejectSink rejects;
  fills.reserve(n + 16);
  rejects.reserve(n / 4 + 16);
  {
    BatchGuard guard(e.busy, kName);
    // Safe without the GIL: the array is kept alive by this frame, the
    // output vectors are local, and the engine is guarded against use from
    // other threads.
    py::gil_scoped_release release;
    e.submit_batch(data, n, fills, rejects);
  }
  return py::make_tuple(adopt(std::move(fills)), adopt(std::move(rejects)));
}

template <class T>
py::array_t<T> drain(std::vector<T>& items) {
  py::array_t<T> out = to_array(items);
  items.clear();
  return out;
}

std::string repr(const PyMatchingEngine& e) {
  const OrderBook& b = e.book();
  std::string s = "MatchingEngine(price_exp=" + std::to_string(b.price_exp()) +
                  ", size_exp=" + std::to_string(b.size_exp()) +
                  ", orders=" + std::to_string(b.size()) +
                  ", levels=" + std::to_string(b.level_count(Side::Bid)) + "/" +
                  std::to_string(b.level_count(Side::Ask)) + ", bid=" + touch_text(b, Side::Bid) +
                  ", ask=" + touch_text(b, Side::Ask) + ", trades=" + std::to_string(e.trade_count());
  if (e.halted()) s += ", HALTED";
  return s + ")";
}

py::object copy_engine(const py::object& self) {
  // The engine's controls are all in its C++ state: copy that, then restore
  // the Python subclass (if any) around it.
  // The guard is held throughout: type(self)() may run Python code (a
  // subclass's __init__), which lets another thread in.
  const auto& src = self.cast<const PyMatchingEngine&>();
  BatchGuard guard(src.busy, kName);
  py::object dst = py::type::of(self)();
  auto& d = dst.cast<PyMatchingEngine&>();
  static_cast<MatchingEngine&>(d) = static_cast<const MatchingEngine&>(src);
  d.track_levels = src.track_levels;
  d.level_buf = src.level_buf;
  d.fills = src.fills;
  d.rejects = src.rejects;
  d.set_level_sink(d.track_levels ? &d.level_buf : nullptr);
  return dst;
}

void def_controls(py::class_<PyMatchingEngine>& cls) {
  cls.def("halt", [](PyMatchingEngine& e) { e.idle().halt(); })
      .def("resume", [](PyMatchingEngine& e) { e.idle().resume(); })
      .def_property_readonly("halted", [](const PyMatchingEngine& e) { return e.idle().halted(); })
      .def(
          "kill",
          [](PyMatchingEngine& e, std::uint64_t owner, std::int64_t ts_ns) {
            auto& en = e.idle();
            return en.kill(owner, ts_ns, en.rejects);
          },
          py::arg("owner"), py::arg("ts_ns") = 0)
      .def("release", [](PyMatchingEngine& e, std::uint64_t owner) { e.idle().release(owner); },
           py::arg("owner"))
      .def("killed", [](const PyMatchingEngine& e, std::uint64_t owner) { return e.idle().killed(owner); },
           py::arg("owner"))
      .def_property(
          "reference_price",
          [](const PyMatchingEngine& e) { return e.idle().reference_price(); },
          [](PyMatchingEngine& e, std::optional<Price> p) { e.idle().set_reference_price(p); })
      .def_property_readonly("_stp",
                             [](const PyMatchingEngine& e) { return static_cast<int>(e.idle().config().stp); })
      .def_property_readonly("max_order_size",
                             [](const PyMatchingEngine& e) { return none_if_zero(e.idle().config().max_order_size); })
      .def_property_readonly("max_notional",
                             [](const PyMatchingEngine& e) { return none_if_zero(e.idle().config().max_notional); })
      .def_property_readonly("price_band_bps",
                             [](const PyMatchingEngine& e) { return none_if_zero(e.idle().config().band_bps); })
      .def_property_readonly("reference_follows_trades", [](const PyMatchingEngine& e) {
        return e.idle().config().reference_follows_trades;
      })
      .def_property_readonly("halt_move_bps",
                             [](const PyMatchingEngine& e) { return none_if_zero(e.idle().config().halt_move_bps); })
      .def_property_readonly("halt_window_ns", [](const PyMatchingEngine& e) -> py::object {
        const EngineConfig& c = e.idle().config();
        return c.halt_move_bps ? py::object(py::int_(c.halt_window_ns)) : py::object(py::none());
      });
}

void def_tape(py::class_<PyMatchingEngine>& cls) {
  cls.def_property_readonly("last_trade_price",
                            [](const PyMatchingEngine& e) { return e.idle().last_trade_price(); })
      .def_property_readonly("trade_count", [](const PyMatchingEngine& e) { return e.idle().trade_count(); })
      .def_property_readonly("traded_volume",
                             [](const PyMatchingEngine& e) { return int128_to_py(e.idle().traded_volume()); })
      .def("take_fills", [](PyMatchingEngine& e) { return drain(e.idle().fills); })
      .def("take_rejects", [](PyMatchingEngine& e) { return drain(e.idle().rejects); })
      .def("level_events", [](PyMatchingEngine& e) { return drain(e.idle().level_buf); })
      .def_property_readonly("track_levels", [](const PyMatchingEngine& e) { return e.idle().track_levels; });
}

template <class E>
py::dict members(std::initializer_list<std::pair<const char*, E>> items) {
  py::dict d;
  for (const auto& [name, value] : items) d[name] = static_cast<int>(value);
  return d;
}

}  // namespace

// The core's enum numbering, for the test that checks crossbook's IntEnums
// against it (the names are the Python ones).
void register_l3_enums(py::module_& m) {
  using R = RejectReason;
  py::dict enums;
  enums["RejectReason"] = members<R>(
      {{"INVALID_TYPE", R::InvalidType}, {"INVALID_SIDE", R::InvalidSide},
       {"INVALID_TIF", R::InvalidTif}, {"INVALID_STP", R::InvalidStp},
       {"INVALID_FLAGS", R::InvalidFlags}, {"INVALID_PRICE", R::InvalidPrice},
       {"INVALID_SIZE", R::InvalidSize}, {"DUPLICATE_ORDER_ID", R::DuplicateOrderId},
       {"UNKNOWN_ORDER", R::UnknownOrder}, {"OWNER_MISMATCH", R::OwnerMismatch},
       {"MAX_ORDER_SIZE", R::MaxOrderSize}, {"MAX_NOTIONAL", R::MaxNotional},
       {"PRICE_BAND", R::PriceBand}, {"HALTED", R::Halted}, {"KILL_SWITCH", R::KillSwitch},
       {"POST_ONLY_WOULD_TAKE", R::PostOnlyWouldTake}, {"FOK_NOT_FILLABLE", R::FokNotFillable},
       {"SELF_TRADE", R::SelfTrade}, {"EXPIRED", R::Expired}});
  enums["OrderType"] = members<OrderType>({{"LIMIT", OrderType::Limit},
                                           {"MARKET", OrderType::Market},
                                           {"CANCEL", OrderType::Cancel},
                                           {"MODIFY", OrderType::Modify}});
  enums["TimeInForce"] = members<TimeInForce>(
      {{"GTC", TimeInForce::Gtc}, {"IOC", TimeInForce::Ioc}, {"FOK", TimeInForce::Fok}});
  enums["StpMode"] = members<StpMode>(
      {{"DEFAULT", StpMode::Default}, {"NONE", StpMode::None},
       {"CANCEL_NEWEST", StpMode::CancelNewest}, {"CANCEL_OLDEST", StpMode::CancelOldest},
       {"CANCEL_BOTH", StpMode::CancelBoth}, {"DECREMENT", StpMode::Decrement}});
  enums["OrderAction"] = members<OrderAction>(
      {{"ADD", OrderAction::Add}, {"MODIFY", OrderAction::Modify}, {"CANCEL", OrderAction::Cancel},
       {"CLEAR", OrderAction::Clear}, {"EXECUTE", OrderAction::Execute}});
  py::list anomalies;
  for (std::size_t k = 0; k < kAnomalyKinds; ++k) anomalies.append(anomaly_name(static_cast<Anomaly>(k)));
  enums["Anomaly"] = anomalies;
  m.attr("_L3_ENUMS") = enums;
}

void register_matching_engine(py::module_& m) {
  py::class_<PyMatchingEngine> cls(m, "MatchingEngine");
  cls.def(py::init(&make_engine), py::arg("price_exp") = 0, py::arg("size_exp") = 0, py::kw_only(),
          py::arg("stp") = static_cast<int>(StpMode::None), py::arg("max_order_size") = py::none(),
          py::arg("max_notional") = py::none(), py::arg("price_band_bps") = py::none(),
          py::arg("reference_price") = py::none(), py::arg("reference_follows_trades") = false,
          py::arg("halt_move_bps") = py::none(), py::arg("halt_window_ns") = py::none(),
          py::arg("track_levels") = false)
      .def_property_readonly("price_exp", [](const PyMatchingEngine& e) { return e.idle().book().price_exp(); })
      .def_property_readonly("size_exp", [](const PyMatchingEngine& e) { return e.idle().book().size_exp(); })
      .def("submit_batch", &submit_batch, py::arg("requests"))
      .def("clear", [](PyMatchingEngine& e) { e.idle().clear(); })
      .def("reserve", [](PyMatchingEngine& e, std::size_t n) { e.idle().reserve(checked_reserve(n)); },
           py::arg("orders"))
      .def("memory_bytes", [](const PyMatchingEngine& e) { return e.idle().memory_bytes(); })
      .def("check_invariants", [](const PyMatchingEngine& e) { e.idle().check_invariants(); })
      .def("copy", &copy_engine)
      .def("__copy__", &copy_engine)
      .def("__deepcopy__", [](const py::object& self, const py::handle&) { return copy_engine(self); },
           py::arg("memo"))
      .def("__repr__", [](const PyMatchingEngine& e) { return repr(e.idle()); });
  def_controls(cls);
  def_tape(cls);
  install_engine_fast_paths(cls);

  py::class_<EngineBookView> view(m, "OrderBookView");
  view.def(py::init([](const py::object& engine) {
             if (!py::isinstance<PyMatchingEngine>(engine))
               throw py::type_error("OrderBookView needs a MatchingEngine, got " +
                                    py::str(py::type::of(engine)).cast<std::string>());
             return EngineBookView(engine);
           }),
           py::arg("engine"))
      .def("__repr__", [](const EngineBookView& v) {
        const OrderBook& b = v.view();
        return "OrderBookView(orders=" + std::to_string(b.size()) + ", levels=" +
               std::to_string(b.level_count(Side::Bid)) + "/" + std::to_string(b.level_count(Side::Ask)) +
               ", bid=" + touch_text(b, Side::Bid) + ", ask=" + touch_text(b, Side::Ask) + ")";
      });
  def_book_queries(view);
  install_view_fast_paths(view);
}

}  // namespace crossbook::bindings
