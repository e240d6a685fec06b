"""Reconnect backoff and REST rate limiting: small, seedable, no I/O of their own."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

__all__ = ["Backoff", "RateLimiter"]


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2**n)).

    Full jitter spreads many clients reconnecting after one venue outage; the
    generator is seedable so that tests see the same delays every run."""

    base_s: float = 0.5
    cap_s: float = 30.0
    seed: int | None = None
    attempt: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def next_delay_s(self) -> float:
        ceiling = min(self.cap_s, self.base_s * (2 ** min(self.attempt, 30)))
        self.attempt += 1
        return self._rng.uniform(0.0, ceiling)

    def reset(self) -> None:
        self.attempt = 0


class RateLimiter:
    """At most one acquisition per ``min_interval_s`` (REST snapshots of one venue)."""

    def __init__(self, min_interval_s: float) -> None:
        self.min_interval_s = min_interval_s
        self._next_ok = 0.0
        self.waited_s = 0.0

    async def acquire(self) -> None:
        now = time.monotonic()
        start = max(now, self._next_ok)
        self._next_ok = start + self.min_interval_s
        if start > now:
            self.waited_s += start - now
            await asyncio.sleep(start - now)
