"""cryptofeed's feed handlers driven offline on recorded frames, for compare_pipeline.py.

cryptofeed (an optional benchmark dependency: ``pip install cryptofeed``) normally fetches its
symbol table and REST snapshots over the network. Here its symbol table is filled from the
symbols the capture itself names, its REST reads answer with the capture's recorded response,
and each frame goes to the feed's ``message_handler`` as the websocket would hand it over, with
checksum validation on where cryptofeed supports it (crossbook always checks). The books it
ends with are compared with crossbook's at the touch, so both did the same work.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from crossbook.io.capture import CaptureRecord, RecordKind


class _Conn:
    """What the handlers read of a connection: an id and the subscription."""

    uuid = "offline"
    subscription: dict[str, list[str]] = {}


def _symbols(feed_cls: Any, exchange_to_std: dict[str, Any]) -> None:
    from cryptofeed.symbols import Symbols

    syms = {s.normalized: exch for exch, s in exchange_to_std.items()}
    info = {"tick_size": {k: "0.00000001" for k in syms},
            "instrument_type": {s.normalized: s.type for s in exchange_to_std.values()}}
    Symbols.set(feed_cls.id, syms, info)


def _binance(records: list[CaptureRecord], kind: str) -> tuple[Any, dict[str, Any], dict]:
    from cryptofeed.defines import PERPETUAL
    from cryptofeed.exchanges import Binance, BinanceDelivery, BinanceFutures
    from cryptofeed.symbols import Symbol

    first = json.loads(next(r.payload for r in records if r.kind is RecordKind.FRAME))
    exch = first["stream"].split("@", 1)[0].upper()
    if kind == "spot":
        cls, sym = Binance, Symbol(exch[:-4], exch[-4:])
    elif kind == "usdm":
        cls, sym = BinanceFutures, Symbol(exch[:-4], exch[-4:], type=PERPETUAL)
    else:
        base_quote = exch.split("_", 1)[0]
        cls, sym = BinanceDelivery, Symbol(base_quote[:-3], base_quote[-3:], type=PERPETUAL)
    return cls, {exch: sym}, {}


def _okx(records: list[CaptureRecord]) -> tuple[Any, dict[str, Any], dict]:
    from cryptofeed.defines import FUTURES, PERPETUAL
    from cryptofeed.exchanges import OKX
    from cryptofeed.symbols import Symbol

    ids = {json.loads(r.payload)["arg"]["instId"] for r in records
           if r.kind is RecordKind.FRAME and b'"books"' in r.payload}
    table = {}
    for inst in ids:
        parts = inst.split("-")
        if len(parts) == 2:
            table[inst] = Symbol(parts[0], parts[1])
        elif parts[2] == "SWAP":
            table[inst] = Symbol(parts[0], parts[1], type=PERPETUAL)
        else:
            table[inst] = Symbol(parts[0], parts[1], type=FUTURES, expiry_date=parts[2])
    return OKX, table, {"checksum_validation": True}


def _kraken(records: list[CaptureRecord]) -> tuple[Any, dict[str, Any], dict]:
    from cryptofeed.exchanges import Kraken
    from cryptofeed.symbols import Symbol

    pairs = {json.loads(r.payload)["pair"] for r in records
             if r.kind is RecordKind.FRAME and b'"subscriptionStatus"' in r.payload}
    table = {p: Symbol(*p.replace("XBT", "BTC").split("/")) for p in pairs}
    return Kraken, table, {"checksum_validation": True, "max_depth": 1000}


SETUPS: dict[str, Callable[[list[CaptureRecord]], tuple[Any, dict[str, Any], dict]]] = {
    "binance_spot": lambda recs: _binance(recs, "spot"),
    "binance_usdm": lambda recs: _binance(recs, "usdm"),
    "binance_coinm": lambda recs: _binance(recs, "coinm"),
    "okx": _okx,
    "kraken_v1": _kraken,
}


def runner(name: str, records: list[CaptureRecord]) -> Callable[[], Any] | None:
    """A callable replaying ``records`` through cryptofeed, or None where it has no such feed."""
    setup = SETUPS.get(name)
    if setup is None:
        return None
    from cryptofeed.defines import L2_BOOK

    cls, table, kwargs = setup(records)
    _symbols(cls, table)
    rest = [r.payload.decode() for r in records if r.kind is RecordKind.REST]
    frames = [r.payload.decode() for r in records if r.kind is RecordKind.FRAME]
    books: dict[str, Any] = {}

    async def on_book(book: Any, receipt_timestamp: float) -> None:
        books[book.symbol] = book

    async def drive() -> Any:
        feed = cls(symbols=[s.normalized for s in table.values()], channels=[L2_BOOK],
                   callbacks={L2_BOOK: on_book}, **kwargs)
        answers = iter(rest)

        async def read(*args: Any, **kw: Any) -> str:
            return next(answers)

        feed.http_conn.read = read
        conn = _Conn()
        for i, frame in enumerate(frames):
            await feed.message_handler(frame, conn, float(i))
        return feed

    loop = asyncio.new_event_loop()

    def run() -> Any:
        return loop.run_until_complete(drive())

    return run


def touch(feed: Any) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    """Best bid and ask of every book cryptofeed ended with, by exchange symbol."""
    out = {}
    for std, book in feed._l2_book.items():
        bids, asks = book.book.bids, book.book.asks
        out[feed.std_symbol_to_exchange_symbol(std)] = (
            bids.index(0)[0] if len(bids) else None, asks.index(0)[0] if len(asks) else None)
    return out
