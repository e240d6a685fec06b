"""Hypothesis profiles for every test and benchmark.

A red CI must mean a real defect, never an unlucky seed: by default every property test
runs derandomized (the same examples each run) and without the example database, so a
failure found once on some machine is not replayed elsewhere as a stale surprise. Set
CROSSBOOK_HYPOTHESIS=random to explore new examples (with the local database), or
CROSSBOOK_HYPOTHESIS=long for a randomized run ten times as long; a failure found that way
is pinned as an @example (or a regression test) before it is fixed.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "deterministic", derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("random", deadline=None, print_blob=True)
settings.register_profile("long", deadline=None, print_blob=True, max_examples=1000,
                          suppress_health_check=[HealthCheck.too_slow])

_profile = os.environ.get("CROSSBOOK_HYPOTHESIS", "deterministic")
if _profile not in ("deterministic", "random", "long"):
    raise RuntimeError(f"CROSSBOOK_HYPOTHESIS={_profile!r}: expected deterministic, random or long")
settings.load_profile(_profile)
