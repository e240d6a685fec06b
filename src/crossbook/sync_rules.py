"""Sequencing rules: how a venue's deltas chain onto a snapshot and onto each other.

A rule only judges; BookSync acts. Each verdict is one of APPLY (the message
continues the book), STALE (already covered by the book: dropped and counted)
or GAP (messages were missed: the book must be rebuilt).
"""

from __future__ import annotations

import enum
from typing import ClassVar, Literal, Protocol

from crossbook.messages import BookMessage

__all__ = [
    "Verdict",
    "SequenceRule",
    "UpdateRangeRule",
    "BinanceSpotRule",
    "BinanceFuturesRule",
    "PrevChainRule",
    "ContiguousRule",
    "UnsequencedRule",
]


class Verdict(enum.Enum):
    APPLY = "apply"
    STALE = "stale"
    GAP = "gap"


class SequenceRule(Protocol):
    name: ClassVar[str]
    #: Where snapshots come from: a REST call the driver makes, or the stream itself.
    snapshot_source: ClassVar[Literal["rest", "stream"]]

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        """Verdict on a delta (buffered or live) while the book sits at a fresh snapshot."""
        ...

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        """Verdict on a delta after at least one was applied since the snapshot."""
        ...


def _lacks(msg: BookMessage, *fields: str) -> ValueError:
    """The error for a delta without a sequence field its rule needs. Rules test the
    fields inline and call this only then: they judge every delta of every book."""
    missing = [f for f in fields if getattr(msg, f) is None]
    return ValueError(f"{msg.venue} {msg.symbol}: delta lacks {', '.join(missing)}")


class UpdateRangeRule:
    """Each delta covers update ids first_seq..last_seq (Binance spot U/u, Gate.io
    U/u, KuCoin sequenceStart/sequenceEnd), against a REST snapshot's id L.

    Drop u <= L; the first kept delta must have U <= L+1 <= u; then each
    U <= previous u + 1 (an overlap is harmless: sizes are absolute).
    """

    name: ClassVar[str] = "update_range"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "rest"

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        return self.next(snapshot_id, msg)  # the snapshot's id plays the last delta's part

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        first, last = msg.first_seq, msg.last_seq
        if first is None or last is None:
            raise _lacks(msg, "first_seq", "last_seq")
        assert last_id is not None
        if last <= last_id:
            return Verdict.STALE
        return Verdict.APPLY if first <= last_id + 1 else Verdict.GAP


class BinanceSpotRule(UpdateRangeRule):
    name: ClassVar[str] = "binance_spot"


class BinanceFuturesRule:
    """Binance USD-M / COIN-M diff depth: ids are not contiguous across messages,
    so continuity is pu == previous u. After a snapshot L: drop u < L; the first
    kept event must straddle L itself (U <= L <= u)."""

    name: ClassVar[str] = "binance_futures"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "rest"

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        first, last = msg.first_seq, msg.last_seq
        if first is None or last is None:
            raise _lacks(msg, "first_seq", "last_seq")
        assert snapshot_id is not None
        if last < snapshot_id:
            return Verdict.STALE
        return Verdict.APPLY if first <= snapshot_id else Verdict.GAP

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        last, prev = msg.last_seq, msg.prev_seq
        if last is None or prev is None:
            raise _lacks(msg, "last_seq", "prev_seq")
        assert last_id is not None
        if prev == last_id:
            return Verdict.APPLY
        return Verdict.STALE if last <= last_id else Verdict.GAP


class PrevChainRule:
    """Each delta names the id of the one before it (OKX prevSeqId, Deribit
    prev_change_id); ids need not be contiguous. Snapshots come in the stream."""

    name: ClassVar[str] = "prev_chain"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "stream"

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        return self.next(snapshot_id, msg)

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        last, prev = msg.last_seq, msg.prev_seq
        if last is None or prev is None:
            raise _lacks(msg, "last_seq", "prev_seq")
        if prev == last_id:
            return Verdict.APPLY
        if last_id is not None and last <= last_id:
            return Verdict.STALE
        return Verdict.GAP


class ContiguousRule:
    """Each message's id is the previous one plus one (Bitfinex seq, Bybit
    orderbook.full u, Gate.io obu)."""

    name: ClassVar[str] = "contiguous"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "stream"

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        return self.next(snapshot_id, msg)

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        last = msg.last_seq
        if last is None:
            raise _lacks(msg, "last_seq")
        if last_id is None or last == last_id + 1:
            return Verdict.APPLY
        return Verdict.STALE if last <= last_id else Verdict.GAP


class UnsequencedRule:
    """No sequence numbers (Coinbase level2, Bitstamp, Kraken): every delta
    applies; checksums, where the venue sends them, are the only guard."""

    name: ClassVar[str] = "unsequenced"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "stream"

    def __init__(self, snapshot_source: Literal["rest", "stream"] = "stream") -> None:
        self.snapshot_source = snapshot_source  # type: ignore[misc]

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        return Verdict.APPLY

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        return Verdict.APPLY
