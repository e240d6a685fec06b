"""`crossbook record` end to end against the local simulator; its output passes `verify`."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crossbook.cli import main
from crossbook.testing import VenueSimulator

from .conftest import BUNDLED


@contextmanager
def _simulator_thread(venue: str, capture: Path, **kw: object) -> Iterator[VenueSimulator]:
    """A simulator on its own loop in a thread, so the CLI can run its own asyncio.run."""
    ready = threading.Event()
    stop: list[asyncio.Event] = []
    box: list[VenueSimulator] = []

    async def serve() -> None:
        async with VenueSimulator(venue, capture, **kw) as sim:  # type: ignore[arg-type]
            box.append(sim)
            stop.append(asyncio.Event())
            ready.set()
            await stop[0].wait()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10), "simulator did not start"
    try:
        yield box[0]
    finally:
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(10)
        loop.close()


def test_record_then_verify(tmp_path: Path, capsys: object) -> None:
    out = tmp_path / "rec"
    with _simulator_thread("binance_usdm", BUNDLED / "binance_usdm_btcusdt_20240808_slice.cap.gz",
                           max_frames=2000, speed=50.0) as sim:
        rc = main(["record", "binance_usdm:BTCUSDT", "-o", str(out), "--duration", "2",
                   "--ws-url", f"binance_usdm={sim.ws_url}",
                   "--rest-url", f"binance_usdm={sim.rest_url}"])
    assert rc == 0
    files = sorted(out.glob("binance_usdm-*.cap.gz"))
    assert files, "no capture written"
    capsys.readouterr()  # type: ignore[attr-defined]
    assert main(["verify", "--venue", "binance_usdm", "--join", "--json", *map(str, files)]) == 0
    report = json.loads(capsys.readouterr().out)  # type: ignore[attr-defined]
    (book,) = report["books"]
    assert book["symbol"] == "BTCUSDT" and book["state"] == "synced"
    assert book["messages"] > 50 and book["snapshots"] == 1
    (capture,) = report["captures"]
    assert capture["parse_errors"] == 0 and capture["failures"] == []


def test_watch_shows_the_books(tmp_path: Path, capsys: object) -> None:
    with _simulator_thread("binance", BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz",
                           max_frames=1000, speed=50.0) as sim:
        rc = main(["watch", "binance:BTCUSDT", "--duration", "1.5",
                   "--ws-url", f"binance={sim.ws_url}", "--rest-url", f"binance={sim.rest_url}"])
    assert rc == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "BTCUSDT" in out and "synced" in out and "msgs/s" in out


def test_record_refuses_a_bad_override(tmp_path: Path) -> None:
    assert main(["record", "binance:BTCUSDT", "-o", str(tmp_path), "--ws-url", "nourl"]) == 2
    assert main(["record", "nosuchvenue:X", "-o", str(tmp_path)]) == 2
