"""Checksum input text: the Cython builders and their plain-Python twins agree byte for byte.

The twins (okx_text, bitget_text, bitfinex_text, kraken_text) are the specification;
the arrays here go where no book goes (negative and INT64_MIN mantissas, exponents
far from any instrument's) because the Cython code has to be exact everywhere.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crossbook import L2Book, Side, _checksum, dtypes
from crossbook.messages import EMPTY_LEVELS, BookMessage, Kind
from crossbook.venues.bitfinex import bitfinex_checksum, bitfinex_text
from crossbook.venues.bitget import bitget_text, verify_bitget_checksum
from crossbook.venues.kraken import kraken_checksum, kraken_text
from crossbook.venues.okx import crc32_signed, okx_text, verify_okx_checksum

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
MAX_EXP = 100_000  # the Cython builders refuse exponents beyond it

Array = npt.NDArray[np.void]
Twin = Callable[..., str]
STYLES: dict[str, tuple[Callable[..., bytes], Twin, int]] = {
    "okx": (_checksum.okx_bytes, okx_text, 25),
    "bitget": (_checksum.bitget_bytes, bitget_text, 25),
    "bitfinex": (_checksum.bitfinex_bytes, bitfinex_text, 25),
    "kraken": (_checksum.kraken_bytes, kraken_text, 10),
}

# Mantissas: the whole int64 range, the edges, and round numbers with runs of
# trailing zeros (what stripping and exponent-notation thresholds turn on).
mantissas = st.one_of(
    st.integers(INT64_MIN, INT64_MAX),
    st.sampled_from([0, 1, -1, 9, 10, INT64_MIN, INT64_MAX, INT64_MIN + 1, 10**18, -(10**18)]),
    st.builds(lambda m, z: m * 10**z, st.integers(-99_999, 99_999), st.integers(0, 13)),
)
exponents = st.one_of(st.integers(-25, 30), st.sampled_from([-300, 300]))  # MAX_EXP: @example


def depth_array(rows: list[tuple[int, int]]) -> Array:
    return np.array([(p, s, 0) for p, s in rows], dtype=dtypes.DEPTH)


sides = st.lists(st.tuples(mantissas, mantissas), max_size=30).map(depth_array)


def single(price: int, size: int) -> Array:
    return depth_array([(price, size)])


@pytest.mark.parametrize("style", list(STYLES))
@settings(max_examples=300, deadline=None)
@given(bids=sides, asks=sides, pe=exponents, se=exponents)
@example(bids=single(INT64_MIN, INT64_MIN), asks=single(INT64_MIN, INT64_MIN), pe=0, se=19)
@example(bids=single(1, 10**18), asks=single(-1, 0), pe=MAX_EXP, se=-MAX_EXP)
@example(bids=single(15, 2), asks=single(1, 10**22 // 10**5), pe=8, se=-5)  # 1.5e-7, 1e+22
@example(bids=single(1, 10), asks=single(1, 10), pe=6, se=7)  # both sides of the 1e-6 switch
@example(bids=single(10**20 // 10**3, 0), asks=single(10**21 // 10**3, 0), pe=-3, se=0)  # 1e21
def test_cython_bytes_equal_the_python_twin(style: str, bids: Array, asks: Array, pe: int,
                                            se: int) -> None:
    fast, twin, _ = STYLES[style]
    assert fast(bids, asks, pe, se) == twin(bids, asks, pe, se).encode("ascii")


@pytest.mark.parametrize("style", list(STYLES))
@given(bids=sides, asks=sides, pe=st.integers(-3, 18), se=st.integers(-3, 18),
       depth=st.integers(0, 32))
def test_depth_cuts_both_sides_alike(style: str, bids: Array, asks: Array, pe: int, se: int,
                                     depth: int) -> None:
    fast, twin, _ = STYLES[style]
    got = fast(bids, asks, pe, se, depth=depth)
    assert got == twin(bids, asks, pe, se, depth).encode("ascii")
    assert got == fast(bids[:depth].copy(), asks[:depth].copy(), pe, se, depth=depth)


@pytest.mark.parametrize(
    ("style", "price", "size", "exp", "want"),
    [
        ("okx", 51600, 1200, 4, b"5.16:0.12"),
        ("okx", 5, -1200, -2, b"500:-120000"),
        ("bitget", 1452, 56150, 12, b"1.452E-9:5.6150E-8"),
        ("bitget", 3530, 0, 8, b"0.00003530:0E-8"),
        ("bitget", 13, 0, -2, b"1.3E+3:0E+2"),
        ("bitfinex", 2, 25, 7, b"2e-7:-0.0000025"),  # an ask: its size is negated
        ("bitfinex", 10**17, INT64_MIN, -5, b"1e+22:9.223372036854775808e+23"),
        ("kraken", 5, 0, -3, b"5000"),
        ("kraken", INT64_MIN, 7, 0, b"-92233720368547758087"),
    ],
)
def test_known_answers(style: str, price: int, size: int, exp: int, want: bytes) -> None:
    fast, _, _ = STYLES[style]
    empty = depth_array([])
    assert fast(empty, single(price, size), exp, exp) == want


def _book(bids: dict[int, int], asks: dict[int, int], pe: int, se: int) -> L2Book:
    book = L2Book(pe, se)
    for side, levels in ((Side.BID, bids), (Side.ASK, asks)):
        for price, size in levels.items():
            book.update(side, price, size)
    return book


def _msg(checksum: int) -> BookMessage:
    return BookMessage("x", "X", Kind.DELTA, EMPTY_LEVELS, 0, checksum=checksum)


prices = st.integers(1, 10**15)
book_sides = st.dictionaries(prices, st.integers(1, 10**15), max_size=40)


@given(bids=book_sides, asks=book_sides, pe=st.integers(0, 12), se=st.integers(0, 12))
def test_verify_functions_accept_the_twins_checksum(bids: dict[int, int], asks: dict[int, int],
                                                     pe: int, se: int) -> None:
    """Each venue's ChecksumFn (Cython text) says yes to the CRC of the Python twin's text,
    and no to any other value."""
    book = _book(bids, asks, pe, se)
    b, a = book.depth(25)
    signed = {"okx": crc32_signed(okx_text(b, a, pe, se)),
              "bitget": crc32_signed(bitget_text(b, a, pe, se))}
    unsigned = {"bitfinex": zlib.crc32(bitfinex_text(b, a, pe, se).encode()),
                "kraken": zlib.crc32(kraken_text(*book.depth(10), pe, se).encode())}
    verify = {"okx": verify_okx_checksum, "bitget": verify_bitget_checksum,
              "bitfinex": bitfinex_checksum, "kraken": kraken_checksum}
    for venue, crc in (signed | unsigned).items():
        assert verify[venue](book, _msg(crc)), venue
        assert not verify[venue](book, _msg(crc ^ 1)), venue


# -- malformed input: a clear error, never a crash or a read past the buffer ----------


@pytest.mark.parametrize("style", list(STYLES))
def test_malformed_arrays_are_refused(style: str) -> None:
    fast, _, _ = STYLES[style]
    good = depth_array([(5, 1), (4, 2), (3, 3)])
    lookalike = np.zeros(3, np.dtype([("price", "<i8"), ("size", "<i8"), ("count", "<i4")]))
    unaligned = np.frombuffer(bytes(1 + 3 * dtypes.DEPTH.itemsize), dtypes.DEPTH, 3, offset=1)
    cases: list[tuple[object, type[Exception], str]] = [
        ([(5, 1, 0)], TypeError, "numpy array of dtype"),
        (np.zeros(3, dtypes.LEVEL_EVENT), TypeError, "not crossbook.dtypes.DEPTH"),
        (lookalike, TypeError, "not crossbook.dtypes.DEPTH"),
        (good.astype(dtypes.DEPTH.newbyteorder(">")), TypeError, "DEPTH"),
        (good["price"], TypeError, "DEPTH"),
        (good[::2], ValueError, "contiguous"),
        (good[::-1], ValueError, "contiguous"),
        (unaligned, ValueError, "aligned"),
        (np.zeros((2, 2), dtypes.DEPTH), ValueError, "one-dimensional"),
        (None, TypeError, "NoneType"),
    ]
    for bad, error, match in cases:
        with pytest.raises(error, match=match):
            fast(bad, good, 2, 2)
        with pytest.raises(error, match=match):
            fast(good, bad, 2, 2)


@pytest.mark.parametrize("style", list(STYLES))
def test_bad_exponents_and_depth_are_refused(style: str) -> None:
    fast, _, _ = STYLES[style]
    good = depth_array([(5, 1)])
    for pe, se in ((MAX_EXP + 1, 0), (0, -MAX_EXP - 1)):
        with pytest.raises(ValueError, match="exponents"):
            fast(good, good, pe, se)
    with pytest.raises(OverflowError):
        fast(good, good, 1 << 40, 0)
    with pytest.raises(ValueError, match="depth"):
        fast(good, good, 0, 0, depth=-1)


@pytest.mark.parametrize("style", list(STYLES))
def test_read_only_and_empty_arrays_are_fine(style: str) -> None:
    fast, twin, _ = STYLES[style]
    rows = depth_array([(10**12, 3), (10**11, 0)])
    rows.flags.writeable = False
    empty = depth_array([])
    assert fast(empty, empty, 8, 8) == b""
    assert fast(rows, rows, 8, 8) == twin(rows, rows, 8, 8).encode()


def test_an_equal_dtype_that_is_another_object_is_fine() -> None:
    """The core's depth() arrays carry such a dtype; a lookalike still is refused after it."""
    fields = [("price", "<i8"), ("size", "<i8"), ("count", "<i4")]
    equal, packed = np.dtype(fields, align=True), np.dtype(fields)
    assert equal == dtypes.DEPTH and equal is not dtypes.DEPTH
    rows = depth_array([(5, 1)]).astype(equal)
    for _ in range(2):
        assert _checksum.okx_bytes(rows, rows, 0, 0) == b"5:1:5:1"
        with pytest.raises(TypeError, match="DEPTH"):
            _checksum.okx_bytes(rows.astype(packed), rows, 0, 0)


def test_long_text_spills_from_the_stack_buffer() -> None:
    """Exponents in the thousands make each number thousands of characters long."""
    rows = depth_array([(7, -3)] * 25)
    for style, (fast, twin, _) in STYLES.items():
        assert fast(rows, rows, 4000, -4000) == twin(rows, rows, 4000, -4000).encode(), style
