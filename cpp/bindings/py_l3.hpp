// The bound OrderBook and MatchingEngine: the core's objects plus what only the
// binding needs (a busy flag for GIL-released batches, output buffers, caches).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "busy_flag.hpp"
#include "checked_caster.hpp"
#include "crossbook/matching_engine.hpp"
#include "crossbook/order_book.hpp"

namespace crossbook::bindings {

namespace py = pybind11;


/// bbo() follows nearly every update and the touch rarely changes, so the last
/// tuple is handed out again while the best levels are what it was built from.
/// Only touched with the GIL held; a copy starts empty.
struct BboCache {
  BboCache() = default;
  BboCache(const BboCache&) {}
  BboCache& operator=(const BboCache&) { return *this; }
  py::object tuple;
  BboRow row{};
};

struct PyOrderBook : OrderBook {
  static constexpr const char* kName = "OrderBook";
  PyOrderBook(int price_exp, int size_exp, AnomalyPolicy policy, bool track_levels);
  // The sink must point at the copy's own buffer, never at the original's.
  PyOrderBook(const PyOrderBook& other);
  PyOrderBook& operator=(const PyOrderBook&) = delete;

  bool track_levels;
  std::vector<LevelEvent> level_buf;  // drained by level_events()
  mutable BboCache bbo_cache;
  mutable BusyFlag busy;

  const PyOrderBook& idle() const {
    busy.check(kName);
    return *this;
  }
  PyOrderBook& idle() {
    busy.check(kName);
    return *this;
  }
  const OrderBook& view() const { return idle(); }
  BboCache& bbo_cache_ref() const { return bbo_cache; }
};

struct PyMatchingEngine : MatchingEngine {
  static constexpr const char* kName = "MatchingEngine";
  PyMatchingEngine(const EngineConfig& config, int price_exp, int size_exp, bool track_levels);
  PyMatchingEngine(const PyMatchingEngine& other);
  PyMatchingEngine& operator=(const PyMatchingEngine&) = delete;

  bool track_levels;
  std::vector<LevelEvent> level_buf;
  FillSink fills;      // per-call outputs, drained by take_fills()
  RejectSink rejects;  // ... and take_rejects()
  mutable BboCache bbo_cache;
  mutable BusyFlag busy;

  const PyMatchingEngine& idle() const {
    busy.check(kName);
    return *this;
  }
  PyMatchingEngine& idle() {
    busy.check(kName);
    return *this;
  }
};

/// engine.book: read-only queries on an engine's book. Holds the engine
/// object, so the book it reads cannot go away under it.
struct EngineBookView {
  static constexpr const char* kName = "OrderBookView";
  explicit EngineBookView(py::object engine_obj)
      : owner(std::move(engine_obj)), engine(&owner.cast<PyMatchingEngine&>()) {}
  py::object owner;
  const PyMatchingEngine* engine;
  BboCache& bbo_cache_ref() const { return engine->bbo_cache; }
  const OrderBook& view() const { return engine->idle().book(); }
};

// ------------------------------------------------------------ shared queries

/// ((bid_price, bid_size) | None, (ask_price, ask_size) | None); new reference,
/// nullptr with a Python error set on failure.
PyObject* bbo_object(const OrderBook& book, BboCache& cache);
/// Up to n levels of one side, best first, as a DEPTH array.
py::array_t<DepthRow> depth_rows(const OrderBook& book, Side side, std::size_t n);
/// The orders of one side in priority order, as a RESTING_ORDER array.
py::array_t<OrderView> order_rows(const OrderBook& book, Side side);
/// LEVEL_EVENT array of the buffered level events; empties the buffer.
py::array_t<LevelEvent> drain_level_events(std::vector<LevelEvent>& buf);
/// Copies `items` into a new numpy array of T's dtype.
template <class T>
py::array_t<T> to_array(const std::vector<T>& items) {
  py::array_t<T> out(static_cast<py::ssize_t>(items.size()));
  if (!items.empty())
    std::memcpy(out.mutable_data(), items.data(), items.size() * sizeof(T));
  return out;
}
/// "5 @ 100.25" for the touch of `side`, or "None".
std::string touch_text(const OrderBook& book, Side side);

/// `n` for reserve(): the pools address orders with 32-bit indices.
inline std::size_t checked_reserve(std::size_t n) {
  constexpr std::size_t kMaxOrders = 0xFFFFFFFEu;
  if (n > kMaxOrders)
    throw py::value_error("orders must be at most " + std::to_string(kMaxOrders) + ", got " +
                          std::to_string(n));
  return n;
}

/// Defines the read-only queries shared by OrderBook and the engine's book
/// view: `Cls::view()` returns the book after its busy check.
template <class Cls>
void def_book_queries(py::class_<Cls>& cls);

/// Replaces per-call methods with vectorcall functions (l3_fast_path.cpp).
void install_order_book_fast_paths(py::class_<PyOrderBook>& cls);
void install_engine_fast_paths(py::class_<PyMatchingEngine>& cls);
void install_view_fast_paths(py::class_<EngineBookView>& cls);

}  // namespace crossbook::bindings

namespace pybind11::detail {
template <>
class type_caster<crossbook::bindings::PyOrderBook>
    : public crossbook::bindings::checked_caster<crossbook::bindings::PyOrderBook> {};
template <>
class type_caster<crossbook::bindings::PyMatchingEngine>
    : public crossbook::bindings::checked_caster<crossbook::bindings::PyMatchingEngine> {};
template <>
class type_caster<crossbook::bindings::EngineBookView>
    : public crossbook::bindings::checked_caster<crossbook::bindings::EngineBookView> {};
}  // namespace pybind11::detail
