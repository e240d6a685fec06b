// Bindings of the execution simulator's core. The Python facade is crossbook.sim;
// this file only converts and checks.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "busy_flag.hpp"
#include "checked_caster.hpp"
#include "conversions.hpp"
#include "crossbook/sim/cross_arb.hpp"
#include "crossbook/sim/simulator.hpp"

namespace crossbook::bindings {

// The simulator plus the binding's guard: advance() runs without the GIL.
struct PySimulator {
  static constexpr const char* kName = "Simulator";
  explicit PySimulator(std::vector<sim::VenueSpec> specs) : core(std::move(specs)) {}
  sim::Simulator core;
  BusyFlag busy;

  sim::Simulator& idle() {
    busy.check(kName);
    return core;
  }
};

}  // namespace crossbook::bindings

namespace pybind11::detail {
template <>
class type_caster<crossbook::bindings::PySimulator>
    : public crossbook::bindings::checked_caster<crossbook::bindings::PySimulator> {};
}  // namespace pybind11::detail

namespace crossbook::bindings {

namespace {

using namespace crossbook::sim;

// (price_exp, size_exp, tick, entry_ns, response_ns, maker_cbps, taker_cbps, synced, queue)
using VenueArgs = std::tuple<int, int, Price, std::int64_t, std::int64_t, std::int32_t, std::int32_t,
                             bool, std::string>;

// Names as crossbook.sim.models.VenueConfig.core_args passes them; "power:N"
// takes a decimal exponent N >= 0 (a Python float's repr).
std::unique_ptr<QueueModel> queue_model(const std::string& name) {
  if (name == "conservative") return std::make_unique<ConservativeQueue>();
  if (name == "linear") return std::make_unique<LinearQueue>();
  if (name == "log") return std::make_unique<LogQueue>();
  if (name.rfind("power:", 0) == 0) {
    const std::string text = name.substr(6);
    std::size_t used = 0;
    double n = -1;
    try {
      n = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != text.size())
      throw py::value_error("queue model '" + name + "': the exponent is not a number");
    return std::make_unique<PowerQueue>(n);
  }
  throw py::value_error("unknown queue model '" + name + "' (known: conservative, linear, log, power:N)");
}

std::vector<VenueSpec> make_specs(const std::vector<VenueArgs>& venues) {
  std::vector<VenueSpec> specs;
  for (const auto& [pe, se, tick, entry, response, maker, taker, synced, queue] : venues) {
    if (tick < 1) throw py::value_error("tick must be >= 1, got " + std::to_string(tick));
    VenueSpec s;
    s.price_exp = pe;
    s.size_exp = se;
    s.tick = tick;
    s.synced = synced;
    s.latency = std::make_unique<ConstantLatency>(entry, response);
    s.fees = std::make_unique<CbpsFeeModel>(maker, taker);
    s.queue = queue_model(queue);
    specs.push_back(std::move(s));
  }
  return specs;
}

std::size_t checked_venue(const Simulator& sim, std::size_t v) {
  if (v >= sim.num_venues()) throw py::index_error("venue " + std::to_string(v) + " out of range");
  return v;
}

template <class T>
py::array_t<T> to_array(const T* rows, std::size_t n) {
  py::array_t<T> out(static_cast<py::ssize_t>(n));
  if (n) std::memcpy(out.mutable_data(), rows, n * sizeof(T));
  return out;
}

// One side of a touch: (price, size), or None for an empty side (size 0).
py::object side_tuple(Price price, Qty size) {
  if (size == 0) return py::none();
  return py::make_tuple(price, size);
}

py::object advance(PySimulator& s, std::int64_t until_ns) {
  std::optional<SimEvent> ev;
  {
    BatchGuard guard(s.busy, PySimulator::kName);
    // Safe without the GIL: the simulator owns copies of every input row and
    // is guarded against use from another thread until this returns.
    py::gil_scoped_release release;
    ev = s.core.advance(until_ns);
  }
  if (!ev) return py::none();
  if (ev->kind == EventKind::Touch) {
    const BboRow& t = s.core.touch(ev->venue);
    return py::make_tuple(static_cast<int>(ev->kind), ev->ts_ns, ev->venue, ev->index,
                          side_tuple(t.bid_price, t.bid_size), side_tuple(t.ask_price, t.ask_size));
  }
  return py::make_tuple(static_cast<int>(ev->kind), ev->ts_ns, ev->venue, ev->index);
}

// The built-in cross-venue taker (cross_arb.hpp) over the whole run, without
// the GIL; returns (touch events, pairs traded).
py::tuple run_cross_arb(PySimulator& s, std::vector<std::int32_t> taker_cbps, Qty max_size,
                        std::int64_t cooldown_ns, std::int64_t until_ns) {
  CrossArbTaker strategy(s.idle(), CrossArbParams{std::move(taker_cbps), max_size, cooldown_ns});
  {
    BatchGuard guard(s.busy, PySimulator::kName);
    // Safe without the GIL, as advance(): the simulator owns its inputs and is
    // guarded against other threads, and the strategy calls no Python.
    py::gil_scoped_release release;
    strategy.run(s.core, until_ns);
  }
  return py::make_tuple(strategy.touch_events(), strategy.pairs_traded());
}

py::tuple response_tuple(const SimResponse& r) {
  return py::make_tuple(r.ts_venue_ns, r.ts_delivery_ns, r.order_id, r.price, r.size, r.leaves, r.fee,
                        r.venue, r.kind, r.status, r.reason, r.liquidity);
}

void register_sim_dtypes() {
  PYBIND11_NUMPY_DTYPE(TradeEvent, ts_exchange_ns, ts_recv_ns, price, size, side, reserved);
  PYBIND11_NUMPY_DTYPE(SimOrder, order_id, ts_decision_ns, ts_arrival_ns, price, trigger_price, size, filled,
                       venue, side, type, tif, flags, status, reason, reserved);
  PYBIND11_NUMPY_DTYPE(SimFill, ts_decision_ns, ts_arrival_ns, ts_fill_ns, order_id, price, size, fee,
                       venue, side, liquidity, reserved);
  PYBIND11_NUMPY_DTYPE(SimResponse, ts_venue_ns, ts_delivery_ns, order_id, price, size, leaves, fee,
                       venue, kind, status, reason, liquidity);
  PYBIND11_NUMPY_DTYPE(SimAccount, position, volume, cash_lo, cash_hi, fees_lo, fees_hi);
  PYBIND11_NUMPY_DTYPE(SimRiskEvent, ts_ns, order_id, value_lo, value_hi, limit_lo, limit_hi, venue, kind,
                       reason, reserved);
}

// (max_order_size, max_order_notional, max_position, max_open_orders,
//  max_orders_per_window, window_ns, asset index or -1); None is no limit.
using VenueRiskArgs = std::tuple<std::optional<Qty>, py::object, std::optional<Qty>, std::optional<std::int64_t>,
                                 std::optional<std::int64_t>, std::int64_t, std::int64_t>;
// (max_net_position by asset index, max_loss, max_drawdown, kill on breach, pause_ns, flatten_on_kill)
using PortfolioRiskArgs = std::tuple<std::vector<Qty>, py::object, py::object, bool, std::int64_t, bool>;

std::optional<Int128> optional_int128(const py::object& v, const char* name) {
  if (v.is_none()) return std::nullopt;
  return int128_from_py(v, name);
}

void configure_risk(PySimulator& s, const std::vector<VenueRiskArgs>& venues, const PortfolioRiskArgs& p) {
  std::vector<VenueLimits> limits;
  for (const auto& [size, notional, position, open, rate, window_ns, asset] : venues) {
    if (asset < -1 || asset >= static_cast<std::int64_t>(kNoAsset)) throw py::value_error("bad asset index");
    limits.push_back(VenueLimits{size, optional_int128(notional, "max_order_notional"), position, open, rate,
                                 window_ns, asset < 0 ? kNoAsset : static_cast<std::uint32_t>(asset)});
  }
  const auto& [net, loss, drawdown, kill, pause_ns, flatten] = p;
  s.idle().configure_risk(std::move(limits),
                          PortfolioLimits{net, optional_int128(loss, "max_loss"),
                                          optional_int128(drawdown, "max_drawdown"),
                                          kill ? OnBreach::Kill : OnBreach::Pause, pause_ns, flatten});
}

void register_inputs(py::class_<PySimulator>& cls) {
  cls.def("add_levels",
          [](PySimulator& s, std::size_t venue, const py::handle& rows) {
            Simulator& sim = s.idle();
            auto a = require_array<LevelEvent>(rows, "levels", false);
            // Copied once, with the GIL held: advance() never reads the caller's buffer.
            sim.add_levels(checked_venue(sim, venue), a.data(), static_cast<std::size_t>(a.shape(0)));
          },
          py::arg("venue"), py::arg("rows"))
      .def("add_trades",
           [](PySimulator& s, std::size_t venue, const py::handle& rows) {
             Simulator& sim = s.idle();
             auto a = require_array<TradeEvent>(rows, "trades", false);
             sim.add_trades(checked_venue(sim, venue), a.data(), static_cast<std::size_t>(a.shape(0)));
           },
           py::arg("venue"), py::arg("rows"))
      .def("set_empirical_latency",
           [](PySimulator& s, std::size_t venue, std::vector<std::int64_t> entry_ns,
              std::vector<std::int64_t> response_ns, std::uint64_t seed) {
             Simulator& sim = s.idle();
             sim.set_latency(checked_venue(sim, venue), std::make_unique<EmpiricalLatency>(
                                                            std::move(entry_ns), std::move(response_ns), seed));
           },
           py::arg("venue"), py::arg("entry_ns"), py::arg("response_ns"), py::arg("seed"))
      .def("set_uniform_latency",
           [](PySimulator& s, std::size_t venue, std::int64_t entry_lo_ns, std::int64_t entry_hi_ns,
              std::int64_t response_lo_ns, std::int64_t response_hi_ns, std::uint64_t seed) {
             Simulator& sim = s.idle();
             sim.set_latency(checked_venue(sim, venue),
                             std::make_unique<UniformLatency>(entry_lo_ns, entry_hi_ns, response_lo_ns,
                                                              response_hi_ns, seed));
           },
           py::arg("venue"), py::arg("entry_lo_ns"), py::arg("entry_hi_ns"), py::arg("response_lo_ns"),
           py::arg("response_hi_ns"), py::arg("seed"))
      .def("set_table_latency",
           [](PySimulator& s, std::size_t venue,
              const std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>& rows) {
             Simulator& sim = s.idle();
             std::vector<TableLatency::Row> table;
             table.reserve(rows.size());
             for (const auto& [from, entry, response] : rows) table.push_back(TableLatency::Row{from, entry, response});
             sim.set_latency(checked_venue(sim, venue), std::make_unique<TableLatency>(std::move(table)));
           },
           py::arg("venue"), py::arg("rows"))
      .def("set_impact",
           [](PySimulator& s, std::size_t venue, Price price_step, Qty size_unit, std::int64_t decay_ns) {
             Simulator& sim = s.idle();
             sim.set_impact(checked_venue(sim, venue),
                            std::make_unique<LinearDecayImpact>(price_step, size_unit, decay_ns));
           },
           py::arg("venue"), py::arg("price_step"), py::arg("size_unit"), py::arg("decay_ns"))
      .def("set_subscriptions", [](PySimulator& s, std::uint32_t mask) { s.idle().set_subscriptions(mask); },
           py::arg("mask"))
      .def("submit",
           [](PySimulator& s, std::uint32_t venue, int side, int type, int tif, Price price, Qty size,
              bool post_only, Price trigger_price) {
             if (type < 1 || type > 4)
               throw py::value_error("type must be 1 (limit), 2 (market), 3 (stop) or 4 (stop-limit)");
             if (tif < 1 || tif > 3) throw py::value_error("tif must be 1 (GTC), 2 (IOC) or 3 (FOK)");
             return s.idle().submit(sim::NewOrder{venue, side_from_int(side), static_cast<sim::OrderType>(type),
                                             static_cast<sim::TimeInForce>(tif), post_only, price, size,
                                             trigger_price});
           },
           py::arg("venue"), py::arg("side"), py::arg("type"), py::arg("tif"), py::arg("price"),
           py::arg("size"), py::arg("post_only"), py::arg("trigger_price") = 0)
      .def("cancel", [](PySimulator& s, std::uint64_t id) { s.idle().cancel(id); }, py::arg("order_id"))
      .def("modify",
           [](PySimulator& s, std::uint64_t id, Price price, Qty leaves) { s.idle().modify(id, price, leaves); },
           py::arg("order_id"), py::arg("price"), py::arg("leaves"))
      .def("set_timer", [](PySimulator& s, std::int64_t ts) { return s.idle().set_timer(ts); },
           py::arg("ts_ns"))
      .def("advance", &advance, py::arg("until_ns"))
      .def("configure_risk", &configure_risk, py::arg("venues"), py::arg("portfolio"))
      .def("kill", [](PySimulator& s, bool flatten) { s.idle().kill(flatten); }, py::arg("flatten"))
      .def("run_cross_arb", &run_cross_arb, py::arg("taker_cbps"), py::arg("max_size"),
           py::arg("cooldown_ns"), py::arg("until_ns"));
}

void register_reads(py::class_<PySimulator>& cls) {
  cls.def_property_readonly("now", [](PySimulator& s) { return s.idle().now(); })
      .def_property_readonly("num_venues", [](PySimulator& s) { return s.idle().num_venues(); })
      .def("next_ts", [](PySimulator& s) { return s.idle().next_ts(); })
      .def("orders", [](PySimulator& s) {
        const auto& v = s.idle().ledger().orders;
        return to_array(v.data(), v.size());
      })
      .def("fills", [](PySimulator& s) {
        const auto& v = s.idle().ledger().fills;
        return to_array(v.data(), v.size());
      })
      .def("responses", [](PySimulator& s) {
        const auto& v = s.idle().responses();
        return to_array(v.data(), v.size());
      })
      .def("risk_events", [](PySimulator& s) {
        const auto& v = s.idle().risk().events();
        return to_array(v.data(), v.size());
      })
      .def("accounts", [](PySimulator& s) {
        const Simulator& sim = s.idle();
        std::vector<SimAccount> rows;
        for (std::size_t i = 0; i < sim.num_venues(); ++i) rows.push_back(sim.venue(i).account());
        return to_array(rows.data(), rows.size());
      })
      .def("response",
           [](PySimulator& s, std::size_t i) {
             const auto& v = s.idle().responses();
             if (i >= v.size()) throw py::index_error("response " + std::to_string(i) + " out of range");
             return response_tuple(v[i]);
           },
           py::arg("index"))
      .def("touch",
           [](PySimulator& s, std::size_t v) {
             const Simulator& sim = s.idle();
             const BboRow& t = sim.touch(checked_venue(sim, v));
             return py::make_tuple(side_tuple(t.bid_price, t.bid_size), side_tuple(t.ask_price, t.ask_size));
           },
           py::arg("venue"))
      .def("level_row",
           [](PySimulator& s, std::size_t venue, std::size_t i) {
             const Simulator& sim = s.idle();
             const LevelEvent& e = sim.level_row(checked_venue(sim, venue), i);
             return py::make_tuple(e.ts_exchange_ns, e.ts_recv_ns, e.price, e.size, e.count, e.side,
                                   e.action, e.flags);
           },
           py::arg("venue"), py::arg("index"))
      .def("trade_row",
           [](PySimulator& s, std::size_t venue, std::size_t i) {
             const Simulator& sim = s.idle();
             const TradeEvent& t = sim.trade_row(checked_venue(sim, venue), i);
             return py::make_tuple(t.ts_exchange_ns, t.ts_recv_ns, t.price, t.size, t.side);
           },
           py::arg("venue"), py::arg("index"));
}

void register_venue_reads(py::class_<PySimulator>& cls) {
  cls.def("synced",
          [](PySimulator& s, std::size_t v) {
            const Simulator& sim = s.idle();
            return sim.venue(checked_venue(sim, v)).synced();
          },
          py::arg("venue"))
      .def("bbo",
           [](PySimulator& s, std::size_t v) {
             const Simulator& sim = s.idle();
             const L2Book& b = sim.venue(checked_venue(sim, v)).book();
             return py::make_tuple(level_tuple(b.side(Side::Bid)), level_tuple(b.side(Side::Ask)));
           },
           py::arg("venue"))
      .def("depth",
           [](PySimulator& s, std::size_t v, std::size_t n) {
             const Simulator& sim = s.idle();
             const L2Book& b = sim.venue(checked_venue(sim, v)).book();
             return py::make_tuple(rows_of(b.side(Side::Bid), n), rows_of(b.side(Side::Ask), n));
           },
           py::arg("venue"), py::arg("n"))
      .def("taken",
           [](PySimulator& s, std::size_t v, int side, Price price) {
             const Simulator& sim = s.idle();
             return sim.venue(checked_venue(sim, v)).taken(side_from_int(side), price);
           },
           py::arg("venue"), py::arg("side"), py::arg("price"))
      .def("queue_ahead",
           [](PySimulator& s, std::uint64_t id) -> std::optional<Qty> {
             const Simulator& sim = s.idle();
             const auto& orders = sim.ledger().orders;
             if (id == 0 || id > orders.size()) return std::nullopt;
             const QueueState* q = sim.venue(orders[id - 1].venue).queue_of(id);
             if (!q) return std::nullopt;
             return q->ahead;
           },
           py::arg("order_id"))
      .def("queue_state",
           [](PySimulator& s, std::uint64_t id) -> std::optional<std::tuple<Qty, Qty>> {
             const Simulator& sim = s.idle();
             const auto& orders = sim.ledger().orders;
             if (id == 0 || id > orders.size()) return std::nullopt;
             const QueueState* q = sim.venue(orders[id - 1].venue).queue_of(id);
             if (!q) return std::nullopt;
             return std::make_tuple(q->ahead, q->ahead_at_arrival);
           },
           py::arg("order_id"))
      .def("pnl",
           [](PySimulator& s, std::size_t v, Price mark) {
             const Simulator& sim = s.idle();
             const SimVenue& sv = sim.venue(checked_venue(sim, v));
             return int128_to_py(sv.cash() + static_cast<Int128>(sv.position()) * mark - sv.fees());
           },
           py::arg("venue"), py::arg("mark_price"))
      .def("account",
           [](PySimulator& s, std::size_t v) {
             const Simulator& sim = s.idle();
             const SimVenue& sv = sim.venue(checked_venue(sim, v));
             const SimAccount a = sv.account();
             return py::make_tuple(a.position, int128_to_py(sv.cash()), int128_to_py(sv.fees()), a.volume);
           },
           py::arg("venue"));
}

}  // namespace

void register_sim(py::module_& m) {
  register_sim_dtypes();
  py::class_<PySimulator> cls(m, "Simulator");
  cls.def(py::init([](const std::vector<VenueArgs>& venues) { return new PySimulator(make_specs(venues)); }),
          py::arg("venues"));
  register_inputs(cls);
  register_reads(cls);
  register_venue_reads(cls);
}

}  // namespace crossbook::bindings
