"""Primary/secondary venue interaction: per-book time series, lead-lag between venues
on asynchronous data (Hayashi-Yoshida), and event studies of a follower's response to
the leader's order-flow shocks. Results are numpy arrays in dataclasses; crossbook.plots
draws them (``pip install "crossbook[plot]"``).

    series, reports, errors = collect_series(["spot.cap.gz", "usdm.cap.gz"])
    result = analyze(series)                  # pairwise lead-lag + event studies
    result.leader, result.pairs[0].peak_lag_ns, result.studies[0].responses["mid"].mean
"""

from crossbook.analytics.analysis import Analysis, analyze, rank_leaders
from crossbook.analytics.collect import collect_series, merged_records
from crossbook.analytics.events import (
    DEFAULT_HORIZONS_MS,
    EventStudy,
    Response,
    Shocks,
    decluster,
    event_study,
    ofi_shocks,
    response,
    touch_shocks,
    trade_through_shocks,
)
from crossbook.analytics.leadlag import LeadLag, hy_covariance, hy_lead_lag, lag_grid, observations
from crossbook.analytics.series import (
    BookSeries,
    SeriesCollector,
    TopSeries,
    TradeSeries,
    VenueSeries,
    VolumeProfile,
    ofi,
    resolve_source,
    volume_profile,
)

__all__ = [
    "DEFAULT_HORIZONS_MS",
    "Analysis",
    "BookSeries",
    "EventStudy",
    "LeadLag",
    "Response",
    "SeriesCollector",
    "Shocks",
    "TopSeries",
    "TradeSeries",
    "VenueSeries",
    "VolumeProfile",
    "analyze",
    "collect_series",
    "decluster",
    "event_study",
    "hy_covariance",
    "hy_lead_lag",
    "lag_grid",
    "merged_records",
    "observations",
    "ofi",
    "ofi_shocks",
    "rank_leaders",
    "resolve_source",
    "response",
    "touch_shocks",
    "trade_through_shocks",
    "volume_profile",
]  # fmt: skip
