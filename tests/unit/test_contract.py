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


def test_l3_dtypes_are_the_cores() -> None:
    """Arrays the core makes carry the Python dtypes, and it takes the Python ones."""
    e = crossbook.MatchingEngine(track_levels=True)
    e.submit(1, 1, Side.ASK, 10, 1)
    e.submit(2, 2, Side.BID, 10, 2, tif=crossbook.TimeInForce.IOC)
    assert e.take_fills().dtype == dtypes.FILL
    assert e.take_rejects().dtype == dtypes.REJECT
    assert e.level_events().dtype == dtypes.LEVEL_EVENT
    assert e.book.orders(Side.BID).dtype == dtypes.RESTING_ORDER
    fills, rejects = e.submit_batch(np.zeros(1, dtype=dtypes.ORDER_REQUEST))
    assert (fills.dtype, rejects.dtype) == (dtypes.FILL, dtypes.REJECT)
    crossbook.OrderBook(on_anomaly="count").apply(np.zeros(1, dtype=dtypes.ORDER_EVENT))
    sizes = {dtypes.ORDER_EVENT: 48, dtypes.ORDER_REQUEST: 48, dtypes.FILL: 48, dtypes.REJECT: 32,
             dtypes.RESTING_ORDER: 32}
    assert all(dt.itemsize == n for dt, n in sizes.items())


def test_l3_enums_match_the_core() -> None:
    core = crossbook._core._L3_ENUMS
    for enum_type in (crossbook.RejectReason, crossbook.OrderType, crossbook.TimeInForce,
                      crossbook.StpMode, crossbook.OrderAction):
        assert {m.name: m.value for m in enum_type} == core[enum_type.__name__], enum_type
    assert (dtypes.ORDER_ADD, dtypes.ORDER_MODIFY, dtypes.ORDER_CANCEL, dtypes.ORDER_CLEAR,
            dtypes.ORDER_EXECUTE) == tuple(crossbook.OrderAction)
    assert (dtypes.LIMIT, dtypes.MARKET, dtypes.CANCEL, dtypes.MODIFY) == tuple(crossbook.OrderType)
    assert (dtypes.GTC, dtypes.IOC, dtypes.FOK) == tuple(crossbook.TimeInForce)
    assert tuple(range(6)) == tuple(crossbook.StpMode)
    assert len(core["Anomaly"]) == 9


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
         "crossbook._checksum",
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
