"""Static API snapshot candidates: the fallback a CDN can serve when the origin struggles.

Busy GET APIs whose responses are shared across viewers (scores, commentary, stats;
not per-user data), ranked by the origin load a snapshot would remove. Computed in
SQL (`sql/marts/snapshot_candidates.sql`) from the window's raw requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ingest.storage import Location
from transforms import evidence_models as ev
from transforms import models
from transforms.config import TransformSettings

if TYPE_CHECKING:
    from transforms.offload import Source, Window


def snapshot_candidates(
    data: Location,
    settings: TransformSettings,
    window: Window,
    limit: int = 20,
    source: Source = "auto",
) -> list[dict[str, Any]]:
    """The `limit` best snapshot candidates of `window`, most origin load removed first.

    Returns:
        [{"snapshot_rank", "path_template", "requests", "request_offload",
        "origin_requests", "origin_requests_per_s", "origin_load_share", "origin_bytes",
        "origin_bytes_per_s", "distinct_paths", "distinct_keys", "query_request_share",
        "clients_per_object", "multi_client_request_share", "content_type",
        "max_age_median_s", "object_bytes_median", "snapshot_bytes"}]; empty when raw
        files are gone (the shared-vs-personal test needs them).

    Raises:
        NoDataError: the data directory holds nothing to analyse.
    """
    from transforms import offload

    chosen = offload.choose_source(data, settings, source)
    con = models.connect()
    try:
        offload.build_marts(con, data, settings, window, chosen)
        if not ev.ensure_templated(con):
            return []
        models.build(con, "intermediate/int_evidence_templates_described", "table")
        apis = ev.fetch(
            con,
            "select path_template from int_evidence_templates_described "
            "where is_api and requests >= $n "
            "order by path_template",
            {"n": settings.suggestions.snapshot_min_requests},
        )
        if not apis:
            return []
        ev.register_scopes(con, [(r["path_template"], None) for r in apis])
        ev.build_evidence(con)
        models.build(con, "marts/snapshot_candidates")
        return ev.fetch(
            con,
            "select * from snapshot_candidates "
            "where snapshot_rank <= $limit order by snapshot_rank",
            {"limit": limit},
        )
    finally:
        con.close()
