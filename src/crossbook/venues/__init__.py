"""One module per venue and protocol version; each turns raw frames into
crossbook.messages records and names the sequencing rule its books follow.
See venues/_template.py for how to add one."""

from crossbook.venues.base import InstrumentTable, ParseError, VenueParser

__all__ = ["InstrumentTable", "ParseError", "VenueParser"]
