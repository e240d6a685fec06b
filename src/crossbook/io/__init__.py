"""Readers and writers for data at rest: raw captures, vendor files.

Vendor order-level files each have their own module, imported by name:
``crossbook.io.lobster`` (LOBSTER message/orderbook files),
``crossbook.io.databento`` (Databento MBO and MBP-10, DBN through the optional
``databento-dbn`` package, and CSV) and ``crossbook.io.bitstamp_log`` (Bitstamp's
2015 order-feed log). They share ``DataFormatError``: bad input names its file
and line.
"""

from crossbook.io._common import DataFormatError
from crossbook.io.capture import CaptureRecord, RecordKind, read_capture, write_capture

__all__ = ["CaptureRecord", "DataFormatError", "RecordKind", "read_capture", "write_capture"]
