"""Evidence behind cache-policy suggestions, computed in SQL from the raw requests of a window.

`template_evidence` answers, for one template (or template x CDN), everything issue 5
asks the rules to look at: cache-status mix, origin requests by cause and status
class, query and key cardinality, objects and clients, max-age, content type and
size, spikes against normal minutes, per-CDN and per-POP offload. The numbers are
the `template_evidence` mart (see transforms/evidence_models.py for the plumbing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ingest.storage import Location
from transforms.config import TransformSettings
from transforms.evidence_models import (
    build_evidence,
    ensure_templated,
    fetch,
    open_window,
    register_scopes,
    window_bounds,
)

if TYPE_CHECKING:
    from transforms.offload import Window

CAUSES = ("error", "bypass", "expiry", "uncached_repeat", "fragmentation", "cold", "other")
STATUS_COLUMNS = {
    "HIT": "status_hit",
    "HIT_STALE": "status_hit_stale",
    "HIT_UPDATING": "status_hit_updating",
    "REVALIDATED": "status_revalidated",
    "PARTIAL_HIT": "status_partial_hit",
    "MISS": "status_miss",
    "PASS": "status_pass",
    "UNCACHEABLE": "status_uncacheable",
    "SYNTHETIC": "status_synthetic",
    "ERROR": "status_error",
    "UNKNOWN": "status_unknown",
}


def shape_evidence(row: dict[str, Any]) -> dict[str, Any]:
    """One template_evidence row grouped into the sections of `template_evidence`."""
    get = row.get
    cacheable = get("cacheable_requests") or 0
    return {
        "requests": get("requests") or 0,
        "cacheable_requests": cacheable,
        "non_cacheable_requests": get("non_cacheable_requests") or 0,
        "non_cacheable_methods": get("non_cacheable_methods"),
        "request_offload": get("request_offload"),
        "origin_requests": get("origin_requests") or 0,
        "origin_bytes": get("origin_bytes") or 0,
        "cache_status_mix": [
            {"cache_status": s, "requests": n, "share": n / cacheable}
            for s, n in ((s, get(c) or 0) for s, c in STATUS_COLUMNS.items())
            if n and cacheable
        ],
        "expired_misses": get("status_expired_miss") or 0,
        "origin_causes": {c: get(f"cause_{c}") or 0 for c in CAUSES},
        "origin_status_classes": {f"{d}xx": get(f"origin_{d}xx") or 0 for d in (2, 3, 4, 5)},
        "queries": {
            k: get(k)
            for k in (
                "query_request_share",
                "distinct_paths",
                "distinct_keys",
                "keys_per_request",
                "keys_per_path",
                "requests_per_key",
                "query_params",
            )
        },
        "objects": {
            k: get(k)
            for k in (
                "objects",
                "requests_per_object",
                "clients_per_object",
                "repeat_objects",
                "single_client_repeat_share",
                "multi_client_request_share",
            )
        },
        "max_age": {
            "logged_share": get("max_age_logged_share"),
            "min_s": get("max_age_min_s"),
            "median_s": get("max_age_median_s"),
            "max_s": get("max_age_max_s"),
            "effective_ttl_s": get("ttl_s"),
        },
        "content": {
            "content_type": get("content_type"),
            "object_bytes_median": get("object_bytes_median"),
            "is_live_manifest": get("is_live_manifest"),
        },
        "spikes": {
            k: get(k)
            for k in (
                "spike_minutes",
                "active_minutes",
                "spike_requests",
                "normal_requests",
                "spike_request_offload",
                "normal_request_offload",
            )
        },
        "by_cdn": get("by_cdn") or [],
        "top_pops": get("top_pops") or [],
        "peers": {
            k: get(k) for k in ("peer_cdns", "peer_request_offload", "offload_gap", "is_outlier")
        },
    }


def template_evidence(
    data: Location,
    settings: TransformSettings,
    window: Window,
    path_template: str,
    cdn: str | None,
) -> dict[str, Any]:
    """Evidence of issue 5 for one template (all CDNs when `cdn` is None) over `window`.

    Returns:
        {"path_template", "cdn", "window": {"from", "to"}, "requests", "cacheable_requests",
        "request_offload", "origin_requests", "cache_status_mix", "origin_causes",
        "origin_status_classes", "queries", "objects", "max_age", "content",
        "spikes", "by_cdn", "top_pops", "peers", "suggestions"}; a template without
        requests in the window has zero counts, null ratios and empty lists.

    Raises:
        NoDataError: no raw Parquet files under the data directory.
    """
    from transforms.suggestions import shape_suggestions

    con = open_window(data, settings, window)
    try:
        register_scopes(con, [(path_template, cdn)])
        ensure_templated(con)
        build_evidence(con)
        rows = fetch(
            con,
            "select * from template_evidence where path_template = $t and cdn is not distinct from $c",
            {"t": path_template, "c": cdn},
        )
        suggestions = shape_suggestions(
            fetch(con, "select * from policy_suggestions order by suggestion_rank")
        )
        return {
            "path_template": path_template,
            "cdn": cdn,
            "window": window_bounds(con),
            **shape_evidence(rows[0] if rows else {}),
            "suggestions": suggestions,
        }
    finally:
        con.close()
