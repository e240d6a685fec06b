"""Each sequence rule against a plain model of its venue's documented rule.

The models are written from /work/shared/docs/venues.md (the rule quoted in
tests/unit/test_sync_rules.py), a few lines each, and share nothing with the
implementation. Ids are drawn around the book's id so every boundary is hit often.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crossbook.messages import EMPTY_LEVELS, BookMessage, Kind
from crossbook.sync_rules import (
    BinanceFuturesRule,
    ContiguousRule,
    PrevChainRule,
    UpdateRangeRule,
    Verdict,
)
from crossbook.venues.bitfinex import SeqAllRule
from crossbook.venues.bitstamp import BitstampRule
from crossbook.venues.bybit import BybitDepthRule
from crossbook.venues.bybit_legacy import CrossSeqRule
from crossbook.venues.coinbase import ExchangeTimeRule
from crossbook.venues.dydx import MessageIdRule
from crossbook.venues.gateio import GateObuRule
from crossbook.venues.okx import OkxSeqRule

A, S, G = Verdict.APPLY, Verdict.STALE, Verdict.GAP
BOOK = 1_000
near = st.integers(BOOK - 4, BOOK + 4)
fast = settings(max_examples=400, derandomize=True, deadline=None)


def m(first: int | None = None, last: int | None = None, prev: int | None = None) -> BookMessage:
    return BookMessage("test", "X", Kind.DELTA, EMPTY_LEVELS, 0, first_seq=first, last_seq=last,
                       prev_seq=prev)


@st.composite
def ranges(draw: st.DrawFn) -> tuple[int, int]:
    first = draw(near)
    return first, draw(st.integers(first, BOOK + 6))


def binance_spot_model(book: int, first: int, last: int) -> Verdict:
    # "discard events with u <= lastUpdateId"; then "U <= lastUpdateId+1" or events were missed
    if last <= book:
        return S
    return A if first <= book + 1 else G


@fast
@given(near, ranges())
def test_update_range_matches_the_binance_spot_model(book: int, ids: tuple[int, int]) -> None:
    assert UpdateRangeRule().first(book, m(*ids)) is binance_spot_model(book, *ids)
    assert UpdateRangeRule().next(book, m(*ids)) is binance_spot_model(book, *ids)


def binance_futures_first_model(snapshot: int, first: int, last: int) -> Verdict:
    # "Drop any event where u is < lastUpdateId"; "U <= lastUpdateId AND u >= lastUpdateId"
    if last < snapshot:
        return S
    return A if first <= snapshot <= last else G


def binance_futures_next_model(prev_u: int, pu: int, u: int) -> Verdict:
    # "each new event's pu should equal the previous event's u"; a repeat is dropped
    if pu == prev_u:
        return A
    return S if u <= prev_u else G


@fast
@given(near, ranges(), near)
def test_binance_futures_matches_its_model(book: int, ids: tuple[int, int], pu: int) -> None:
    first, last = ids
    assert BinanceFuturesRule().first(book, m(first, last, pu)) is binance_futures_first_model(
        book, first, last)
    assert BinanceFuturesRule().next(book, m(first, last, pu)) is binance_futures_next_model(
        book, pu, last)


def prev_chain_model(book: int | None, prev: int, last: int) -> Verdict:
    # Deribit: "prev_change_id == last change_id"; an id the book already has is a repeat
    if book is not None and prev == book:
        return A
    return S if book is not None and last <= book else G


@fast
@given(st.none() | near, near, near)
def test_prev_chain_matches_its_model(book: int | None, prev: int, last: int) -> None:
    assert PrevChainRule().next(book, m(last=last, prev=prev)) is prev_chain_model(book, prev, last)


def contiguous_model(book: int | None, last: int) -> Verdict:
    # "sequence_num == prev+1"
    if book is None or last == book + 1:
        return A
    return S if last <= book else G


@fast
@given(st.none() | near, near)
def test_contiguous_matches_its_model(book: int | None, last: int) -> None:
    assert ContiguousRule().next(book, m(last=last)) is contiguous_model(book, last)


def gate_obu_model(book: int | None, first: int, last: int) -> Verdict:
    # "if U == local+1, apply and set local = u; otherwise ... unsubscribe ... and resubscribe"
    if book is None:
        return G
    if first == book + 1:
        return A
    return S if last <= book else G


@fast
@given(st.none() | near, ranges())
def test_gate_obu_matches_its_model(book: int | None, ids: tuple[int, int]) -> None:
    assert GateObuRule().next(book, m(*ids)) is gate_obu_model(book, *ids)


def bybit_model(book: int | None, u: int) -> Verdict:
    # "u < local -> ignore; u > local+1 -> discard and restart"; u == local is a repeat
    if book is None:
        return G
    if u <= book:
        return S
    return A if u == book + 1 else G


@fast
@given(st.none() | near, near)
def test_bybit_depth_matches_its_model(book: int | None, u: int) -> None:
    assert BybitDepthRule().next(book, m(last=u)) is bybit_model(book, u)


def rising_model(book: int | None, last: int) -> Verdict:
    # dYdX message_id: equal is a duplicate, lower is reordered
    if book is None or last > book:
        return A
    return S if last == book else G


@fast
@given(st.none() | near, near)
def test_rising_ids_match_their_model(book: int | None, last: int) -> None:
    assert MessageIdRule().next(book, m(last=last)) is rising_model(book, last)
    assert CrossSeqRule().next(book, m(last=last)) is rising_model(book, last)


@fast
@given(st.lists(st.tuples(st.booleans(), st.none() | near), max_size=12))
def test_coinbase_time_matches_its_model(steps: list[tuple[bool, int | None]]) -> None:
    # level2 has no sequence: a delta whose exchange time goes back was reordered; a
    # snapshot starts the clock again
    rule, clock = ExchangeTimeRule(), None
    for snapshot, ts in steps:
        msg = BookMessage("test", "X", Kind.DELTA, EMPTY_LEVELS, 0, ts)
        if snapshot:
            assert rule.first(None, msg) is A
            clock = ts
            continue
        want = G if ts is not None and clock is not None and ts < clock else A
        assert rule.next(None, msg) is want
        if want is A and ts is not None:  # a refused delta moves nothing
            clock = ts


def seq_all_model(book: int | None, prev: int, last: int) -> Verdict:
    # SEQ_ALL "must increase by exactly 1" over the connection: a channel's frame names
    # the channel's previous frame, so it must name the book's last one
    if book is None:
        return A
    if last <= book:
        return S
    return A if prev == book else G


@fast
@given(st.none() | near, near, near)
def test_bitfinex_seq_all_matches_its_model(book: int | None, prev: int, last: int) -> None:
    assert SeqAllRule().next(book, m(last=last, prev=prev)) is seq_all_model(book, prev, last)


@fast
@given(st.lists(st.tuples(near, near), max_size=12), near)
def test_okx_matches_a_model_of_applied_pairs(steps: list[tuple[int, int]], book: int) -> None:
    # "The prevSeqId in the new message matches with seqId of the previous message"; a pair
    # already applied is a repeat; anything else rebuilds the book
    rule, applied = OkxSeqRule(), set()
    for prev, seq in steps:
        want = A if prev == book else S if (prev, seq) in applied else G
        assert rule.next(book, m(last=seq, prev=prev)) is want
        if want is A:
            applied.add((prev, seq))
            book = seq


@fast
@given(st.lists(near, max_size=8), near)
def test_bitstamp_first_matches_a_model_of_reach(diffs: list[int], snapshot: int) -> None:
    # "buffer diffs, fetch the REST snapshot": diffs at or before it are in it; a later diff is
    # safe only when the stream is known to reach back to the snapshot
    rule, reached = BitstampRule(), False
    for ts in diffs:
        if ts <= snapshot:
            want = S
            reached = True
        else:
            want = A if reached else G
        assert rule.first(snapshot, m(last=ts)) is want
