"""Test helpers shipped for users: a local venue simulator that replays captures with faults."""

from crossbook.testing.simulator import Faults, SentRecord, VenueSimulator, book_rows, corrupt_checksum

__all__ = ["Faults", "SentRecord", "VenueSimulator", "book_rows", "corrupt_checksum"]
