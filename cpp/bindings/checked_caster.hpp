// Refuses bound objects whose __init__ never ran.
//
// `Cls.__new__(Cls)` makes an instance without a C++ object, and pybind11
// then hands methods freshly allocated, unconstructed memory as `self`: any
// read of it is garbage and may crash. Specialising the caster of a bound
// class with this one (in the header every binding file of that class
// includes) turns that into a TypeError before the method runs.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <typeinfo>

namespace crossbook::bindings {

template <class T>
class checked_caster : public pybind11::detail::type_caster_base<T> {
 public:
  bool load(pybind11::handle src, bool convert) {
    namespace pd = pybind11::detail;
    if (src && pybind11::isinstance<T>(src)) {
      auto* inst = reinterpret_cast<pd::instance*>(src.ptr());
      if (!inst->get_value_and_holder(pd::get_type_info(typeid(T))).holder_constructed())
        throw pybind11::type_error(std::string(T::kName) + ".__init__ has not been called");
    }
    return pd::type_caster_base<T>::load(src, convert);
  }
};

}  // namespace crossbook::bindings
