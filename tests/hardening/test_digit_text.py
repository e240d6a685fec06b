"""Digit text from a frame is read only when short: Python's int() refuses 4,300-digit strings
with a bare ValueError, and str.isdigit admits digits ("²") that int() cannot read."""

from __future__ import annotations

import pytest

from crossbook.venues.base import ParseError, digits_int
from crossbook.venues.registry import make_parser


@pytest.mark.parametrize(("text", "limit", "want"), [
    ("0", 18, 0), ("4294967295", 10, 4294967295), ("12345678901", 10, None),
    ("", 18, None), ("²", 18, None), ("-1", 18, None), ("1e3", 18, None), ("9" * 5000, 18, None),
])
def test_digits_int(text: str, limit: int, want: int | None) -> None:
    assert digits_int(text, limit) == want


def test_kraken_checksum_of_thousands_of_digits_is_a_parse_error() -> None:
    kraken = make_parser("kraken")
    kraken.parse(b'{"channelID":1,"event":"subscriptionStatus","pair":"XBT/USD",'
                 b'"status":"subscribed","subscription":{"depth":10,"name":"book"},'
                 b'"channelName":"book-10"}', 1)
    kraken.parse(b'[1,{"as":[["5541.30000","2.50700000","1534614248.123678"]],'
                 b'"bs":[["5541.20000","1.52900000","1534614248.765567"]]},"book-10","XBT/USD"]', 2)
    frame = (b'[1,{"a":[["5541.30000","2.50700000","1534614248.456738"]],"c":"'
             + b"7" * 5000 + b'"},"book-10","XBT/USD"]')
    with pytest.raises(ParseError, match="bad checksum"):
        kraken.parse(frame, 3)


def test_kraken_book_channel_of_thousands_of_digits_is_a_parse_error() -> None:
    frame = (b'[1,{"as":[["5541.30000","2.50700000","1534614248.123678"]],'
             b'"bs":[["5541.20000","1.52900000","1534614248.765567"]]},"book-'
             + b"9" * 5000 + b'","XBT/USD"]')
    with pytest.raises(ParseError, match="bad book channel name"):
        make_parser("kraken").parse(frame, 1)
