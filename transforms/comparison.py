"""Multi-CDN comparison: what no single CDN's console shows.

Offload, origin load, error rates and edge latency per CDN and per template x CDN,
and each CDN's share of traffic minute by minute, over one window. Offload and
errors come from the minute rollups (stored or computed), latency percentiles from
the raw requests of the window (null where the vendor logs no timing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ingest.storage import Location
from transforms import evidence_models as ev
from transforms import models
from transforms.config import TransformSettings

if TYPE_CHECKING:
    from transforms.offload import Source, Window

COMPARISON_MODELS = [
    "intermediate/int_evidence_status_classes_summed",
    "intermediate/int_evidence_latency_summarised",
    "marts/cdn_comparison",
    "marts/cdn_comparison_by_template",
    "marts/cdn_comparison_by_minute",
]


def compare_cdns(
    data: Location,
    settings: TransformSettings,
    window: Window,
    top: int = 20,
    source: Source = "auto",
) -> dict[str, Any]:
    """The CDNs of `window` compared.

    Returns:
        {"window": {"from", "to", "seconds", "source"},
        "by_cdn": [{"cdn", "requests", "cacheable_requests", "traffic_share",
        "request_offload", "byte_offload", "cache_hit_ratio", "origin_requests",
        "origin_requests_per_s", "origin_bytes", "origin_bytes_per_s", "origin_load_share",
        "server_error_requests", "error_rate" (5xx share), "client_error_rate" (4xx share),
        "latency_p50_ms", "latency_p95_ms", "ttfb_p50_ms", "ttfb_p95_ms"}] busiest first,
        "by_cdn_template": [{"template_rank", "path_template", "cdn", "requests",
        "cacheable_requests", "traffic_share" (of the template), "request_offload",
        "offload_gap_to_best", "origin_requests", "origin_requests_per_s", "origin_bytes",
        "error_rate", "latency_p50_ms", "latency_p95_ms"}] for the `top` busiest templates,
        "traffic_share_by_minute": [{"minute", "cdn", "requests", "share"}]}.
        Latency is null where the vendor does not log it or raw files are gone.

    Raises:
        NoDataError: the data directory holds nothing to analyse.
    """
    from transforms import offload

    chosen = offload.choose_source(data, settings, source)
    con = models.connect()
    try:
        offload.build_marts(con, data, settings, window, chosen)
        if not ev.ensure_templated(con):
            models.register_edge_requests(con, data, [])
            ev.ensure_templated(con)
        for model in COMPARISON_MODELS:
            models.build(con, model)
        resolved = ev.fetch(con, "select * from int_analysis_window_resolved")[0]
        return {
            "window": {
                "from": resolved["window_start"],
                "to": resolved["window_end"],
                "seconds": resolved["window_seconds"],
                "source": chosen,
            },
            "by_cdn": ev.fetch(con, "select * from cdn_comparison order by requests desc, cdn"),
            "by_cdn_template": ev.fetch(
                con,
                "select * from cdn_comparison_by_template where template_rank <= $top "
                "order by template_rank, requests desc, cdn",
                {"top": top},
            ),
            "traffic_share_by_minute": ev.fetch(
                con, "select * from cdn_comparison_by_minute order by minute, cdn"
            ),
        }
    finally:
        con.close()
