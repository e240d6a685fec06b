"""The numpy dtypes defined in Python are exactly the layouts the core uses,
and the stubs of the compiled module cannot drift from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import crossbook
from crossbook import L2Book, Side, dtypes


def test_depth_dtype_is_the_cores() -> None:
    bids, _ = L2Book().depth(1)
    assert bids.dtype == dtypes.DEPTH
    assert dtypes.DEPTH.itemsize == 24


def test_layouts_match_the_cpp_structs() -> None:
    assert dtypes.LEVEL_EVENT.itemsize == 40
    assert dtypes.BBO.itemsize == 32
    assert [dtypes.LEVEL_EVENT.fields[n][1] for n in ("price", "count", "side", "action", "flags")] == [
        16, 32, 36, 37, 38]


def test_core_refuses_a_lookalike_dtype() -> None:
    lookalike = np.dtype([("price", "<i8"), ("size", "<i8"), ("count", "<i8")])
    with pytest.raises(TypeError, match="dtype"):
        L2Book().depth_into(np.zeros(1, lookalike), np.zeros(1, lookalike))


def test_side_values_match_the_core() -> None:
    b = L2Book()
    b.update(Side.BID, 10, 1)
    b.update(2, 11, 1)
    assert b.bbo() == ((10, 1), (11, 1))
    assert Side.BID.opposite is Side.ASK


def test_public_api() -> None:
    for name in crossbook.__all__:
        assert hasattr(crossbook, name), name
    assert issubclass(crossbook.InvalidInputError, ValueError)


ROOT = Path(__file__).resolve().parents[2]


def test_stubs_match_compiled_modules() -> None:
    """mypy.stubtest compares the .pyi files with the compiled modules at run time."""
    pytest.importorskip("mypy", reason="mypy is not installed (pip install '.[test]')")
    out = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "crossbook._core", "crossbook._fixedpoint",
         "--allowlist", str(ROOT / "tests" / "stubtest_allowlist.txt")],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_package_type_checks() -> None:
    """The package is typed (py.typed): keep it passing mypy --strict."""
    pytest.importorskip("mypy", reason="mypy is not installed (pip install '.[test]')")
    src = ROOT / "src" / "crossbook"  # the source, not the installed copy in site-packages
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(src)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
