"""Environment switches for the whole suite (benchmarks included).

A test whose implementation is missing from this build skips by default, so a
user's partial build still runs the rest. CI sets the switch for each part it
must have, and the skip becomes a failure: a compiled path cannot vanish
silently there. CROSSBOOK_REQUIRE_CPP_TESTS (tests/cpp) follows the same rule.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

#: CI sets this to "1": the compiled arbitrage scanner and walk must be present.
REQUIRE_COMPILED = "CROSSBOOK_REQUIRE_COMPILED"


def skip_unless_required(switch: str, reason: str) -> NoReturn:
    """Skips with ``reason``, or fails with it when the environment sets ``switch=1``."""
    if os.environ.get(switch) == "1":
        pytest.fail(f"{switch}=1, but this cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def require_compiled(present: bool, reason: str) -> None:
    """Continues when the compiled implementation is ``present``; else skips or fails."""
    if not present:
        skip_unless_required(REQUIRE_COMPILED, reason)
