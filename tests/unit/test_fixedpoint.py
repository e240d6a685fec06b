"""Decimal text to mantissa: the Cython parser, its plain-Python twin and Decimal agree."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crossbook.fixedpoint import (
    format_fixed,
    parse_fixed,
    parse_fixed_py,
    parse_levels,
    parse_levels_py,
)

INT64_MAX = (1 << 63) - 1
PARSERS = [parse_fixed, parse_fixed_py]


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    ("text", "exp", "want"),
    [
        ("61837.63000000", 2, 6183763),
        ("0.00000000", 8, 0),
        ("0", 0, 0),
        ("1", 8, 100_000_000),
        ("-1.5", 1, -15),
        ("+2.25", 2, 225),
        (".5", 1, 5),
        ("5.", 0, 5),
        ("1e-05", 5, 1),
        ("1.5E+3", 0, 1500),
        ("00012.3400", 2, 1234),
        ("1" + "0" * 390 + "e-390", 0, 1),
        ("9223372036854775807", 0, INT64_MAX),
        ("-9223372036854775808", 0, -(1 << 63)),
        ("1200", -2, 12),
        (42, 3, 42_000),
        (4200, -2, 42),
    ],
)
def test_known_answers(parse, text, exp, want) -> None:  # type: ignore[no-untyped-def]
    assert parse(text, exp) == want


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    ("text", "exp", "error", "match"),
    [
        ("61837.635", 2, ValueError, "more decimals than exponent 2"),
        ("1234", -2, ValueError, "more decimals"),
        ("9223372036854775808", 0, OverflowError, "does not fit"),
        ("1", 19, OverflowError, "does not fit"),
        ("", 2, ValueError, "not a decimal"),
        ("-", 2, ValueError, "not a decimal"),
        (".", 2, ValueError, "not a decimal"),
        ("1.2.3", 2, ValueError, "not a decimal"),
        ("1e", 2, ValueError, "not a decimal"),
        ("e5", 2, ValueError, "not a decimal"),
        ("0x10", 2, ValueError, "not a decimal"),
        (" 1", 2, ValueError, "not a decimal"),
        ("NaN", 2, ValueError, "not a decimal"),
        ("1" * 401, 0, ValueError, "not a decimal"),
        ("١٢", 0, ValueError, "not a decimal"),  # non-ASCII digits are not venue text
        (1.5, 2, TypeError, "float"),
        (True, 2, TypeError, "bool"),
        (None, 2, TypeError, "NoneType"),
    ],
)
def test_bad_input_is_a_clear_error(parse, text, exp, error, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        parse(text, exp)


def _decimal_oracle(text: str, exp: int) -> int | type[Exception]:
    with localcontext() as ctx:
        ctx.prec = 1000  # exact for every generated text: the default 28 digits would round
        scaled = Decimal(text).scaleb(exp)
    if scaled != scaled.to_integral_value():
        return ValueError
    value = int(scaled)
    return value if -(1 << 63) <= value <= INT64_MAX else OverflowError


decimal_text = st.builds(
    lambda sign, i, f, e: f"{sign}{i}{'.' + f if f is not None else ''}{e}",
    st.sampled_from(["", "-", "+"]),
    st.from_regex(r"[0-9]{1,22}", fullmatch=True),
    st.none() | st.from_regex(r"[0-9]{0,22}", fullmatch=True),
    st.sampled_from(["", "e3", "e-4", "E+2", "e0", "e-30"]),
)


@given(text=decimal_text, exp=st.integers(-6, 18))
@example(text="0.000000001", exp=8)
@example(text="18446744073709551616", exp=0)
def test_agrees_with_decimal(text: str, exp: int) -> None:
    want = _decimal_oracle(text, exp)
    for parse in PARSERS:
        if isinstance(want, int):
            assert parse(text, exp) == want
        else:
            with pytest.raises(want):
                parse(text, exp)


@given(st.text(max_size=12), st.integers(-3, 12))
def test_random_text_never_crashes_and_twins_agree(text: str, exp: int) -> None:
    outcomes = []
    for parse in PARSERS:
        try:
            outcomes.append(parse(text, exp))
        except (ValueError, OverflowError) as exc:
            outcomes.append(type(exc))
    assert outcomes[0] == outcomes[1]


@given(st.integers(-(1 << 63), INT64_MAX), st.integers(-4, 18))
def test_format_roundtrip(mantissa: int, exp: int) -> None:
    text = format_fixed(mantissa, exp)
    if exp >= 0 or mantissa == 0:
        assert parse_fixed(text, exp) == mantissa
    assert Decimal(text) == Decimal(mantissa).scaleb(-exp)


def test_parse_levels_twins() -> None:
    rows = [["61837.63000000", "3.78826000"], ["61837.62", "0.617"], ["1", "0"]]
    for parse in (parse_levels, parse_levels_py):
        prices, sizes = parse(rows, 2, 8)
        assert prices.dtype == np.int64 and sizes.dtype == np.int64
        assert prices.tolist() == [6183763, 6183762, 100]
        assert sizes.tolist() == [378826000, 61700000, 0]
    for parse in (parse_levels, parse_levels_py):
        with pytest.raises(ValueError, match="row 1"):
            parse([["1", "1"], ["2"]], 0, 0)
        with pytest.raises(ValueError, match="'0.001'"):
            parse([["1", "0.001"]], 0, 2)
