"""Live venue feeds: websockets and REST snapshots into synced books, recorded as received.

Needs the ``live`` extra (``pip install crossbook[live]``: websockets, httpx).
"""

from crossbook.live.client import ConnectionStats, LiveFeed, parse_targets
from crossbook.live.policy import Backoff, RateLimiter
from crossbook.live.recorder import CaptureWriter
from crossbook.live.specs import SPECS, VenueSpec, spec_for

__all__ = ["SPECS", "Backoff", "CaptureWriter", "ConnectionStats", "LiveFeed", "RateLimiter",
           "VenueSpec", "parse_targets", "spec_for"]
