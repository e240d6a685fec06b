// One guard for every bound object whose batch calls release the GIL.
#pragma once

#include <atomic>
#include <stdexcept>
#include <string>

namespace crossbook::bindings {

/// Raised (as crossbook.BusyError, a RuntimeError) by any use of an object
/// while a batch call on another thread holds it.
class BusyError : public std::runtime_error {
 public:
  explicit BusyError(const char* what)
      : std::runtime_error(std::string(what) + " is in use by a batch call on another thread") {}
};

/// Set while a batch call runs without the GIL, so that any other use of the
/// same object from another thread fails loudly instead of racing with it.
/// A copy starts idle (std::atomic itself is not copyable).
class BusyFlag {
 public:
  BusyFlag() = default;
  BusyFlag(const BusyFlag&) {}
  BusyFlag& operator=(const BusyFlag&) { return *this; }

  void check(const char* what) const {
    if (busy_.load(std::memory_order_acquire)) throw BusyError(what);
  }
  bool try_acquire() { return !busy_.exchange(true, std::memory_order_acq_rel); }
  void release() { busy_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> busy_{false};
};

/// Holds a BusyFlag for the length of one call: a batch that releases the GIL,
/// or a call that may run Python code (and so let another thread in) while it
/// reads the object, such as a copy through type(self) or a pickle.
class BatchGuard {
 public:
  BatchGuard(BusyFlag& flag, const char* what) : flag_(flag) {
    if (!flag_.try_acquire()) throw BusyError(what);
  }
  ~BatchGuard() { flag_.release(); }
  BatchGuard(const BatchGuard&) = delete;
  BatchGuard& operator=(const BatchGuard&) = delete;

 private:
  BusyFlag& flag_;
};

}  // namespace crossbook::bindings
