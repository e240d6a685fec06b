"""What the venue simulator says in each venue's protocol: how a book starts
(a REST snapshot, a snapshot sent on subscribe, or every message a snapshot),
the REST snapshot body and the stream snapshot, rendered from the simulator's
truth (a BookSync), in the venue's own format, and which books a client's
subscribe request names.

One ``Speech`` per venue; adding a venue to the simulator is adding one here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from crossbook import L2Book, format_fixed
from crossbook._side import Side
from crossbook.replay import Replay
from crossbook.sync import BookSync
from crossbook.testing.sessions import BitfinexSession, PlainSession, Session
from crossbook.timeutil import NS_PER_MS

__all__ = ["SPEECH", "Speech", "book_rows", "deribit_snapshot", "okx_snapshot"]

Render = Callable[[str, BookSync], bytes]


def _never(request: object) -> list[str]:
    return []


@dataclass(frozen=True, slots=True)
class Speech:
    """``start``: "rest" (books start from ``render_rest`` at ``rest_path``, the symbol
    in query parameter ``rest_symbol``), "subscribe" (a subscribe request naming books,
    ``subscribed``, is answered with ``render_snapshot`` of each), or "every" (every
    book message is a snapshot). ``token_path``: a POST that hands out the websocket
    address (KuCoin's bullet-public). ``session`` makes each connection's conversation
    (``crossbook.testing.sessions``)."""

    start: Literal["rest", "subscribe", "every"]
    rest_path: str | None = None
    rest_symbol: str = "symbol"
    render_rest: Render | None = None
    subscribed: Callable[[object], list[str]] = _never
    render_snapshot: Render | None = None
    token_path: str | None = None
    session: Callable[[Speech, Replay], Session] = PlainSession


def book_rows(book: L2Book, side: Side) -> list[list[str]]:
    """A side of the book as the venue's decimal strings, best first."""
    return [[book.format_price(int(r["price"])), book.format_size(int(r["size"]))]
            for r in book.levels(int(side))]


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _plain(mantissa: int, exp: int) -> str:
    s = format_fixed(mantissa, exp)
    return s.rstrip("0").rstrip(".") if "." in s else s


def _ms(sync: BookSync) -> int:
    return sync.last_ts_recv_ns // NS_PER_MS


# -- REST bodies ----------------------------------------------------------------------

def binance_rest(symbol: str, sync: BookSync) -> bytes:
    book = sync.view()
    return _dumps({"lastUpdateId": sync.last_id, "bids": book_rows(book, Side.BID),
                   "asks": book_rows(book, Side.ASK)})


def gateio_rest(symbol: str, sync: BookSync) -> bytes:
    """``GET /api/v4/spot/order_book?with_id=true``: ``id`` is the book's ``u``."""
    book = sync.view()
    return _dumps({"id": sync.last_id, "current": _ms(sync), "update": _ms(sync),
                   "asks": book_rows(book, Side.ASK), "bids": book_rows(book, Side.BID)})


def kucoin_rest(symbol: str, sync: BookSync) -> bytes:
    """``GET /api/v3/market/orderbook/level2``: ``sequence`` is the book's."""
    book = sync.view()
    return _dumps({"code": "200000", "data": {
        "time": _ms(sync), "sequence": str(sync.last_id),
        "bids": book_rows(book, Side.BID), "asks": book_rows(book, Side.ASK)}})


# -- stream snapshots -----------------------------------------------------------------

def okx_snapshot(inst_id: str, sync: BookSync) -> bytes:
    """An OKX v5 ``books`` snapshot push of the book, with its (legacy) checksum."""
    from crossbook.venues.okx import okx_checksum

    book = sync.book

    def rows(side: Side) -> list[list[str]]:
        return [[_plain(int(r["price"]), book.price_exp), _plain(int(r["size"]), book.size_exp),
                 "0", str(int(r["count"]))] for r in book.levels(int(side))]

    data = {"asks": rows(Side.ASK), "bids": rows(Side.BID), "ts": str(_ms(sync)),
            "checksum": okx_checksum(book)}
    return _dumps({"arg": {"channel": "books", "instId": inst_id}, "action": "snapshot",
                   "data": [data]})


def deribit_snapshot(instrument: str, sync: BookSync) -> bytes:
    """A Deribit ``book.<instrument>.raw`` snapshot notification at the book's change_id;
    prices and amounts are JSON numbers written from their exact decimals."""
    book = sync.book

    def rows(side: Side) -> str:
        return ",".join(f'["new",{_plain(int(r["price"]), book.price_exp)},'
                        f'{_plain(int(r["size"]), book.size_exp)}]' for r in book.levels(int(side)))

    data = (f'{{"type":"snapshot","timestamp":{_ms(sync)},'
            f'"instrument_name":"{instrument}","change_id":{sync.last_id},'
            f'"bids":[{rows(Side.BID)}],"asks":[{rows(Side.ASK)}]}}')
    return (f'{{"jsonrpc":"2.0","method":"subscription","params":{{"channel":"book.{instrument}.raw",'
            f'"data":{data}}}}}').encode()


def bitget_snapshot(inst_id: str, sync: BookSync) -> bytes:
    """A Bitget v1 spot ``books`` snapshot push, values padded to the instrument's
    precision as Bitget writes them, with its checksum."""
    from crossbook.venues.bitget import bitget_checksum

    book = sync.book
    data = {"asks": book_rows(book, Side.ASK), "bids": book_rows(book, Side.BID),
            "checksum": bitget_checksum(book), "ts": str(_ms(sync))}
    return _dumps({"action": "snapshot", "arg": {"instType": "sp", "channel": "books",
                                                  "instId": inst_id}, "data": [data]})


# -- subscribe requests ---------------------------------------------------------------

def _okx_books(request: object) -> list[str]:
    if not isinstance(request, dict) or request.get("op") != "subscribe":
        return []
    return [a["instId"] for a in request.get("args", [])
            if isinstance(a, dict) and a.get("channel") == "books" and isinstance(a.get("instId"), str)]


def _deribit_books(request: object) -> list[str]:
    if not isinstance(request, dict) or request.get("method") != "public/subscribe":
        return []
    params = request.get("params")
    channels = params.get("channels", []) if isinstance(params, dict) else []
    return [c.split(".")[1] for c in channels
            if isinstance(c, str) and c.startswith("book.") and c.count(".") == 2]


SPEECH: dict[str, Speech] = {
    "binance": Speech("rest", "/api/v3/depth", render_rest=binance_rest),
    "binance_usdm": Speech("rest", "/fapi/v1/depth", render_rest=binance_rest),
    "binance_coinm": Speech("rest", "/dapi/v1/depth", render_rest=binance_rest),
    "gateio": Speech("rest", "/api/v4/spot/order_book", "currency_pair", gateio_rest),
    "kucoin": Speech("rest", "/api/v3/market/orderbook/level2", render_rest=kucoin_rest,
                     token_path="/api/v1/bullet-public"),
    "okx": Speech("subscribe", subscribed=_okx_books, render_snapshot=okx_snapshot),
    "deribit": Speech("subscribe", subscribed=_deribit_books, render_snapshot=deribit_snapshot),
    # Bitget's subscribe has OKX's shape (op, args of channel and instId).
    "bitget": Speech("subscribe", subscribed=_okx_books, render_snapshot=bitget_snapshot),
    "hyperliquid": Speech("every"),
    "bitfinex": Speech("subscribe", session=BitfinexSession),
}
