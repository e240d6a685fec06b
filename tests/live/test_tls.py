"""TLS: the client verifies certificates by default and trusts a private CA given as ca_file."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

from crossbook.sync import Reason
from crossbook.testing import VenueSimulator

from .conftest import BUNDLED, aio, run_feed

_SLICE = BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz"


def _server_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    return ctx


@aio
async def test_tls_with_a_private_ca(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    async with VenueSimulator("binance", _SLICE, max_frames=300, ssl_context=_server_ctx(ca)) as sim:
        assert sim.ws_url.startswith("wss://") and sim.rest_url.startswith("https://")
        run = await run_feed(sim, ["BTCUSDT"], tmp_path / "rec", ca_file=ca_file)
        assert run.reasons("BTCUSDT") == [Reason.FIRST_DELTA, Reason.SNAPSHOT]
        assert run.feed.connections["binance"].stats.rest_snapshots == 1


@aio
async def test_tls_refuses_an_unknown_ca(tmp_path: Path) -> None:
    """Without the CA the handshake fails: reported, retried with backoff, never trusted."""
    import asyncio

    from crossbook.live import LiveFeed

    async with VenueSimulator("binance", _SLICE, max_frames=10,
                              ssl_context=_server_ctx(trustme.CA())) as sim:
        feed = LiveFeed({"binance": ["BTCUSDT"]}, ws_urls={"binance": sim.ws_url},
                        rest_urls={"binance": sim.rest_url}, seed=1, backoff_base_s=0.01)
        async with asyncio.timeout(10), feed:
            conn = feed.connections["binance"]
            while conn.stats.disconnects < 2:
                await asyncio.sleep(0.01)
        assert conn.stats.frames == 0 and conn.stats.connects == 0
        assert "CERTIFICATE_VERIFY_FAILED" in conn.stats.last_error
        assert sim.connections == 0
