"""Readers and writers for data at rest: raw captures, vendor files."""

from crossbook.io.capture import CaptureRecord, RecordKind, read_capture, write_capture

__all__ = ["CaptureRecord", "RecordKind", "read_capture", "write_capture"]
