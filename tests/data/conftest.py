"""Fixtures for tests against the real market data in ``<repo>/../shared/data``.

That folder lives beside the repository (CI always has it); a user's clone does
not, so every test that needs it skips instead of failing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# tests/data/conftest.py -> parents[2] is the repository root.
SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data folder, or a skip when this checkout has none beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real market data not found at {SHARED_DATA.resolve()} "
            "(expected <repo>/../shared/data; CI provides it)"
        )
    return SHARED_DATA
