"""Every sequence rule at its boundaries: one below, equal to and one above the
snapshot id (``first``) and the previous id (``next``).

Each expected verdict is written from the venue's documented rule in
/work/shared/docs/venues.md (quoted above each table), not read off the code.
Where the docs say only "restart" for anything that does not chain, the house
reading is that a message the book already covers (its last id at or below the
book's) is STALE: a repeat, dropped and counted. Plain models of the same rules
are checked against the rules on generated ids in tests/property/test_sync_rule_models.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from crossbook import dtypes
from crossbook.messages import EMPTY_LEVELS, BookMessage, Kind
from crossbook.sync_rules import (
    BinanceFuturesRule,
    BinanceSpotRule,
    ContiguousRule,
    PrevChainRule,
    UnsequencedRule,
    UpdateRangeRule,
    Verdict,
)
from crossbook.venues.bitfinex import SeqAllRule
from crossbook.venues.bitstamp import BitstampRule
from crossbook.venues.bybit import BybitDepthRule
from crossbook.venues.bybit_legacy import CrossSeqRule
from crossbook.venues.coinbase import ExchangeTimeRule
from crossbook.venues.dydx import MessageIdRule, V3OffsetRule
from crossbook.venues.gateio import GateObuRule, GateRule
from crossbook.venues.kucoin import KucoinRule
from crossbook.venues.okx import OkxSeqRule

A, S, G = Verdict.APPLY, Verdict.STALE, Verdict.GAP
L = 1_000  # the snapshot's id, or the last applied delta's


def m(first: int | None = None, last: int | None = None, prev: int | None = None,
      ts_exchange_ns: int | None = None, levels: np.ndarray = EMPTY_LEVELS,
      extra: dict[str, object] | None = None) -> BookMessage:
    return BookMessage("test", "X", Kind.DELTA, levels, 0, ts_exchange_ns, first_seq=first,
                       last_seq=last, prev_seq=prev, extra=extra or {})


# -- update ranges: Binance spot, Gate.io order_book_update, KuCoin --------------------------
# Binance spot (§2.1): "discard events with u <= lastUpdateId"; "if U > local update ID + 1
# -> events were missed"; first kept event: "U <= lastUpdateId+1 AND u >= lastUpdateId+1".
# KuCoin (§11.1): "sequenceStart(new) <= sequenceEnd+1(old) and
# sequenceEnd(new) > sequenceEnd(old)".
# Gate.io (§11.2): "dump those with u < baseID+1"; "U > baseID+1 ... some updates are lost".
# The snapshot's id plays the previous delta's part, so first and next share the table.
UPDATE_RANGE = [  # (U, u, verdict)
    (L - 5, L - 1, S),  # u one below L
    (L - 5, L, S),  # u equal to L: already in the snapshot
    (L - 5, L + 1, A),  # u one above L, U far below: an overlap, sizes are absolute
    (L, L + 1, A),  # U equal to L
    (L + 1, L + 1, A),  # U = L+1: contiguous, though L is not inside [U; u] (§2.1 pitfall)
    (L + 1, L + 9, A),
    (L + 2, L + 2, G),  # U one above L+1: a delta was missed
    (L + 2, L + 9, G),
    (L, L, S),
]


@pytest.mark.parametrize("rule_type", [UpdateRangeRule, BinanceSpotRule, GateRule, KucoinRule])
@pytest.mark.parametrize(("first", "last", "verdict"), UPDATE_RANGE)
def test_update_range_boundaries(rule_type: type[UpdateRangeRule], first: int, last: int,
                                 verdict: Verdict) -> None:
    assert rule_type().first(L, m(first, last)) is verdict
    assert rule_type().next(L, m(first, last)) is verdict
    assert rule_type.snapshot_source == "rest"


@pytest.mark.parametrize("rule", [UpdateRangeRule(), BinanceFuturesRule()])
@pytest.mark.parametrize(("first", "last"), [(None, L), (L, None), (None, None)])
def test_range_rules_refuse_a_delta_without_its_ids(rule: UpdateRangeRule, first: int | None,
                                                    last: int | None) -> None:
    with pytest.raises(ValueError, match="delta lacks"):
        rule.first(L, m(first, last, prev=L))


# -- Binance USD-M / COIN-M futures (§2.2) ---------------------------------------------------
# "Drop any event where u is < lastUpdateId." "The first processed event should have
# U <= lastUpdateId AND u >= lastUpdateId." "each new event's pu should equal the previous
# event's u, otherwise restart from step 3." Spot differs: "(a) drop u < L (not <=); (b) the
# first event must straddle L itself (not L+1); (c) continuity is pu == prev_u".
FUTURES_FIRST = [  # (U, u, verdict); pu plays no part against a snapshot
    (L - 5, L - 1, S),  # u one below L
    (L - 5, L, A),  # u equal to L: straddles L, kept (spot would drop it)
    (L, L, A),
    (L - 5, L + 1, A),  # u one above L
    (L - 1, L + 9, A),  # U one below L
    (L, L + 9, A),  # U equal to L
    (L + 1, L + 9, G),  # U one above L: does not straddle L (spot would apply it)
    (L + 1, L + 1, G),
]


@pytest.mark.parametrize(("first", "last", "verdict"), FUTURES_FIRST)
def test_binance_futures_first_boundaries(first: int, last: int, verdict: Verdict) -> None:
    for prev in (None, L - 1, L, L + 1):
        assert BinanceFuturesRule().first(L, m(first, last, prev)) is verdict


FUTURES_NEXT = [  # (pu, u, verdict) against the previous event's u = L
    (L - 1, L + 9, G),  # pu one below the previous u
    (L, L + 9, A),  # pu equal: chains
    (L + 1, L + 9, G),  # pu one above
    (L - 9, L - 1, S),  # a repeat of an event the book holds (u below)
    (L - 9, L, S),  # a repeat of the previous event itself
    (L - 9, L + 1, G),  # u one above, yet pu does not chain
]


@pytest.mark.parametrize(("prev", "last", "verdict"), FUTURES_NEXT)
def test_binance_futures_next_boundaries(prev: int, last: int, verdict: Verdict) -> None:
    # U is not contiguous across futures events: it never enters the judgement.
    for first in (prev + 1, L - 9, L + 1, None):
        assert BinanceFuturesRule().next(L, m(first, last, prev)) is verdict


def test_binance_futures_next_needs_pu() -> None:
    with pytest.raises(ValueError, match="prev_seq"):
        BinanceFuturesRule().next(L, m(L + 1, L + 2, None))


# -- prevSeqId / prev_change_id chains: Deribit (§8) -------------------------------------------
# "on prev_change_id != last change_id, unsubscribe and resubscribe"; "ids are not
# contiguous. Link via prev_change_id only." The snapshot's change_id is the first link.
PREV_CHAIN = [  # (prev, last, verdict) against the book's id L
    (L - 1, L + 9, G),
    (L, L + 9, A),
    (L + 1, L + 9, G),
    (L - 9, L - 1, S),  # last id one below: already applied
    (L - 9, L, S),  # last id equal: a repeat
    (L - 9, L + 1, G),  # last id one above, unchained
]


@pytest.mark.parametrize(("prev", "last", "verdict"), PREV_CHAIN)
def test_prev_chain_boundaries(prev: int, last: int, verdict: Verdict) -> None:
    assert PrevChainRule().first(L, m(last=last, prev=prev)) is verdict
    assert PrevChainRule().next(L, m(last=last, prev=prev)) is verdict


def test_prev_chain_without_a_book_id_is_a_gap() -> None:
    assert PrevChainRule().first(None, m(last=L, prev=L - 1)) is G
    with pytest.raises(ValueError, match="prev_seq"):
        PrevChainRule().next(L, m(last=L + 1))


# -- contiguous ids: Bitfinex seq, Coinbase Advanced sequence_num, Kraken futures ------------
# Coinbase Advanced (§1): "sequence_num == prev+1". Bitfinex (§9): the sequence "must
# increase by exactly 1".
CONTIGUOUS = [(L - 1, S), (L, S), (L + 1, A), (L + 2, G)]


@pytest.mark.parametrize(("last", "verdict"), CONTIGUOUS)
def test_contiguous_boundaries(last: int, verdict: Verdict) -> None:
    assert ContiguousRule().first(L, m(last=last)) is verdict
    assert ContiguousRule().next(L, m(last=last)) is verdict


def test_contiguous_starts_anywhere_without_a_book_id() -> None:
    assert ContiguousRule().first(None, m(last=7)) is A
    with pytest.raises(ValueError, match="last_seq"):
        ContiguousRule().next(L, m())


# -- no sequence: Coinbase level2, Bitstamp-like, Kraken (§3, §5: "no sequence number") ------
@pytest.mark.parametrize("last", [None, L - 1, L, L + 1, L + 2])
def test_unsequenced_applies_everything(last: int | None) -> None:
    for book_id in (None, L):
        assert UnsequencedRule().first(book_id, m(last=last, prev=last)) is A
        assert UnsequencedRule().next(book_id, m(last=last, prev=last)) is A
    assert UnsequencedRule().snapshot_source == "stream"
    assert UnsequencedRule("rest").snapshot_source == "rest"


# -- Gate.io spot.obu (§11.2) --------------------------------------------------------------
# "if U == local+1, apply and set local = u; otherwise you must unsubscribe ... and resubscribe"
GATE_OBU = [  # (U, u, verdict)
    (L, L + 9, G),  # U one below local+1: an overlap is not allowed here
    (L + 1, L + 9, A),
    (L + 2, L + 9, G),
    (L - 9, L - 1, S),  # already covered
    (L - 9, L, S),
    (L - 9, L + 1, G),
]


@pytest.mark.parametrize(("first", "last", "verdict"), GATE_OBU)
def test_gate_obu_boundaries(first: int, last: int, verdict: Verdict) -> None:
    assert GateObuRule().first(L, m(first, last)) is verdict
    assert GateObuRule().next(L, m(first, last)) is verdict
    assert GateObuRule().next(None, m(first, last)) is G  # only a full push starts a book


# -- Bybit v5 orderbook.{depth} (§7) ---------------------------------------------------------
# "u < local -> ignore; u > local+1 -> discard and restart"; u == 1 is a restart, which
# the parser turns into a RESET before the message (tests/venues/test_bybit.py).
BYBIT = [(L - 1, S, S), (L, S, S), (L + 1, A, A), (L + 2, G, A)]  # (u, contiguous, relaxed)


@pytest.mark.parametrize(("last", "contiguous", "relaxed"), BYBIT)
def test_bybit_depth_boundaries(last: int, contiguous: Verdict, relaxed: Verdict) -> None:
    assert BybitDepthRule().first(L, m(last=last)) is contiguous
    assert BybitDepthRule().next(L, m(last=last)) is contiguous
    assert BybitDepthRule(contiguous=False).next(L, m(last=last)) is relaxed
    assert BybitDepthRule().first(None, m(last=last)) is G


# -- rising ids with holes: Bybit legacy cross_seq, dYdX message_id --------------------------
# dYdX (module doc): "an id equal to the book's is a duplicate (stale), a lower one means
# messages were reordered (a gap)"; Bybit legacy cross_seq rises and is not contiguous.
RISING = [(L - 1, G), (L, S), (L + 1, A), (L + 9, A)]


@pytest.mark.parametrize("rule_type", [CrossSeqRule, MessageIdRule])
@pytest.mark.parametrize(("last", "verdict"), RISING)
def test_rising_id_boundaries(rule_type: type[CrossSeqRule], last: int, verdict: Verdict) -> None:
    assert rule_type().first(L, m(last=last)) is verdict
    assert rule_type().next(L, m(last=last)) is verdict
    assert rule_type().first(None, m(last=last)) is A


def _offset_levels(side: int, price: int, size: int) -> np.ndarray:
    lv = np.zeros(1, dtype=dtypes.LEVEL_EVENT)
    lv["side"], lv["price"], lv["size"], lv["action"] = side, price, size, dtypes.UPDATE
    return lv


def test_dydx_v3_offsets_at_the_level_boundary() -> None:
    """v3: a level change at or below the offset the book holds for that level is stale."""
    rule = V3OffsetRule()
    assert rule.next(L, m(last=L + 1, levels=_offset_levels(0, 10, 5), extra={"offset": 50})) is G
    table = ((0,), (10,), (5,), (50,))  # side, price, size, offset: the snapshot's levels
    assert rule.first(None, m(last=L, extra={"dydx_v3_snapshot_offsets": table})) is A
    for offset, verdict in [(49, S), (50, S), (51, A)]:
        rule2 = V3OffsetRule()
        rule2.first(None, m(last=L, extra={"dydx_v3_snapshot_offsets": table}))
        msg = m(last=L + 1, levels=_offset_levels(0, 10, 7), extra={"offset": offset})
        assert rule2.next(L, msg) is verdict
    assert rule.next(L, m(last=L, levels=_offset_levels(0, 10, 7), extra={"offset": 99})) is S


# -- OKX prevSeqId (§6) ------------------------------------------------------------------------
# "The prevSeqId in the new message matches with seqId of the previous message." Keep-alive:
# "seqId is the same as the last sent message and prevSeqId equals to seqId". Reset: "an
# incremental message with seqId smaller than prevSeqId. However, subsequent messages will
# follow the regular sequencing rule." Example: 10 -> (10,15) -> (15,15) -> (15,3) -> (3,5).
OKX = [  # (prev, seq, verdict) against the book's seqId L
    (L - 1, L + 9, G),
    (L, L + 9, A),
    (L + 1, L + 9, G),
    (L, L, A),  # keep-alive
    (L, 3, A),  # sequence reset: still chains
    (L - 9, L - 1, G),  # unchained and never applied here: rebuilt (OkxSeqRule's docstring)
    (L - 9, L, G),
]


@pytest.mark.parametrize(("prev", "last", "verdict"), OKX)
def test_okx_boundaries(prev: int, last: int, verdict: Verdict) -> None:
    assert OkxSeqRule().first(L, m(last=last, prev=prev)) is verdict
    assert OkxSeqRule().next(L, m(last=last, prev=prev)) is verdict


def test_okx_follows_the_documented_example_and_drops_repeats() -> None:
    rule = OkxSeqRule()
    book = 10
    for prev, seq in [(10, 15), (15, 15), (15, 3), (3, 5)]:
        assert rule.next(book, m(last=seq, prev=prev)) is A
        book = seq
    assert rule.next(book, m(last=15, prev=10)) is S  # an applied pair, seen again
    assert rule.next(book, m(last=5, prev=3)) is S
    assert rule.next(book, m(last=6, prev=4)) is G
    assert rule.next(None, m(last=6, prev=4)) is A  # no seqId on the book: pre-seqId feed


# -- Bitfinex SEQ_ALL (§9) -------------------------------------------------------------------
# "SEQ_ALL appends a sequence number to every message ... it must increase by exactly 1";
# a book sees its channel's frames, so each names the previous frame of its channel.
SEQ_ALL = [  # (prev, last, verdict)
    (L - 1, L + 1, G),
    (L, L + 1, A),
    (L + 1, L + 2, G),
    (L - 2, L - 1, S),
    (L - 1, L, S),
    (L, L + 9, A),  # other channels' frames in between
]


@pytest.mark.parametrize(("prev", "last", "verdict"), SEQ_ALL)
def test_bitfinex_seq_all_boundaries(prev: int, last: int, verdict: Verdict) -> None:
    assert SeqAllRule().first(L, m(last=last, prev=prev)) is verdict
    assert SeqAllRule().next(L, m(last=last, prev=prev)) is verdict
    assert SeqAllRule().next(None, m(last=last, prev=prev)) is A


# -- Bitstamp diff_order_book (§10 and the module doc) ---------------------------------------
# "No sequence numbers"; "buffer diffs, fetch the REST snapshot" and apply what is newer.
# microtimestamp is the key: at or before the snapshot's is in it (stale); the snapshot is
# trusted only when a diff at or before it was seen.
@pytest.mark.parametrize(("reach", "verdict"), [(None, G), (L - 1, A), (L, A)])
def test_bitstamp_first_needs_the_stream_to_reach_the_snapshot(reach: int | None,
                                                               verdict: Verdict) -> None:
    rule = BitstampRule()
    if reach is not None:
        assert rule.first(L, m(last=reach)) is S
    assert rule.first(L, m(last=L + 1)) is verdict


def test_bitstamp_reach_counts_for_its_own_snapshot_only() -> None:
    rule = BitstampRule()
    assert rule.first(L, m(last=L)) is S
    assert rule.first(L + 5, m(last=L + 6)) is G


@pytest.mark.parametrize(("last", "verdict"), [(L - 1, G), (L, S), (L + 1, A)])
def test_bitstamp_next_boundaries(last: int, verdict: Verdict) -> None:
    assert BitstampRule().next(L, m(last=last)) is verdict


# -- Coinbase level2 (§3): no sequence; exchange time must not go back -----------------------
@pytest.mark.parametrize(("ts", "verdict"), [(L - 1, G), (L, A), (L + 1, A), (None, A)])
def test_coinbase_exchange_time_boundaries(ts: int | None, verdict: Verdict) -> None:
    rule = ExchangeTimeRule()
    assert rule.first(None, m(ts_exchange_ns=L)) is A
    assert rule.next(None, m(ts_exchange_ns=ts)) is verdict


def test_coinbase_first_restarts_the_clock() -> None:
    rule = ExchangeTimeRule()
    rule.first(None, m(ts_exchange_ns=L))
    assert rule.first(None, m(ts_exchange_ns=L - 9)) is A  # a new snapshot
    assert rule.next(None, m(ts_exchange_ns=L - 9)) is A
    assert rule.next(None, m(ts_exchange_ns=L - 10)) is G
