// Helpers for methods written as plain CPython vectorcall functions.
//
// pybind11's dispatcher (overload resolution, generic casters, keyword
// handling) costs more than an order-book operation, so the per-call methods
// of the L3 classes bind and convert their few arguments here instead. Every
// failure sets a Python error naming the argument and returns false/nullptr.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace crossbook::bindings::fast {

namespace py = pybind11;

/// The C++ object inside a pybind11 instance; nullptr (with TypeError set)
/// when __init__ has not run. The method descriptor has already checked the type.
template <class T>
T* self_as(PyObject* self) {
  auto vh = reinterpret_cast<py::detail::instance*>(self)->get_value_and_holder();
  if (!vh.holder_constructed()) {
    PyErr_Format(PyExc_TypeError, "%s.__init__ has not been called", T::kName);
    return nullptr;
  }
  return vh.value_ptr<T>();
}

/// Parameter list of one method: the first `n_positional` may come by
/// position, the first `n_required` must be given, the rest are keyword-only.
template <std::size_t N>
struct Signature {
  const char* fn;
  const char* names[N];
  Py_ssize_t n_positional;
  Py_ssize_t n_required;
  mutable PyObject* interned[N] = {};  // for pointer comparison with call-site names

  /// out[i] = the argument for names[i] (borrowed), nullptr when not given.
  bool bind(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, PyObject** out) const;
};

template <std::size_t N>
bool Signature<N>::bind(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                        PyObject** out) const {
  if (nargs > n_positional) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most %zd positional arguments (%zd given)", fn,
                 n_positional, nargs);
    return false;
  }
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<Py_ssize_t>(i) < nargs ? args[i] : nullptr;
  const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* key = PyTuple_GET_ITEM(kwnames, k);
    std::size_t i = 0;
    for (; i < N; ++i) {
      if (!interned[i]) {
        interned[i] = PyUnicode_InternFromString(names[i]);  // kept for the process's life
        if (!interned[i]) return false;
      }
      if (key == interned[i] || PyUnicode_Compare(key, interned[i]) == 0) break;
    }
    if (i == N) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument %R", fn, key);
      return false;
    }
    if (out[i]) {
      PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fn, names[i]);
      return false;
    }
    out[i] = args[nargs + k];
  }
  for (Py_ssize_t i = 0; i < n_required; ++i)
    if (!out[i]) {
      PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fn, names[i]);
      return false;
    }
  return true;
}

/// An int64 argument (ints, IntEnums, numpy integers), or false with an error
/// that names the argument and its value.
inline bool to_i64(PyObject* o, const char* name, std::int64_t* out) {
  const long long v = PyLong_AsLongLong(o);  // uses __index__ for non-int integers
  if (!(v == -1 && PyErr_Occurred())) {
    *out = v;
    return true;
  }
  if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
    PyErr_Clear();
    PyErr_Format(PyExc_OverflowError, "%s %R does not fit int64", name, o);
  } else if (PyErr_ExceptionMatches(PyExc_TypeError)) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "%s must be an int, got %.80s %R", name, Py_TYPE(o)->tp_name, o);
  }
  return false;
}

/// A uint64 argument (order ids, owners); negative values are an OverflowError.
inline bool to_u64(PyObject* o, const char* name, std::uint64_t* out) {
  PyObject* as_int = PyLong_Check(o) ? (Py_INCREF(o), o) : PyNumber_Index(o);
  if (!as_int) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "%s must be an int, got %.80s %R", name, Py_TYPE(o)->tp_name, o);
    return false;
  }
  const unsigned long long v = PyLong_AsUnsignedLongLong(as_int);
  Py_DECREF(as_int);
  if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Clear();
    PyErr_Format(PyExc_OverflowError, "%s %R does not fit uint64", name, o);
    return false;
  }
  *out = v;
  return true;
}

/// A uint8 enum field. Values 0-255 pass (the core rejects unknown ones with a
/// reason); others are a ValueError that says what was expected.
inline bool to_u8(PyObject* o, const char* name, const char* expected, std::uint8_t* out) {
  std::int64_t v = 0;
  if (!to_i64(o, name, &v)) {
    if (!PyErr_ExceptionMatches(PyExc_OverflowError)) return false;
    PyErr_Clear();
    v = -1;
  }
  if (v < 0 || v > 255) {
    PyErr_Format(PyExc_ValueError, "%s must be %s, got %R", name, expected, o);
    return false;
  }
  *out = static_cast<std::uint8_t>(v);
  return true;
}

/// The C++ exception in flight as a Python error; returns nullptr for `return`.
inline PyObject* translate() {
  py::detail::try_translate_exceptions();
  return nullptr;
}

/// Installs `defs` on the class, replacing pybind11 definitions of the same name.
template <class Cls>
void install(Cls& cls, std::initializer_list<PyMethodDef*> defs) {
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  for (PyMethodDef* def : defs) {
    PyObject* descr = PyDescr_NewMethod(type, def);
    if (!descr) throw py::error_already_set();
    cls.attr(def->ml_name) = py::reinterpret_steal<py::object>(descr);
  }
}

/// A METH_FASTCALL | METH_KEYWORDS function as PyMethodDef's function pointer.
template <class F>
PyCFunction as_cfunction(F* f) {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

}  // namespace crossbook::bindings::fast
