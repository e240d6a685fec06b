# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Venue checksum input (the exact bytes fed to CRC32) from best-first DEPTH arrays.

Numbers are written from the int64 mantissas by C digit loops into one buffer,
so no per-level Python string exists. Exact twins, tested against them:

=================  =====================================================
okx_bytes          crossbook.venues.okx.okx_text (okx_render)
bitget_bytes       crossbook.venues.bitget.bitget_text (bitget_render)
bitfinex_bytes     crossbook.venues.bitfinex.bitfinex_text (js_number)
kraken_bytes       crossbook.venues.kraken.kraken_text (_digits)
=================  =====================================================

Each takes bids and asks as 1-D contiguous DEPTH arrays (``L2Book.depth``), best
first, and uses the top ``depth`` rows of each. Exponents beyond +-100000 are
refused. Unlike bitget_render, which follows the thread's decimal context, the
Bitget text is always the default context's (``E``, no rounding of 19 digits).
"""

cimport numpy as cnp
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.string cimport memcpy, memset

import numpy as np

from crossbook import dtypes as _dtypes

cnp.import_array()


# Mirrors crossbook.dtypes.DEPTH (DepthRow in the core); checked when the module loads.
cdef struct DepthC:
    int64_t price
    int64_t size
    int32_t count

_DEPTH = _dtypes.DEPTH
_OFFSETS = [_DEPTH.fields[n][1] for n in ("price", "size", "count")]
if _DEPTH.itemsize != sizeof(DepthC) or _OFFSETS != [0, 8, 16]:
    raise ImportError("crossbook._checksum was built for another DEPTH layout")

cdef enum:
    # Far past any real instrument (0..18); bounding it bounds every number's width,
    # so the buffer can be sized before anything is written.
    MAX_EXP = 100000
    # Widest number apart from exponent-long zero runs: sign, 20 digits, "0.", five
    # zeros of a small plain value, "E+" and a 6-digit exponent, with room to spare.
    NUMBER_WIDTH = 48
    STACK_BYTES = 8192  # 25 levels a side at ordinary exponents fit

# The core's depth() arrays carry a dtype equal to DEPTH but not DEPTH itself (one
# object for all its arrays); comparing structured dtypes costs more than writing
# a level, so the last equal one seen is remembered. Only layout matters here.
cdef object _equal_dtype = None

ctypedef Py_ssize_t (*render_fn)(char* out, bint neg, uint64_t mag, int exp) noexcept nogil


cdef inline uint64_t _mag(int64_t v) noexcept nogil:
    # Unsigned negation: exact for INT64_MIN, whose magnitude no int64 holds.
    return (<uint64_t>0) - <uint64_t>v if v < 0 else <uint64_t>v


# "00".."99": two digits per division halves the loop over a mantissa's digits.
cdef const char* PAIRS = (b"0001020304050607080910111213141516171819202122232425262728293031"
                          b"3233343536373839404142434445464748495051525354555657585960616263"
                          b"6465666768697071727374757677787980818283848586878889909192939495"
                          b"96979899")


cdef inline int _utoa(char* buf, uint64_t v) noexcept nogil:
    """Digits of v at the end of a 20-char buf; returns where they start."""
    cdef int i = 20
    cdef uint64_t r
    while v >= 100:
        r = v % 100
        v //= 100
        i -= 2
        buf[i] = PAIRS[2 * r]
        buf[i + 1] = PAIRS[2 * r + 1]
    if v >= 10:
        i -= 2
        buf[i] = PAIRS[2 * v]
        buf[i + 1] = PAIRS[2 * v + 1]
    else:
        i -= 1
        buf[i] = <char>(c'0' + v)
    return i


cdef inline Py_ssize_t _put(char* out, const char* src, Py_ssize_t n) noexcept nogil:
    memcpy(out, src, n)
    return n


cdef inline Py_ssize_t _zeros(char* out, Py_ssize_t n) noexcept nogil:
    if n > 0:
        memset(out, c'0', n)
        return n
    return 0


cdef inline Py_ssize_t _int_text(char* out, int v) noexcept nogil:
    cdef char buf[20]
    cdef int s = _utoa(buf, <uint64_t>v)
    return _put(out, buf + s, 20 - s)


cdef Py_ssize_t _okx(char* out, bint neg, uint64_t mag, int exp) noexcept nogil:
    # format_fixed with trailing fractional zeros and a bare point dropped.
    cdef char buf[20]
    cdef Py_ssize_t p = 0
    cdef int s, n
    if mag == 0:
        out[0] = c'0'
        return 1
    if neg:
        out[0] = c'-'
        p = 1
    while exp > 0 and mag % 10 == 0:  # stripping zeros off the mantissa = off the fraction
        mag //= 10
        exp -= 1
    s = _utoa(buf, mag)
    n = 20 - s
    if exp <= 0:
        p += _put(out + p, buf + s, n)
        return p + _zeros(out + p, -exp)
    if n > exp:
        p += _put(out + p, buf + s, n - exp)
        out[p] = c'.'
        return p + 1 + _put(out + p + 1, buf + s + n - exp, exp)
    out[p] = c'0'
    out[p + 1] = c'.'
    p += 2
    p += _zeros(out + p, exp - n)
    return p + _put(out + p, buf + s, n)


cdef Py_ssize_t _bigdecimal(char* out, bint neg, uint64_t mag, int exp) noexcept nogil:
    # Decimal.__str__ (= BigDecimal.toString) of coefficient mag, exponent -exp.
    cdef char buf[20]
    cdef Py_ssize_t p = 0
    cdef int s = _utoa(buf, mag)
    cdef int n = 20 - s
    cdef int left = n - exp  # digits left of the point in plain notation
    cdef int dot = left if exp >= 0 and left > -6 else 1
    if neg and mag != 0:
        out[0] = c'-'
        p = 1
    if dot <= 0:
        out[p] = c'0'
        out[p + 1] = c'.'
        p += 2
        p += _zeros(out + p, -dot)
        p += _put(out + p, buf + s, n)
    elif dot >= n:
        p += _put(out + p, buf + s, n)
        p += _zeros(out + p, dot - n)
    else:
        p += _put(out + p, buf + s, dot)
        out[p] = c'.'
        p += 1
        p += _put(out + p, buf + s + dot, n - dot)
    if left != dot:
        out[p] = c'E'
        out[p + 1] = c'+' if left > dot else c'-'
        p += 2
        p += _int_text(out + p, left - dot if left > dot else dot - left)
    return p


cdef Py_ssize_t _js(char* out, bint neg, uint64_t mag, int exp) noexcept nogil:
    # ECMA-262 Number::toString of the exact decimal: value = 0.<digits> * 10**k.
    cdef char buf[20]
    cdef Py_ssize_t p = 0
    cdef int s, n, k, e
    if mag == 0:
        out[0] = c'0'
        return 1
    while mag % 10 == 0:
        mag //= 10
        exp -= 1
    s = _utoa(buf, mag)
    n = 20 - s
    k = n - exp
    if neg:
        out[0] = c'-'
        p = 1
    if n <= k <= 21:
        p += _put(out + p, buf + s, n)
        return p + _zeros(out + p, k - n)
    if 0 < k <= 21:
        p += _put(out + p, buf + s, k)
        out[p] = c'.'
        return p + 1 + _put(out + p + 1, buf + s + k, n - k)
    if -6 < k <= 0:
        out[p] = c'0'
        out[p + 1] = c'.'
        p += 2
        p += _zeros(out + p, -k)
        return p + _put(out + p, buf + s, n)
    e = k - 1
    out[p] = buf[s]
    p += 1
    if n > 1:
        out[p] = c'.'
        p += 1
        p += _put(out + p, buf + s + 1, n - 1)
    out[p] = c'e'
    out[p + 1] = c'+' if e > 0 else c'-'
    p += 2
    return p + _int_text(out + p, e if e > 0 else -e)


cdef Py_ssize_t _kraken(char* out, bint neg, uint64_t mag, int exp) noexcept nogil:
    # The mantissa's digits (sign kept), zeros appended for exp < 0; zero is empty.
    cdef char buf[20]
    cdef Py_ssize_t p = 0
    cdef int s
    if mag == 0:
        return 0
    if neg:
        out[0] = c'-'
        p = 1
    s = _utoa(buf, mag)
    p += _put(out + p, buf + s, 20 - s)
    return p + _zeros(out + p, -exp)


cdef inline Py_ssize_t _level(char* out, Py_ssize_t p, const DepthC* row, int pe, int se,
                             render_fn render, bint negate_size) noexcept nogil:
    """Appends ``price:size`` (after a ``:`` unless first) at out[p]; returns the new end."""
    cdef int64_t sz = row.size
    if p:
        out[p] = c':'
        p += 1
    p += render(out + p, row.price < 0, _mag(row.price), pe)
    out[p] = c':'
    p += 1
    return p + render(out + p, (sz > 0) if negate_size else (sz < 0), _mag(sz), se)


cdef Py_ssize_t _interleave(char* out, const DepthC* b, Py_ssize_t nb, const DepthC* a,
                            Py_ssize_t na, int pe, int se, render_fn render,
                            bint negate_ask_size) noexcept nogil:
    cdef Py_ssize_t i, p = 0
    for i in range(nb if nb > na else na):
        if i < nb:
            p = _level(out, p, &b[i], pe, se, render, False)
        if i < na:
            p = _level(out, p, &a[i], pe, se, render, negate_ask_size)
    return p


cdef Py_ssize_t _concat(char* out, const DepthC* rows, Py_ssize_t n, int pe, int se,
                        Py_ssize_t p) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        p += _kraken(out + p, rows[i].price < 0, _mag(rows[i].price), pe)
        p += _kraken(out + p, rows[i].size < 0, _mag(rows[i].size), se)
    return p


cdef int _rows(object arr, str name, Py_ssize_t depth, const DepthC** rows,
               Py_ssize_t* n) except -1:
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of dtype crossbook.dtypes.DEPTH, "
                        f"got {type(arr).__name__}")
    global _equal_dtype
    cdef cnp.ndarray a = <cnp.ndarray>arr
    dtype = <object>cnp.PyArray_DESCR(a)
    if dtype is not _DEPTH and dtype is not _equal_dtype:
        if dtype != _DEPTH:
            raise TypeError(f"{name} has dtype {dtype}, not crossbook.dtypes.DEPTH")
        _equal_dtype = dtype
    if cnp.PyArray_NDIM(a) != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not (cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_ISALIGNED(a)):
        raise ValueError(f"{name} must be a contiguous, aligned array (got strides {arr.strides})")
    n[0] = min(cnp.PyArray_DIM(a, 0), depth)
    rows[0] = <const DepthC*>cnp.PyArray_DATA(a)
    return 0


cdef int _check(int price_exp, int size_exp, Py_ssize_t depth) except -1:
    if not (-MAX_EXP <= price_exp <= MAX_EXP and -MAX_EXP <= size_exp <= MAX_EXP):
        raise ValueError(f"exponents must be within +-{MAX_EXP}, got {price_exp} and {size_exp}")
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    return 0


cdef bytes _build(bids, asks, int pe, int se, Py_ssize_t depth, render_fn render,
                  bint interleave, bint negate_ask_size):
    cdef const DepthC* b
    cdef const DepthC* a
    cdef Py_ssize_t nb, na, p
    cdef char stack[STACK_BYTES]
    cdef char* out = stack
    _check(pe, se, depth)
    _rows(bids, "bids", depth, &b, &nb)
    _rows(asks, "asks", depth, &a, &na)
    cdef int widest = max(abs(pe), abs(se))
    # Each number plus its separator; zero runs are at most |exp| long.
    cdef Py_ssize_t bound = 2 * (nb + na) * (NUMBER_WIDTH + widest + 1)
    if bound > STACK_BYTES:
        out = <char*>PyMem_Malloc(bound)
        if out == NULL:
            raise MemoryError()
    try:
        # Not under nogil: a microsecond of work, and a GIL round trip costs a tenth of it.
        if interleave:
            p = _interleave(out, b, nb, a, na, pe, se, render, negate_ask_size)
        else:
            p = _concat(out, a, na, pe, se, 0)
            p = _concat(out, b, nb, pe, se, p)
        return PyBytes_FromStringAndSize(out, p)
    finally:
        if out != stack:
            PyMem_Free(out)


def okx_bytes(bids, asks, int price_exp, int size_exp, *, Py_ssize_t depth=25):
    """OKX: ``bid px:bid sz:ask px:ask sz:...`` over the top ``depth`` levels, plain
    decimals with trailing zeros and a bare point dropped."""
    return _build(bids, asks, price_exp, size_exp, depth, _okx, True, False)


def bitget_bytes(bids, asks, int price_exp, int size_exp, *, Py_ssize_t depth=25):
    """Bitget: OKX's interleaving, numbers as Java BigDecimal.toString."""
    return _build(bids, asks, price_exp, size_exp, depth, _bigdecimal, True, False)


def bitfinex_bytes(bids, asks, int price_exp, int size_exp, *, Py_ssize_t depth=25):
    """Bitfinex P-books: OKX's interleaving, ask sizes negated, numbers as JavaScript's
    String(number)."""
    return _build(bids, asks, price_exp, size_exp, depth, _js, True, True)


def kraken_bytes(bids, asks, int price_exp, int size_exp, *, Py_ssize_t depth=10):
    """Kraken: the top ``depth`` asks then bids, each price then size as its digits
    (point and leading zeros removed), nothing between them."""
    return _build(bids, asks, price_exp, size_exp, depth, _kraken, False, False)
