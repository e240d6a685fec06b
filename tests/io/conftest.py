"""Fixtures for the vendor-file readers: the real data in ``<repo>/../shared/data``.

That folder lives beside the repository (CI always has it); a user's clone has
none, so the tests that need it skip instead of failing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# tests/io/conftest.py -> parents[2] is the repository root.
SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _folder(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(
            f"real market data not found at {path.resolve()} "
            "(expected <repo>/../shared/data; CI provides it)"
        )
    return path


@pytest.fixture(scope="session")
def lobster_dir() -> Path:
    return _folder("lobster")


@pytest.fixture(scope="session")
def databento_dir() -> Path:
    return _folder("databento")


@pytest.fixture(scope="session")
def bitstamp_dir() -> Path:
    return _folder("bitstamp_l3")
