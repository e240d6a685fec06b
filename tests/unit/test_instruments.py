"""Exponents inferred from the wire: the widest text decides, exponent notation included."""

from __future__ import annotations

import pytest

from crossbook.messages import Instrument
from crossbook.venues.base import InstrumentTable, wire_decimals


@pytest.mark.parametrize(("texts", "want"), [
    (["61837.63000000", "1"], 8),
    (["0.000", "12.5"], 3),
    (["100"], 0),
    (["1.5E-7"], 8),
    (["1e-7"], 7),
    (["2.5e+3", "1.25"], 2),
    ([], 0),
])
def test_wire_decimals(texts: list[str], want: int) -> None:
    assert wire_decimals(texts) == want


def test_table_infers_once_and_keeps_given_instruments() -> None:
    given = Instrument("v", "A", 2, 3)
    table = InstrumentTable("v", [given])
    assert table.resolve("A", [["1.23456", "1"]]) is given  # given wins: no inference
    b = table.resolve("B", [["10.50", "0.001"], ["10.5", "2"]])
    assert (b.price_exp, b.size_exp) == (2, 3)
    assert table.resolve("B", [["1.123456789", "1"]]) is b  # fixed from then on
    assert {i.symbol for i in table} == {"A", "B"}
