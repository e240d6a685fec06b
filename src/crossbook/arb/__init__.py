"""Cross-venue arbitrage: equivalent instruments in common units, fees, the best
trade between two books, a streaming scanner with opportunity lifetimes,
triangular cycles and spot/derivative basis.

Money arithmetic is exact (integers and Fractions); floats appear only as
``*_float``/``*_bps`` conveniences and in the basis time series.
"""

from __future__ import annotations

from crossbook.arb.basis import (
    BASIS_SAMPLE,
    BasisCollector,
    BasisMonitor,
    BasisSeries,
    annualized_bps,
)
from crossbook.arb.compiled import CompiledScanCore
from crossbook.arb.fees import (
    DEFAULT_COSTS,
    DEFAULT_LATENCY_MS,
    FEE_DENOMINATOR,
    VenueCosts,
    bps_to_cbps,
    costs_for,
    costs_with,
    parse_fee_overrides,
)
from crossbook.arb.opportunity import (
    Opportunity,
    best_opportunity,
    best_opportunity_cbps,
    best_opportunity_py,
)
from crossbook.arb.scanner import (
    CloseReason,
    EventKind,
    OpportunityEvent,
    ScanCore,
    ScanCoreLike,
)
from crossbook.arb.stream import BookNormalizer, NormalizedFeed, Scanner
from crossbook.arb.triangular import Cycle, CycleLeg, Market, find_cycles, walk_cycle
from crossbook.arb.units import (
    CommonUnits,
    Listing,
    UnitConverter,
    asset_key,
    common_units,
    default_listing,
    normalize_book,
)

__all__ = [
    "BASIS_SAMPLE",
    "DEFAULT_COSTS",
    "DEFAULT_LATENCY_MS",
    "FEE_DENOMINATOR",
    "BasisCollector",
    "BasisMonitor",
    "BasisSeries",
    "BookNormalizer",
    "CloseReason",
    "CommonUnits",
    "CompiledScanCore",
    "Cycle",
    "CycleLeg",
    "EventKind",
    "Listing",
    "Market",
    "NormalizedFeed",
    "Opportunity",
    "OpportunityEvent",
    "ScanCore",
    "ScanCoreLike",
    "Scanner",
    "UnitConverter",
    "VenueCosts",
    "annualized_bps",
    "asset_key",
    "best_opportunity",
    "best_opportunity_cbps",
    "best_opportunity_py",
    "bps_to_cbps",
    "common_units",
    "costs_for",
    "costs_with",
    "default_listing",
    "find_cycles",
    "normalize_book",
    "parse_fee_overrides",
    "walk_cycle",
]  # fmt: skip
