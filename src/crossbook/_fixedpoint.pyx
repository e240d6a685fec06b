# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Decimal text to int64 mantissas: the hot loop of every venue parser.

Exact twin of crossbook.fixedpoint.parse_fixed_py (tested against it)."""

cimport numpy as cnp
from cpython.unicode cimport PyUnicode_Check
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint64_t

import numpy as np

from crossbook import dtypes as _dtypes

cnp.import_array()


# Mirrors crossbook.dtypes.LEVEL_EVENT (and LevelEvent in cpp/include/crossbook/types.hpp);
# the layout is checked when the module loads.
cdef struct LevelEventC:
    int64_t ts_exchange_ns
    int64_t ts_recv_ns
    int64_t price
    int64_t size
    int32_t count
    uint8_t side
    uint8_t action
    uint16_t flags

cdef uint16_t F_LAST = _dtypes.F_LAST
cdef uint16_t F_SNAPSHOT = _dtypes.F_SNAPSHOT
cdef uint8_t UPDATE = _dtypes.UPDATE
_LEVEL_EVENT = _dtypes.LEVEL_EVENT

if _LEVEL_EVENT.itemsize != sizeof(LevelEventC) or _LEVEL_EVENT.fields["flags"][1] != 38:
    raise ImportError("crossbook._fixedpoint was built for another LEVEL_EVENT layout")

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object s, Py_ssize_t* size) except NULL

cdef enum:
    OK = 0
    BAD_SYNTAX = 1
    TOO_PRECISE = 2
    TOO_BIG = 3

# No venue sends more; the cap keeps every counter below far from overflow.
cdef Py_ssize_t MAX_TEXT = 400
cdef uint64_t U64_MAX = 0xFFFFFFFFFFFFFFFF
cdef uint64_t I64_MAX = 0x7FFFFFFFFFFFFFFF


cdef inline int _mul10(uint64_t* v, int times) noexcept nogil:
    cdef int k
    for k in range(times):
        if v[0] > U64_MAX // 10:
            return TOO_BIG
        v[0] *= 10
    return OK


cdef int _parse(const char* s, Py_ssize_t n, int exp, int64_t* out) noexcept nogil:
    cdef Py_ssize_t i = 0
    cdef bint neg = False
    cdef uint64_t digits = 0
    cdef int pending_zeros = 0   # zeros not yet multiplied in: trailing zeros cost nothing
    cdef int frac_len = 0
    cdef bint seen_dot = False, seen_digit = False
    cdef int e_val = 0, e_sign = 1
    cdef char c
    cdef uint64_t d
    if n == 0 or n > MAX_TEXT:
        return BAD_SYNTAX
    if s[0] == c'-' or s[0] == c'+':
        neg = s[0] == c'-'
        i = 1
    while i < n:
        c = s[i]
        if c'0' <= c <= c'9':
            seen_digit = True
            if seen_dot:
                frac_len += 1
            if c == c'0':
                pending_zeros += 1
            else:
                if _mul10(&digits, pending_zeros + 1) != OK:
                    return TOO_BIG
                pending_zeros = 0
                d = <uint64_t>(c - c'0')
                if digits > U64_MAX - d:
                    return TOO_BIG
                digits += d
        elif c == c'.' and not seen_dot:
            seen_dot = True
        elif (c == c'e' or c == c'E') and seen_digit:
            i += 1
            if i < n and (s[i] == c'-' or s[i] == c'+'):
                e_sign = -1 if s[i] == c'-' else 1
                i += 1
            if i >= n:
                return BAD_SYNTAX
            while i < n:
                c = s[i]
                if not (c'0' <= c <= c'9'):
                    return BAD_SYNTAX
                e_val = e_val * 10 + (c - c'0')
                if e_val > 10000:
                    return TOO_BIG
                i += 1
            break
        else:
            return BAD_SYNTAX
        i += 1
    if not seen_digit:
        return BAD_SYNTAX
    # value = digits * 10^(pending_zeros + e - frac_len); mantissa = value * 10^exp
    cdef int shift = exp + pending_zeros + e_sign * e_val - frac_len
    if digits == 0:
        out[0] = 0
        return OK
    if shift >= 0:
        if _mul10(&digits, shift) != OK:
            return TOO_BIG
    else:
        while shift < 0:
            if digits % 10 != 0:
                return TOO_PRECISE
            digits //= 10
            shift += 1
    if neg:
        if digits > I64_MAX + 1:
            return TOO_BIG
        out[0] = <int64_t>(0 - digits)
    else:
        if digits > I64_MAX:
            return TOO_BIG
        out[0] = <int64_t>digits
    return OK


cdef int64_t _from_int(object value, int exp) except? -1:
    if isinstance(value, bool):
        raise TypeError(f"expected decimal text or int, got bool: {value!r}")
    result = value * 10 ** exp if exp >= 0 else None
    if result is None:
        q, r = divmod(value, 10 ** -exp)
        if r:
            raise ValueError(f"{value!r} has more decimals than exponent {exp} allows")
        result = q
    if not (-(1 << 63) <= result < (1 << 63)):
        raise OverflowError(f"{str(value)!r} does not fit an int64 mantissa")
    return result


cdef int64_t _parse_obj(object text, int exp) except? -1:
    cdef Py_ssize_t n
    cdef const char* s
    cdef int64_t out = 0
    cdef int rc
    if PyUnicode_Check(text):
        s = PyUnicode_AsUTF8AndSize(text, &n)
    elif isinstance(text, int):
        return _from_int(text, exp)
    else:
        raise TypeError(f"expected decimal text or int, got {type(text).__name__}: {text!r}")
    rc = _parse(s, n, exp, &out)
    if rc == OK:
        return out
    if rc == TOO_PRECISE:
        raise ValueError(f"{text!r} has more decimals than exponent {exp} allows")
    if rc == TOO_BIG:
        # Rare: the digits overflowed 64 bits. The exact twin tells a value that is
        # too big from one that is also too precise, and says which.
        from crossbook.fixedpoint import parse_fixed_py
        return parse_fixed_py(text, exp)
    raise ValueError(f"not a decimal number: {text!r}")


def parse_fixed(text, int exp):
    """Mantissa of ``text`` at exponent ``exp``: parse_fixed("1.50", 2) == 150."""
    return _parse_obj(text, exp)


def parse_levels(rows, int price_exp, int size_exp):
    """[[price_text, size_text, ...], ...] -> (prices, sizes) as int64 arrays."""
    cdef Py_ssize_t n = len(rows), i
    prices_arr = np.empty(n, dtype=np.int64)
    sizes_arr = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] prices = prices_arr
    cdef int64_t[::1] sizes = sizes_arr
    for i in range(n):
        row = rows[i]
        if len(row) < 2:
            raise ValueError(f"level row {i} needs a price and a size, got {row!r}")
        prices[i] = _parse_obj(row[0], price_exp)
        sizes[i] = _parse_obj(row[1], size_exp)
    return prices_arr, sizes_arr


cdef Py_ssize_t _fill_side(LevelEventC* out, Py_ssize_t k, rows, uint8_t side, int price_exp,
                           int size_exp, int64_t ts_exchange_ns, int64_t ts_recv_ns,
                           uint16_t flags) except -1:
    cdef Py_ssize_t i, n = len(rows)
    cdef int64_t price, size
    for i in range(n):
        row = rows[i]
        if len(row) < 2:
            raise ValueError(f"level row {i} needs a price and a size, got {row!r}")
        price = _parse_obj(row[0], price_exp)
        size = _parse_obj(row[1], size_exp)
        if price < 0:
            raise ValueError(f"negative price {row[0]!r}")
        if size < 0:
            raise ValueError(f"negative size {row[1]!r} at price {row[0]!r}")
        out[k].ts_exchange_ns = ts_exchange_ns
        out[k].ts_recv_ns = ts_recv_ns
        out[k].price = price
        out[k].size = size
        out[k].count = 0
        out[k].side = side
        out[k].action = UPDATE
        out[k].flags = flags
        k += 1
    return k


def level_events(bids, asks, int price_exp, int size_exp, *, int64_t ts_exchange_ns=0,
                 int64_t ts_recv_ns=0, bint snapshot=False):
    """LEVEL_EVENT rows (action UPDATE, size 0 removes) from venue text rows, bids first.

    Exact twin of crossbook.messages.level_events_py."""
    cdef Py_ssize_t n = len(bids) + len(asks)
    cdef uint16_t flags = F_SNAPSHOT if snapshot else 0
    arr = np.empty(n, dtype=_LEVEL_EVENT)
    cdef LevelEventC* out = <LevelEventC*> cnp.PyArray_DATA(arr)
    cdef Py_ssize_t k = _fill_side(out, 0, bids, 1, price_exp, size_exp, ts_exchange_ns,
                                   ts_recv_ns, flags)
    _fill_side(out, k, asks, 2, price_exp, size_exp, ts_exchange_ns, ts_recv_ns, flags)
    if n:
        out[n - 1].flags |= F_LAST
    return arr
