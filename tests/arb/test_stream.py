"""The Scanner on the bundled captures: converted books stay equal to the synced
venue books, and every event agrees with best_opportunity on those books."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossbook import L2Book, Side
from crossbook.arb.fees import VenueCosts
from crossbook.arb.opportunity import best_opportunity_cbps
from crossbook.arb.scanner import CloseReason, EventKind, OpportunityEvent
from crossbook.arb.session import discover_instruments, merged_records
from crossbook.arb.stream import Scanner
from crossbook.arb.units import common_units, default_listing, normalize_book
from crossbook.messages import BookMessage, Message
from crossbook.replay import Replay, open_capture
from crossbook.sync import BookSync

DATA = Path(__file__).resolve().parents[2] / "src" / "crossbook" / "data"
FREE = {v: VenueCosts(0, 0, 10_000_000) for v in ("binance", "binance_usdm", "binance_coinm")}


def levels(b: L2Book) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    return tuple(  # type: ignore[return-value]
        list(zip(b.levels(s)["price"].tolist(), b.levels(s)["size"].tolist(), strict=True))
        for s in (Side.BID, Side.ASK))


def replay(costs: dict[str, VenueCosts], *, check_every: int = 400,
           reconnect_coinm_after: int | None = None) -> tuple[Scanner, int]:
    paths = sorted(DATA.glob("*.cap.gz"))
    opened = [open_capture(p) for p in paths]
    insts = [i for p, (parser, _) in zip(paths, opened, strict=True)
             for i in discover_instruments(parser.venue, open_capture(p, parser.venue)[1])]
    units = common_units([(default_listing(i), i.price_exp, i.size_exp) for i in insts])
    syncs: dict[str, BookSync] = {}
    checked = 0

    def on_event(e: OpportunityEvent) -> None:
        nonlocal checked
        if e.kind is EventKind.CLOSED:
            return
        core = scanner.core
        want = best_opportunity_cbps(core.book(e.buy_book), core.book(e.sell_book),
                                     core.fee_cbps(e.buy_book), core.fee_cbps(e.sell_book))
        assert e.opportunity == want
        if checked % 50 == 0:  # the same on books converted afresh from the venue books
            b, s = (syncs[scanner.listings[k].name] for k in (e.buy_book, e.sell_book))
            fresh = best_opportunity_cbps(
                normalize_book(b.book, scanner.listings[e.buy_book], units),
                normalize_book(s.book, scanner.listings[e.sell_book], units),
                core.fee_cbps(e.buy_book), core.fee_cbps(e.sell_book))
            assert e.opportunity == fresh
        checked += 1

    scanner = Scanner(units, costs=costs, max_age_ms=1000, on_event=on_event)
    for i in insts:
        scanner.add(default_listing(i), i.price_exp, i.size_exp)
    n = 0

    def on_message(msg: Message, sync: BookSync | None) -> None:
        nonlocal n
        scanner.on_message(msg, sync)
        if not isinstance(msg, BookMessage) or sync is None:
            return
        n += 1
        name = f"{msg.venue} {msg.symbol}"
        syncs[name] = sync
        if reconnect_coinm_after is not None and n == reconnect_coinm_after:
            coinm = syncs.get("binance_coinm BTCUSD_PERP")
            if coinm is not None:
                coinm.reconnect(msg.ts_recv_ns)
        i = scanner.index(msg.venue, msg.symbol)
        if i is not None and sync.synced and n % check_every == 0:
            want = normalize_book(sync.book, scanner.listings[i], units)
            assert levels(scanner.core.book(i)) == levels(want)

    replays = {parser.venue: Replay(parser, on_message=on_message) for parser, _ in opened}
    feeders = [replays[parser.venue] for parser, _ in opened]
    for k, rec in merged_records([r for _, r in opened]):
        feeders[k].feed(rec)
    for name, sync in syncs.items():  # the end state, every book
        i = scanner.index(*name.split(" "))
        assert i is not None and (sync.synced or not scanner.core.usable(i))
        if sync.synced:
            assert levels(scanner.core.book(i)) == levels(
                normalize_book(sync.book, scanner.listings[i], units))
    scanner.finish()
    return scanner, checked


@pytest.mark.slow
def test_zero_fees_every_event_agrees_with_best_opportunity() -> None:
    scanner, checked = replay(FREE)
    assert checked > 100
    closed = [e for e in scanner.events if e.kind is EventKind.CLOSED]
    assert closed and scanner.core.open_count == 0
    # With no fees, USD-M's asks sit under spot's bids all along (the perp trades ~3.5 bps
    # under spot): one opportunity that lasts the whole replay, closed when the spot
    # capture ends (2.2 s before the others) and its book goes stale 1 s later.
    long = [e for e in closed if (e.buy, e.sell) == ("binance_usdm BTCUSDT", "binance BTCUSDT")]
    assert len(long) == 1 and long[0].duration_ns > 80e9
    assert long[0].reason is CloseReason.STALE and long[0].outlived_latency
    assert 2 < long[0].peak_edge_bps < 4


def test_default_fees_nothing_crosses_and_a_lost_book_is_dropped() -> None:
    scanner, _ = replay({}, check_every=300, reconnect_coinm_after=3000)
    assert scanner.events == []
    i = scanner.index("binance_coinm", "BTCUSD_PERP")
    assert i is not None and not scanner.core.usable(i) and scanner.book(i) is None


def test_a_lost_book_closes_its_opportunities() -> None:
    scanner, _ = replay(FREE, check_every=10**9, reconnect_coinm_after=3000)
    coinm = scanner.index("binance_coinm", "BTCUSD_PERP")
    unsynced = [e for e in scanner.events if e.reason is CloseReason.UNSYNCED]
    assert unsynced and all(coinm in (e.buy_book, e.sell_book) for e in unsynced)
    last_close = max(e.ts_ns for e in unsynced)
    assert not [e for e in scanner.events if e.kind is EventKind.OPENED and e.ts_ns > last_close
                and coinm in (e.buy_book, e.sell_book)]
