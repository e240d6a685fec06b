"""The consumer API around the feed: shutdown, views, specs, argument checks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from crossbook.io.capture import read_capture
from crossbook.live import SPECS, LiveFeed, parse_targets, spec_for
from crossbook.messages import BookMessage
from crossbook.sync import BookNotSynced
from crossbook.testing import VenueSimulator

from .conftest import BUNDLED, aio

_SLICE = BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz"


@aio
async def test_cancelling_the_consumer_shuts_down_cleanly(tmp_path: Path) -> None:
    """Cancelling mid-stream ends every task, closes the socket and flushes the recording:
    what was consumed is on disk, whole."""
    seen: list[BookMessage] = []
    async with VenueSimulator("binance", _SLICE, speed=20.0) as sim:
        feed = LiveFeed({"binance": ["BTCUSDT"]}, ws_urls={"binance": sim.ws_url},
                        rest_urls={"binance": sim.rest_url}, record_dir=tmp_path,
                        on_message=lambda m, s: seen.append(m) if isinstance(m, BookMessage) else None)

        async def consume() -> None:
            async with feed:
                await feed.run()

        task = asyncio.create_task(consume())
        async with asyncio.timeout(15):
            while len(seen) < 20:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert feed._tasks == []  # noqa: SLF001 - nothing left running
        assert feed.book("binance", "BTCUSDT") is not None
        (path,) = feed.recordings()["binance"]
        assert sum(1 for _ in read_capture(path)) >= len(seen)


def test_book_view_refuses_an_unsynced_book() -> None:
    async def go() -> None:
        feed = LiveFeed({"binance": ["BTCUSDT"]})
        with pytest.raises(KeyError):
            feed.book("binance", "BTCUSDT")
        await feed.close()

    asyncio.run(go())
    assert issubclass(BookNotSynced, RuntimeError)


def test_targets_and_overrides_are_checked() -> None:
    assert parse_targets(["binance:BTCUSDT", "okx:BTC-USDT", "binance:BTCUSDT"]) == {
        "binance": ["BTCUSDT"], "okx": ["BTC-USDT"]}
    for bad in (["BTCUSDT"], ["nosuch:X"], ["binance:"]):
        with pytest.raises(ValueError):
            parse_targets(bad)
    with pytest.raises(ValueError, match="not subscribed"):
        LiveFeed({"binance": ["BTCUSDT"]}, ws_urls={"okx": "ws://127.0.0.1:1"})
    with pytest.raises(ValueError, match="overflow"):
        LiveFeed({"binance": ["BTCUSDT"]}, overflow="spill")  # type: ignore[arg-type]


@pytest.mark.parametrize("venue", sorted(SPECS))
def test_specs_build_json_and_name_their_limits(venue: str) -> None:
    spec = spec_for(venue)
    assert spec.ws_url.startswith("wss://") and spec.limits
    for msg in spec.subscribe(["SYM1", "SYM2"]) + spec.resubscribe(["SYM1"]):
        json.loads(msg)
    if spec.snapshot_path is not None:
        url = spec.snapshot_url("btcusdt")
        assert url.startswith("https://") and "BTCUSDT" in url
        assert spec.snapshot_url("X", "http://127.0.0.1:9/").startswith("http://127.0.0.1:9/")
    else:
        with pytest.raises(ValueError):
            spec.snapshot_url("X")


def test_deribit_heartbeat_is_answered() -> None:
    spec = spec_for("deribit")
    answer = spec.reply(b'{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}')
    assert answer is not None and json.loads(answer)["method"] == "public/test"
    assert spec.reply(b'{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}') is None
