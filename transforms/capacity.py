"""Origin capacity planning: origin requests/s and egress per template at a target audience.

How the per-viewer rates are derived (also in docs/suggestions.md):

1. Concurrent viewers are approximated per minute by the distinct `client_key`s with a
   viewer request in that minute. Keys are truncated IPs by default, so several
   viewers behind one /24 count once: the rates per viewer come out high, which errs
   on the safe side for prescaling. Sampled logs undercount viewers the same way.
2. The `capacity_peak_minutes` minutes with the most viewers are the observed peak.
   A template's rate per viewer is its requests in those minutes divided by the
   viewer-seconds in them (viewers x 60, summed), so it carries the request mix and
   offload of the peak, wickets and all, not of the whole match.
3. At the target concurrency N, edge requests/s = N x rate; origin requests/s and
   origin egress scale the peak's origin requests (cacheable misses plus
   never-cacheable POSTs) and origin bytes the same way.
4. "After" applies the window's suggestions: a template's cacheable origin requests
   and egress shrink by the share of its origin requests the suggestions would save
   (`estimated_origin_requests_saved` summed per template, capped at its origin
   requests). Never-cacheable requests stay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ingest.storage import Location
from transforms import evidence_models as ev
from transforms import models
from transforms.config import TransformSettings
from transforms.suggestions import suggestions_for

if TYPE_CHECKING:
    from transforms.offload import Source, Window

_SAVINGS_SCHEMA = pa.schema(
    [
        ("path_template", pa.string()),
        ("origin_requests_saved", pa.float64()),
        ("cdns", pa.list_(pa.string())),
    ]
)
METHOD = {
    "concurrency_proxy": "distinct client_key per minute (truncated IPs: a conservative proxy)",
    "per_viewer_rate": "a template's requests in the peak minutes / viewer-seconds in them",
    "origin": "peak-minute origin requests (cacheable misses and never-cacheable methods) "
    "and origin bytes, scaled the same way",
    "after": "cacheable origin requests and egress times (1 - origin requests the window's "
    "suggestions would save / the template's origin requests)",
}


def _savings(con: Any) -> None:
    """`int_evidence_savings_by_template` from the built suggestions, else empty."""
    if ev.is_table(con, "template_evidence") and ev.has_relation(con, "policy_suggestions"):
        models.build(con, "intermediate/int_evidence_savings_by_template")
    else:
        con.register("int_evidence_savings_by_template", _SAVINGS_SCHEMA.empty_table())


def _viewers_source(con: Any, data: Location) -> None:
    if not ev.has_relation(con, "src_edge_requests"):
        models.register_edge_requests(con, data, [])
    if not ev.has_relation(con, "stg_edge_requests"):
        models.build(con, "staging/stg_edge_requests")


def project_capacity(
    data: Location,
    settings: TransformSettings,
    window: Window,
    peak_concurrency: int,
    source: Source = "auto",
) -> dict[str, Any]:
    """Origin requests/s and egress per template at `peak_concurrency` viewers.

    Returns:
        {"peak_concurrency", "window": {"from", "to", "seconds", "source"},
        "method": {...how rates are derived...}, "observed": {"peak_minutes": [ISO...],
        "peak_viewers" (mean distinct client keys in them)}, "suggestions_applied",
        "total": {...}, "templates": [...]}; `total` and each template hold
        "requests_per_viewer_s", "edge_requests_per_s", "request_offload_now",
        "request_offload_after", "origin_requests_per_s_now", "origin_requests_per_s_after",
        "origin_egress_bytes_per_s_now", "origin_egress_bytes_per_s_after" (templates also
        "path_template"), busiest origin first. Projections are null when no client keys
        were logged.

    Raises:
        ValueError: `peak_concurrency` is not positive.
        NoDataError: the data directory holds nothing to analyse.
    """
    from transforms import offload

    if peak_concurrency < 1:
        raise ValueError("peak_concurrency must be at least 1")
    chosen = offload.choose_source(data, settings, source)
    con = models.connect()
    try:
        offload.build_marts(con, data, settings, window, chosen)
        flags = ev.fetch(con, "select * from offload_flags order by flag_rank")
        applied = any(suggestions_for(con, flags))
        _savings(con)
        _viewers_source(con, data)
        con.register(
            "capacity_params",
            pa.table(
                {
                    "peak_concurrency": [float(peak_concurrency)],
                    "peak_minutes": [settings.suggestions.capacity_peak_minutes],
                }
            ),
        )
        models.build(con, "intermediate/int_evidence_viewers_by_minute", "table")
        models.build(con, "marts/capacity_projection")
        rows = ev.fetch(
            con,
            "select * from capacity_projection "
            "order by path_template is not null, origin_requests_per_s_now desc nulls last, "
            "path_template",
        )
        peaks = ev.fetch(
            con,
            "select minute from int_evidence_viewers_by_minute where viewers > 0 "
            "order by viewers desc, requests desc, minute limit $k",
            {"k": settings.suggestions.capacity_peak_minutes},
        )
        resolved = ev.fetch(con, "select * from int_analysis_window_resolved")[0]
    finally:
        con.close()
    total = rows[0] if rows and rows[0]["path_template"] is None else {}
    return {
        "peak_concurrency": peak_concurrency,
        "window": {
            "from": resolved["window_start"],
            "to": resolved["window_end"],
            "seconds": resolved["window_seconds"],
            "source": chosen,
        },
        "method": METHOD,
        "observed": {
            "peak_minutes": sorted(p["minute"] for p in peaks),
            "peak_viewers": total.get("peak_viewers"),
        },
        "suggestions_applied": applied,
        "total": {k: v for k, v in total.items() if k not in ("path_template", "peak_minutes")},
        "templates": [
            {k: v for k, v in r.items() if k not in ("peak_minutes", "peak_viewers")}
            for r in rows
            if r["path_template"] is not None
        ],
    }
