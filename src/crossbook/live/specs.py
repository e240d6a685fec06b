"""How to connect to each venue's public market data: URLs, subscribe messages, the
snapshot request, keep-alive rules and the documented limits (docs/venues.md).

A spec is data plus small pure functions that build the bytes to send; nothing
here does I/O. The venue names are those of ``crossbook.venues.registry``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crossbook.venues.bitfinex import CHECKSUM_FLAG, SEQ_ALL

__all__ = ["VenueSpec", "SPECS", "spec_for"]

Build = Callable[[Sequence[str]], list[bytes]]


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """One venue's connection rules.

    ``subscribe(symbols)`` are the frames sent after connecting; ``resubscribe([symbol])``
    rebuilds one stream-snapshot book (the venue answers with a fresh snapshot);
    ``snapshot_path(symbol)`` is the REST snapshot request for REST-snapshot venues.
    ``app_ping`` is sent every ``app_ping_interval_s`` on venues whose keep-alive is an
    application message; websocket-level pings are answered by the client library.
    ``reply(frame)`` is the answer a venue demands to some frames, sent at once.
    ``route(frame)`` names the symbol a raw frame concerns when it can tell cheaply
    (used to resync only that book when a slow consumer forces a frame to be dropped).
    ``token_path``, on venues that hand out the websocket address per connection
    (KuCoin), is POSTed to the REST base before every connect; ``token_endpoint``
    turns its answer (and a connection number) into the URL to connect to.
    """

    venue: str
    ws_url: str
    subscribe: Build
    resubscribe: Build
    rest_url: str | None = None
    snapshot_path: Callable[[str], str] | None = None
    app_ping: bytes | None = None
    app_ping_interval_s: float = 0.0
    snapshot_min_interval_s: float = 1.0  # REST snapshots per venue, at most one per this
    max_streams_per_connection: int = 100
    limits: str = ""
    route: Callable[[bytes], str | None] = lambda frame: None
    #: A frame the venue expects an answer to (Deribit's heartbeat test_request).
    reply: Callable[[bytes], bytes | None] = lambda frame: None
    token_path: str | None = None
    token_endpoint: Callable[[bytes, str | None, int], str] | None = None
    #: Venues whose unsubscribe names the channel id their ack gave (Bitfinex): sent
    #: before ``resubscribe``, with the id the parser's ``channel_id("book", symbol)`` knows.
    unsubscribe_channel: Callable[[int], bytes] | None = None

    def ws_endpoint(self, symbols: Sequence[str], override: str | None = None) -> str:
        return override or self.ws_url

    def snapshot_url(self, symbol: str, base: str | None = None) -> str:
        if self.snapshot_path is None:
            raise ValueError(f"{self.venue} books start from a stream snapshot, not REST")
        return (base or self.rest_url or "").rstrip("/") + self.snapshot_path(symbol)


def _field_router(pattern: bytes, upper: bool = False) -> Callable[[bytes], str | None]:
    rx = re.compile(pattern)

    def route(frame: bytes) -> str | None:
        m = rx.search(frame, 0, 300)
        if m is None:
            return None
        s = m.group(1).decode()
        return s.upper() if upper else s
    return route


# -- Binance (spot, USD-M, COIN-M): diff depth + REST snapshot -----------------------------

def _binance_streams(symbols: Sequence[str], speed: str) -> list[str]:
    return [f"{s.lower()}@depth@{speed}" for s in symbols]


def _binance(venue: str, ws: str, rest: str, path: str, speed: str, limit: int,
             limits: str) -> VenueSpec:
    def sub(symbols: Sequence[str]) -> list[bytes]:
        return [_dumps({"method": "SUBSCRIBE", "params": _binance_streams(symbols, speed), "id": 1})]

    return VenueSpec(
        venue=venue, ws_url=ws, rest_url=rest,
        subscribe=sub,
        # A REST-snapshot venue rebuilds a book from REST: nothing to resend.
        resubscribe=lambda symbols: [],
        snapshot_path=lambda s: f"{path}?symbol={s.upper()}&limit={limit}",
        snapshot_min_interval_s=1.0,
        max_streams_per_connection=1024,
        limits=limits,
        route=_field_router(rb'"s":"([A-Z0-9_]+)"'),
    )


BINANCE = _binance(
    "binance", "wss://stream.binance.com:9443/stream", "https://api.binance.com", "/api/v3/depth",
    "100ms", 5000,
    "server pings every 20 s, pong within 1 min; 5 incoming messages/s; 1024 streams per "
    "connection; 300 connections per 5 min per IP; connection valid 24 h; depth limit=5000 "
    "weighs 250 of 6000/min")
BINANCE_USDM = _binance(
    "binance_usdm", "wss://fstream.binance.com/stream", "https://fapi.binance.com",
    "/fapi/v1/depth", "100ms", 1000,
    "server pings every 3 min, pong within 10 min; 10 incoming messages/s; 1024 streams per "
    "connection; connection valid 24 h; depth limit=1000 weighs 20 of 2400/min")
BINANCE_COINM = _binance(
    "binance_coinm", "wss://dstream.binance.com/stream", "https://dapi.binance.com",
    "/dapi/v1/depth", "100ms", 1000,
    "server pings every 3 min, pong within 10 min; 10 incoming messages/s; 200 streams per "
    "connection; connection valid 24 h; depth limit=1000 weighs 20 of 2400/min")


# -- OKX v5 books: stream snapshot, seqId/prevSeqId, checksum (legacy) ---------------------

def _okx_args(symbols: Sequence[str]) -> list[dict[str, str]]:
    return [{"channel": "books", "instId": s} for s in symbols]


OKX = VenueSpec(
    venue="okx", ws_url="wss://ws.okx.com:8443/ws/v5/public",
    subscribe=lambda symbols: [_dumps({"op": "subscribe", "args": _okx_args(symbols)})],
    resubscribe=lambda symbols: [_dumps({"op": "unsubscribe", "args": _okx_args(symbols)}),
                                 _dumps({"op": "subscribe", "args": _okx_args(symbols)})],
    app_ping=b"ping", app_ping_interval_s=20.0,
    max_streams_per_connection=30,
    limits="send 'ping' when idle under 30 s (server answers 'pong'); 3 connection requests/s "
           "per IP; 480 (un)subscribe requests/hour per connection; fewer than 30 deep book "
           "channels per connection",
    route=_field_router(rb'"instId":"([A-Za-z0-9-]+)"'),
)


# -- Bitfinex v2 book: conf SEQ_ALL + checksum ----------------------------------------------

_BFX_CONF = SEQ_ALL | CHECKSUM_FLAG


def _bitfinex_sub(symbols: Sequence[str]) -> list[bytes]:
    return [_dumps({"event": "conf", "flags": _BFX_CONF})] + [
        _dumps({"event": "subscribe", "channel": "book", "symbol": s, "prec": "P0",
                "freq": "F0", "len": "25"}) for s in symbols]


BITFINEX = VenueSpec(
    venue="bitfinex", ws_url="wss://api-pub.bitfinex.com/ws/2",
    subscribe=_bitfinex_sub,
    # The unsubscribe names the channel id of the ack: unsubscribe_channel, sent first.
    resubscribe=lambda symbols: [
        _dumps({"event": "subscribe", "channel": "book", "symbol": s, "prec": "P0",
                "freq": "F0", "len": "25"}) for s in symbols],
    app_ping=b'{"event":"ping","cid":1}', app_ping_interval_s=30.0,
    unsubscribe_channel=lambda chan_id: _dumps({"event": "unsubscribe", "chanId": chan_id}),
    max_streams_per_connection=25,
    limits="heartbeat [chan,'hb'] every 15 s per channel; 25 channels per connection; "
           "20 connections per minute per IP (then 60 s ban)",
)


# -- Deribit JSON-RPC book.<instrument>.100ms ----------------------------------------------

def _deribit(method: str, symbols: Sequence[str]) -> bytes:
    return _dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                   "params": {"channels": [f"book.{s}.100ms" for s in symbols]}})


DERIBIT = VenueSpec(
    venue="deribit", ws_url="wss://www.deribit.com/ws/api/v2",
    subscribe=lambda symbols: [
        _dumps({"jsonrpc": "2.0", "id": 0, "method": "public/set_heartbeat",
                "params": {"interval": 30}}),
        _deribit("public/subscribe", symbols)],
    resubscribe=lambda symbols: [_deribit("public/unsubscribe", symbols),
                                 _deribit("public/subscribe", symbols)],
    app_ping=_dumps({"jsonrpc": "2.0", "id": 2, "method": "public/test"}), app_ping_interval_s=25.0,
    max_streams_per_connection=500,
    limits="public/set_heartbeat: answer each test_request with public/test or be "
           "disconnected; non-matching-engine requests are credit-limited (20/s sustained); "
           ".raw books need authentication, .100ms are public",
    route=_field_router(rb'"channel":"book\.([A-Za-z0-9_-]+)\.'),
    reply=lambda frame: (_dumps({"jsonrpc": "2.0", "id": 3, "method": "public/test"})
                         if b'"test_request"' in frame[:200] else None),
)


# -- Hyperliquid l2Book: every message a full snapshot -------------------------------------

def _hl(method: str, symbols: Sequence[str]) -> list[bytes]:
    return [_dumps({"method": method, "subscription": {"type": "l2Book", "coin": s}})
            for s in symbols]


HYPERLIQUID = VenueSpec(
    venue="hyperliquid", ws_url="wss://api.hyperliquid.xyz/ws",
    subscribe=lambda symbols: _hl("subscribe", symbols),
    resubscribe=lambda symbols: _hl("unsubscribe", symbols) + _hl("subscribe", symbols),
    app_ping=b'{"method":"ping"}', app_ping_interval_s=30.0,
    max_streams_per_connection=1000,
    limits="the server closes a connection silent for 60 s: send {'method':'ping'}; "
           "100 websocket connections and 1000 subscriptions per IP",
    route=_field_router(rb'"coin":"([A-Za-z0-9@/_-]+)"'),
)


# -- Bybit v5 orderbook.{depth}.{symbol}: stream snapshot, re-sent on server problems ----

def _bybit(op: str, symbols: Sequence[str]) -> bytes:
    return _dumps({"op": op, "args": [f"orderbook.50.{s}" for s in symbols]})


BYBIT = VenueSpec(
    venue="bybit", ws_url="wss://stream.bybit.com/v5/public/spot",
    subscribe=lambda symbols: [_bybit("subscribe", symbols)],
    resubscribe=lambda symbols: [_bybit("unsubscribe", symbols), _bybit("subscribe", symbols)],
    app_ping=b'{"op":"ping"}', app_ping_interval_s=20.0,
    max_streams_per_connection=10,
    limits="send {'op':'ping'} every 20 s; at most 10 args per subscribe request on spot; "
           "500 connections per 5 min per IP; linear/inverse/option use their own paths",
    route=_field_router(rb'"topic":"orderbook\.\d+\.([A-Z0-9]+)"'),
)


# -- Kraken v2 book: stream snapshot, CRC32 on every message --------------------------------

def _kraken(method: str, symbols: Sequence[str]) -> bytes:
    return _dumps({"method": method, "params": {"channel": "book", "symbol": list(symbols),
                                                "depth": 10}})


KRAKEN_V2 = VenueSpec(
    venue="kraken_v2", ws_url="wss://ws.kraken.com/v2",
    subscribe=lambda symbols: [_kraken("subscribe", symbols)],
    resubscribe=lambda symbols: [_kraken("unsubscribe", symbols), _kraken("subscribe", symbols)],
    app_ping=b'{"method":"ping"}', app_ping_interval_s=30.0,
    max_streams_per_connection=100,
    limits="heartbeat channel once a second when idle; one ack per symbol; book depth "
           "10/25/100/500/1000 (checksum over the top 10); about 150 connections per 10 min",
    route=_field_router(rb'"symbol":"([A-Z0-9/]+)"'),
)


# -- Coinbase Advanced Trade level2 (+ heartbeats so idle channels stay open) ---------------

def _coinbase(kind: str, channel: str, symbols: Sequence[str]) -> bytes:
    return _dumps({"type": kind, "product_ids": list(symbols), "channel": channel})


COINBASE_ADVANCED = VenueSpec(
    venue="coinbase_advanced", ws_url="wss://advanced-trade-ws.coinbase.com",
    subscribe=lambda symbols: [_coinbase("subscribe", "heartbeats", symbols),
                               _coinbase("subscribe", "level2", symbols)],
    resubscribe=lambda symbols: [_coinbase("unsubscribe", "level2", symbols),
                                 _coinbase("subscribe", "level2", symbols)],
    max_streams_per_connection=100,
    limits="channels close after 60-90 s without updates unless subscribed to heartbeats; "
           "a subscribe must come within 5 s of connecting; 8 messages/s per IP unauthenticated",
    route=_field_router(rb'"product_id":"([A-Z0-9-]+)"'),
)


# -- Bitget websocket v1 books: stream snapshot, OKX-style checksum, no sequence ----------
# (the protocol of crossbook.venues.bitget and of the capture; docs/venues.md has no
# Bitget section, so the limits below are Bitget's v1 page as remembered: unverified)

def _bitget(op: str, symbols: Sequence[str]) -> bytes:
    return _dumps({"op": op, "args": [{"instType": "SP", "channel": "books", "instId": s}
                                      for s in symbols]})


BITGET = VenueSpec(
    venue="bitget", ws_url="wss://ws.bitget.com/spot/v1/stream",
    subscribe=lambda symbols: [_bitget("subscribe", symbols)],
    resubscribe=lambda symbols: [_bitget("unsubscribe", symbols), _bitget("subscribe", symbols)],
    app_ping=b"ping", app_ping_interval_s=30.0,
    max_streams_per_connection=50,
    limits="send 'ping' every 30 s (server answers 'pong'), closed after 2 min without one; "
           "240 subscribe requests per hour per connection; fewer than 50 channels per "
           "connection advised; 100 connections per IP (unverified: not in docs/venues.md)",
    route=_field_router(rb'"instId":"([A-Za-z0-9_]+)"'),
)


# -- KuCoin spot /market/level2: bullet-public token, then diff stream + REST snapshot ----

def _kucoin_endpoint(body: bytes, override: str | None, connection: int) -> str:
    """The websocket URL of a ``POST /api/v1/bullet-public`` answer: its first instance
    server (or ``override``) with the token and a connection id."""
    try:
        data = json.loads(body)["data"]
        token, endpoint = data["token"], data["instanceServers"][0]["endpoint"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"kucoin bullet-public answer without token/endpoint: {body[:200]!r}") from exc
    if not isinstance(token, str) or not isinstance(endpoint, str):
        raise ValueError(f"kucoin bullet-public token/endpoint are not text: {body[:200]!r}")
    return f"{override or endpoint}?token={token}&connectId=crossbook-{connection}"


KUCOIN = VenueSpec(
    venue="kucoin", ws_url="wss://ws-api-spot.kucoin.com/", rest_url="https://api.kucoin.com",
    subscribe=lambda symbols: [_dumps({"id": 1, "type": "subscribe",
                                       "topic": "/market/level2:" + ",".join(symbols),
                                       "privateChannel": False, "response": True})],
    resubscribe=lambda symbols: [],
    snapshot_path=lambda s: f"/api/v3/market/orderbook/level2?symbol={s.upper()}",
    app_ping=b'{"id":"1","type":"ping"}', app_ping_interval_s=18.0,
    snapshot_min_interval_s=0.5,
    max_streams_per_connection=100,
    limits="POST /api/v1/bullet-public for a token and server before each connection; "
           "ping every pingInterval (18 s) or be closed after pingTimeout; 100 symbols per "
           "topic and per connection; full-depth /api/v3 level2 snapshots need an API key "
           "on the real venue (docs/venues.md)",
    route=_field_router(rb'"topic":"/market/level2:([A-Za-z0-9-]+)"'),
    token_path="/api/v1/bullet-public",
    token_endpoint=_kucoin_endpoint,
)


# -- Gate.io spot.order_book_update: diff stream + REST snapshot with_id ------------------

def _gate(event: str, symbols: Sequence[str]) -> list[bytes]:
    # Gate wants the request time (s) in every request.
    now_s = int(time.time())
    return [_dumps({"time": now_s, "channel": "spot.order_book_update", "event": event,
                    "payload": [s, "100ms"]}) for s in symbols]


GATEIO = VenueSpec(
    venue="gateio", ws_url="wss://api.gateio.ws/ws/v4/", rest_url="https://api.gateio.ws",
    subscribe=lambda symbols: _gate("subscribe", symbols),
    resubscribe=lambda symbols: [],
    snapshot_path=lambda s: f"/api/v4/spot/order_book?currency_pair={s.upper()}&limit=100"
                            "&with_id=true",
    snapshot_min_interval_s=0.2,
    max_streams_per_connection=100,
    limits="one subscribe per pair (payload [pair, '100ms']: 100 levels); websocket "
           "protocol pings keep the connection (or spot.ping); REST snapshot ids align "
           "with U/u (docs/venues.md 11.2)",
    route=_field_router(rb'"s":"([A-Z0-9_]+)"'),
)


SPECS: dict[str, VenueSpec] = {s.venue: s for s in (
    BINANCE, BINANCE_USDM, BINANCE_COINM, OKX, BITFINEX, DERIBIT, HYPERLIQUID, BYBIT, KRAKEN_V2,
    COINBASE_ADVANCED, BITGET, KUCOIN, GATEIO)}


def spec_for(venue: str) -> VenueSpec:
    try:
        return SPECS[venue]
    except KeyError:
        raise ValueError(f"no live connection spec for {venue!r}; "
                         f"supported: {', '.join(sorted(SPECS))}") from None
