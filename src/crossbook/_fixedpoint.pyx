# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Decimal text to int64 mantissas: the hot loop of every venue parser.

Exact twin of crossbook.fixedpoint.parse_fixed_py (tested against it)."""

cimport numpy as cnp
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_FromStringAndSize
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF
from cpython.unicode cimport PyUnicode_Check
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint64_t
from libc.string cimport memcpy

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

# One LEVEL_EVENT array is built per frame. When numpy allocates a structured
# array itself it inspects every field to decide whether the memory needs
# filling, which costs more than parsing a small frame; so the rows live in a
# bytearray that the array views (writeable, owned through its base), and the
# descriptor is resolved once.
cdef cnp.dtype _LEVEL_EVENT_DESCR = np.dtype(_LEVEL_EVENT)

cdef extern from "numpy/arrayobject.h":
    PyTypeObject PyArray_Type
    # Declared here because numpy's .pxd leaves it out: it steals the descriptor.
    object _PyArray_NewFromDescr "PyArray_NewFromDescr" (
        PyTypeObject* subtype, PyObject* descr, int nd, cnp.npy_intp* dims,
        cnp.npy_intp* strides, void* data, int flags, PyObject* obj)


cdef inline object _new_events(Py_ssize_t n):
    cdef cnp.npy_intp dims = n
    store = PyByteArray_FromStringAndSize(NULL, n * sizeof(LevelEventC))
    Py_INCREF(_LEVEL_EVENT_DESCR)  # stolen by PyArray_NewFromDescr
    arr = _PyArray_NewFromDescr(&PyArray_Type, <PyObject*>_LEVEL_EVENT_DESCR, 1, &dims, NULL,
                                PyByteArray_AS_STRING(store),
                                cnp.NPY_ARRAY_CARRAY, NULL)
    cnp.set_array_base(arr, store)
    if not cnp.PyArray_ISALIGNED(arr):  # never seen (the allocator aligns to 16), but rows must be
        return np.empty(n, dtype=_LEVEL_EVENT_DESCR)
    return arr

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


cdef inline int _scale(uint64_t digits, bint neg, int shift, int64_t* out) noexcept nogil:
    """out = (-)digits * 10^shift, exactly, or why not."""
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


cdef inline int _parse_short(const char* s, Py_ssize_t n, int exp, int64_t* out) noexcept nogil:
    """The usual wire text: at most 19 characters, no exponent, so the digits fit
    64 bits unchecked. -1 when the text is not of that kind (the full parser decides)."""
    cdef Py_ssize_t i = 0
    cdef bint neg = False, seen_dot = False, seen_digit = False
    cdef uint64_t digits = 0
    cdef int frac_len = 0
    cdef char c
    if n == 0 or n > 19:
        return -1
    if s[0] == c'-' or s[0] == c'+':
        neg = s[0] == c'-'
        i = 1
    while i < n:
        c = s[i]
        if c'0' <= c <= c'9':
            digits = digits * 10 + <uint64_t>(c - c'0')
            seen_digit = True
            frac_len += seen_dot
        elif c == c'.' and not seen_dot:
            seen_dot = True
        else:
            return -1
        i += 1
    if not seen_digit:
        return -1
    return _scale(digits, neg, exp - frac_len, out)


cdef int _parse(const char* s, Py_ssize_t n, int exp, int64_t* out) noexcept nogil:
    cdef int rc = _parse_short(s, n, exp, out)
    if rc >= 0:
        return rc
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
    return _scale(digits, neg, exp + pending_zeros + e_sign * e_val - frac_len, out)


cdef int64_t _from_int(object value, int exp) except? -1:
    if isinstance(value, bool):
        raise TypeError(f"expected decimal text or int, got bool: {value!r}")
    if not -19 <= exp <= 19:
        # 10**exp alone would not fit an int64: the exact twin refuses without building it.
        from crossbook.fixedpoint import parse_fixed_py
        return parse_fixed_py(value, exp)
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
    arr = _new_events(n)
    cdef LevelEventC* out = <LevelEventC*> cnp.PyArray_DATA(arr)
    cdef Py_ssize_t k = _fill_side(out, 0, bids, 1, price_exp, size_exp, ts_exchange_ns,
                                   ts_recv_ns, flags)
    _fill_side(out, k, asks, 2, price_exp, size_exp, ts_exchange_ns, ts_recv_ns, flags)
    if n:
        out[n - 1].flags |= F_LAST
    return arr


# -- JSON level arrays straight from the wire ----------------------------------------
#
# A depth frame is mostly its level arrays; decoding them into Python lists of str
# costs more than everything else done with the frame. The venue's JSON decoder
# hands them over undecoded (msgspec.Raw) and this scanner reads the common shape,
# [["price","size",...],...] with plain strings or bare JSON numbers, straight
# into LEVEL_EVENT rows.
# Anything else (escapes, numbers, a value that does not fit) takes the general
# path, which decodes the JSON and reports exactly what is wrong.

cdef enum:
    SCAN_OK = 0
    SCAN_OTHER = 1   # not the common shape or not a clean value: use the general path
    MIN_ROW_BYTES = 5  # [0,0]
    STACK_ROWS = 512  # a depth update's rows fit on the stack (20 KB); snapshots go to the heap

cdef inline Py_ssize_t _ws(const unsigned char* s, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    while i < n and (s[i] == 32 or s[i] == 10 or s[i] == 13 or s[i] == 9):
        i += 1
    return i


cdef inline Py_ssize_t _string(const unsigned char* s, Py_ssize_t i, Py_ssize_t n,
                               Py_ssize_t* start) noexcept nogil:
    """Index past the closing quote of the plain string at s[i], or -1."""
    cdef Py_ssize_t j
    if i >= n or s[i] != c'"':
        return -1
    j = i + 1
    while j < n and s[j] != c'"':
        if s[j] == c'\\' or s[j] < 32:
            return -1
        j += 1
    if j >= n:
        return -1
    start[0] = i + 1
    return j + 1


cdef inline Py_ssize_t _number_end(const unsigned char* s, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """Index past the JSON number at s[i] (strict JSON grammar: no leading zeros,
    digits on both sides of a point), or -1 when there is none."""
    cdef Py_ssize_t j = i, k
    if j < n and s[j] == c'-':
        j += 1
    if j >= n:
        return -1
    if s[j] == c'0':
        j += 1
    elif c'1' <= s[j] <= c'9':
        while j < n and c'0' <= s[j] <= c'9':
            j += 1
    else:
        return -1
    if j < n and s[j] == c'.':
        j += 1
        k = j
        while j < n and c'0' <= s[j] <= c'9':
            j += 1
        if j == k:
            return -1
    if j < n and (s[j] == c'e' or s[j] == c'E'):
        j += 1
        if j < n and (s[j] == c'+' or s[j] == c'-'):
            j += 1
        k = j
        while j < n and c'0' <= s[j] <= c'9':
            j += 1
        if j == k:
            return -1
    return j


cdef inline int _cell_number(const unsigned char* s, Py_ssize_t i, Py_ssize_t n, int exp,
                             int64_t* out, Py_ssize_t* end) noexcept nogil:
    """A level's price or size: decimal text in a JSON string (most venues) or a
    bare JSON number (Huobi), whose text is just as exact."""
    cdef Py_ssize_t j
    if i < n and s[i] == c'"':
        return _quoted_number(s, i, n, exp, out, end)
    j = _number_end(s, i, n)
    if j < 0 or _parse(<const char*>s + i, j - i, exp, out) != OK:
        return SCAN_OTHER
    end[0] = j
    return SCAN_OK


cdef inline Py_ssize_t _skip_cell(const unsigned char* s, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """Index past a further field of a row (a string or a number), or -1."""
    cdef Py_ssize_t start
    if i < n and s[i] == c'"':
        return _string(s, i, n, &start)
    return _number_end(s, i, n)


cdef inline int _quoted_number(const unsigned char* s, Py_ssize_t i, Py_ssize_t n, int exp,
                               int64_t* out, Py_ssize_t* end) noexcept nogil:
    """The JSON string at s[i] read as a decimal, in the same pass that finds its end
    (end = index past the closing quote). Short plain text is read here; anything
    else goes to _parse, so both readings agree. (The loop repeats _parse_short's on
    purpose: sharing it through an end-index out-parameter measured 4-11% slower.)"""
    cdef Py_ssize_t j = i + 1, start = i + 1
    cdef uint64_t digits = 0  # may wrap on long text, which is then re-read by _parse
    cdef int frac_len = 0, ndigits = 0
    cdef bint neg = False, seen_dot = False
    cdef unsigned char c
    if i >= n or s[i] != c'"':
        return SCAN_OTHER
    if j < n and s[j] == c'-':
        neg = True
        j += 1
    while j < n:
        c = s[j]
        if c'0' <= c <= c'9':
            digits = digits * 10 + (c - c'0')
            ndigits += 1
            frac_len += seen_dot
        elif c == c'.' and not seen_dot:
            seen_dot = True
        else:
            break
        j += 1
    if j < n and s[j] == c'"' and ndigits and j - start <= 19:
        end[0] = j + 1
        return SCAN_OK if _scale(digits, neg, exp - frac_len, out) == OK else SCAN_OTHER
    j = _string(s, i, n, &start)
    if j < 0 or _parse(<const char*>s + start, j - 1 - start, exp, out) != OK:
        return SCAN_OTHER
    end[0] = j
    return SCAN_OK


cdef int _scan_rows(const unsigned char* s, Py_ssize_t n, LevelEventC* out, Py_ssize_t cap,
                    Py_ssize_t* k, uint8_t side, int price_exp, int size_exp,
                    int64_t ts_exchange_ns, int64_t ts_recv_ns, uint16_t flags,
                    bint strict) noexcept nogil:
    """strict: every row exactly two JSON strings, as most venues' schemas say."""
    cdef Py_ssize_t i = _ws(s, 0, n)
    cdef int64_t price = 0, size = 0
    if i >= n or s[i] != c'[':
        return SCAN_OTHER
    i = _ws(s, i + 1, n)
    if i < n and s[i] == c']':
        return SCAN_OK if _ws(s, i + 1, n) == n else SCAN_OTHER
    while True:
        if i >= n or s[i] != c'[' or k[0] >= cap:
            return SCAN_OTHER
        i = _ws(s, i + 1, n)
        if (strict and (i >= n or s[i] != c'"')
                or _cell_number(s, i, n, price_exp, &price, &i) != SCAN_OK):
            return SCAN_OTHER
        i = _ws(s, i, n)
        if i >= n or s[i] != c',':
            return SCAN_OTHER
        i = _ws(s, i + 1, n)
        if (strict and (i >= n or s[i] != c'"')
                or _cell_number(s, i, n, size_exp, &size, &i) != SCAN_OK):
            return SCAN_OTHER
        i = _ws(s, i, n)
        while not strict and i < n and s[i] == c',':  # further fields (order counts, ids)
            i = _skip_cell(s, _ws(s, i + 1, n), n)
            if i < 0:
                return SCAN_OTHER
            i = _ws(s, i, n)
        if i >= n or s[i] != c']' or price < 0 or size < 0:
            return SCAN_OTHER
        out[k[0]].ts_exchange_ns = ts_exchange_ns
        out[k[0]].ts_recv_ns = ts_recv_ns
        out[k[0]].price = price
        out[k[0]].size = size
        out[k[0]].count = 0
        out[k[0]].side = side
        out[k[0]].action = UPDATE
        out[k[0]].flags = flags
        k[0] += 1
        i = _ws(s, i + 1, n)
        if i < n and s[i] == c',':
            i = _ws(s, i + 1, n)
            continue
        if i < n and s[i] == c']':
            return SCAN_OK if _ws(s, i + 1, n) == n else SCAN_OTHER
        return SCAN_OTHER


def json_level_events(bids_raw, asks_raw, int price_exp, int size_exp,
                      int64_t ts_exchange_ns=0, int64_t ts_recv_ns=0, *, bint snapshot=False,
                      bint strict=False):
    """level_events from the undecoded JSON of the bid and ask arrays (bytes-like,
    e.g. msgspec.Raw), without building a Python object per level. The timestamps
    may come by position: keywords cost a tenth of a depth frame's whole parse.

    strict: read only rows of exactly two JSON strings, and return None for anything
    else or for a value that does not fit: the caller then decodes the rows with its
    own schema, which refuses or reads them in its own words.

    Exact twin of crossbook.messages.json_level_events_py."""
    cdef Py_buffer b, a
    cdef uint16_t flags = F_SNAPSHOT if snapshot else 0
    cdef Py_ssize_t cap, k = 0
    cdef int rc = SCAN_OTHER
    cdef LevelEventC small[STACK_ROWS]
    cdef LevelEventC* rows = small
    PyObject_GetBuffer(bids_raw, &b, PyBUF_SIMPLE)
    try:
        PyObject_GetBuffer(asks_raw, &a, PyBUF_SIMPLE)
        try:
            # Every row takes at least MIN_ROW_BYTES of JSON: a bound without a first pass.
            cap = (b.len + a.len) // MIN_ROW_BYTES + 2
            if cap > STACK_ROWS:
                rows = <LevelEventC*> PyMem_Malloc(cap * sizeof(LevelEventC))
                if rows == NULL:
                    raise MemoryError()
            with nogil:
                rc = _scan_rows(<const unsigned char*>b.buf, b.len, rows, cap, &k, 1,
                                price_exp, size_exp, ts_exchange_ns, ts_recv_ns, flags, strict)
                if rc == SCAN_OK:
                    rc = _scan_rows(<const unsigned char*>a.buf, a.len, rows, cap, &k, 2,
                                    price_exp, size_exp, ts_exchange_ns, ts_recv_ns, flags, strict)
            if rc == SCAN_OK:
                arr = _new_events(k)
                if k:
                    rows[k - 1].flags |= F_LAST
                    memcpy(cnp.PyArray_DATA(arr), rows, k * sizeof(LevelEventC))
        finally:
            if rows != small:
                PyMem_Free(rows)
            PyBuffer_Release(&a)
    finally:
        PyBuffer_Release(&b)
    if rc != SCAN_OK and strict:
        # Not plainly rows of two strings: decode (as the twin does) and look again.
        from crossbook.messages import string_pair_rows
        pair = string_pair_rows(bids_raw, asks_raw)
        try:
            return None if pair is None else level_events(
                pair[0], pair[1], price_exp, size_exp, ts_exchange_ns=ts_exchange_ns,
                ts_recv_ns=ts_recv_ns, snapshot=snapshot)
        except (ValueError, OverflowError, TypeError):
            return None
    if rc != SCAN_OK:
        # Not the common shape: decode (the twins share this step), then build.
        from crossbook.messages import decode_level_rows
        return level_events(decode_level_rows(bids_raw, "bid"), decode_level_rows(asks_raw, "ask"),
                            price_exp, size_exp, ts_exchange_ns=ts_exchange_ns,
                            ts_recv_ns=ts_recv_ns, snapshot=snapshot)
    return arr
