"""Cache-policy suggestions for flagged templates, with evidence and estimated gain.

`prepare` (called by `offload.build_marts`) leaves on the connection what the rules
need: `suggestion_params`, the raw requests of the window (a run on stored rollups
registers them lazily) and, for raw runs, the suggestion models as views.
`suggestions_for(con, flags)` then builds the evidence for the flagged templates and
returns, per flag, its suggestions ranked by estimated origin requests saved. The
rules and estimates are SQL (`sql/marts/policy_suggestions.sql`); see
docs/suggestions.md.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from ingest.storage import Location
from transforms import evidence_models as ev
from transforms import models
from transforms.config import TransformSettings
from transforms.suggestion_text import EVIDENCE_KEYS, action

if TYPE_CHECKING:
    from transforms.offload import Window

log = logging.getLogger(__name__)
_COMMON = ["cacheable_requests", "request_offload", "origin_requests", "evidence_sample_share"]


def prepare(
    con: duckdb.DuckDBPyConnection,
    data: Location,
    settings: TransformSettings,
    window: Window,
    source: str,
) -> None:
    """Leave on `con` what `suggestions_for` needs; cheap (views and registrations only)."""
    ev.register_params(con, settings)
    flags = con.sql("select path_template, cdn from offload_flags").fetchall()
    ev.register_scopes(con, flags)
    # Reads only the rollups: the CDN traffic shares (checked with the other marts).
    models.build(con, "marts/cdn_comparison_by_minute")
    if source == "raw":
        # Views cost nothing until read; building them here lets checks run on them.
        ev.build_evidence(con, lazy=True)
        return
    if not ev.has_relation(con, "src_edge_requests"):
        available = models.partition_files(models.raw_location(data))
        models.register_edge_requests(
            con, data, [f.partition for f in available if window.overlaps(*f.partition)]
        )


def shape_suggestions(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`policy_suggestions` rows (already ordered) as the suggestion dicts of the contract."""
    out = []
    for row in rows:
        code = row["code"]
        keys = ["cdn", *_COMMON, *EVIDENCE_KEYS[code]]
        out.append(
            {
                "code": code,
                "cdn": row["cdn"],
                "action": action(code, row),
                # Five POPs are enough to point at where it happens.
                "evidence": {k: row.get(k) for k in keys}
                | ({"top_pops": (row.get("top_pops") or [])[:5]} if "top_pops" in keys else {}),
                "estimated_request_offload_after": row["estimated_request_offload_after"],
                "estimated_origin_requests_saved": row["estimated_origin_requests_saved"],
            }
        )
    return out


def _non_cacheable_scopes(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None]]:
    if not ev.has_relation(con, "path_template_offload"):
        return []
    rows = con.execute(
        "select path_template from path_template_offload "
        "where non_cacheable_requests >= $n and non_cacheable_requests >= cacheable_requests "
        "order by non_cacheable_requests desc, path_template",
        {"n": ev.fetch(con, "select min_requests from suggestion_params")[0]["min_requests"]},
    ).fetchall()
    return [(r[0], None) for r in rows]


def _build_for(
    con: duckdb.DuckDBPyConnection,
    scopes: list[tuple[str, str | None]],
    totals: list[tuple[float | None, float | None]],
) -> bool:
    ev.ensure_params(con)
    ev.register_scopes(con, scopes, totals)
    if not ev.ensure_templated(con):
        log.debug("No raw requests on the connection; suggestions need them.")
        return False
    ev.build_evidence(con)
    return True


def suggestions_for(
    con: duckdb.DuckDBPyConnection, flags: Sequence[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """One list of suggestions per flag, in the order of `flags`, each ranked by gain.

    Each suggestion is {"code", "cdn" (null: all CDNs), "action", "evidence": {...},
    "estimated_request_offload_after", "estimated_origin_requests_saved"}. The offload
    after and the requests saved are for the flag's own scope over the window. Without
    raw requests on `con` (raw files deleted), every list is empty.
    """
    scopes = ev.scope_pairs(flags)
    ev.ensure_params(con)
    if not ev.fetch(con, "select enabled from suggestion_params")[0]["enabled"]:
        return [[] for _ in flags]
    # Never-cacheable templates are never flagged; their suggestion is built alongside.
    extra = _non_cacheable_scopes(con)
    if not scopes and not extra:
        return []
    totals = [(f.get("cacheable_requests"), f.get("origin_requests")) for f in flags]
    if not _build_for(con, scopes + extra, totals + [(None, None)] * len(extra)):
        return [[] for _ in flags]
    rows = ev.fetch(
        con, "select * from policy_suggestions order by scope_template, scope_cdn, suggestion_rank"
    )
    by_scope: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for row in rows:
        by_scope.setdefault((row["scope_template"], row["scope_cdn"]), []).append(row)
    return [shape_suggestions(by_scope.get(scope, [])) for scope in scopes]


def non_cacheable_suggestions(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Templates served mostly with never-cacheable methods (POST beacons), with suggestions.

    Reads what `suggestions_for` built; empty when it did not run or found no raw rows.
    """
    # Built as a table only by suggestions_for; the lazy views of `prepare` would
    # recompute the whole evidence here.
    if not ev.has_relation(con, "policy_suggestions") or not ev.is_table(con, "template_evidence"):
        return []
    scopes = _non_cacheable_scopes(con)
    out = []
    for template, _ in scopes:
        found = ev.fetch(
            con,
            "select * from template_evidence where path_template = $t and cdn is null",
            {"t": template},
        )
        if not found:
            continue
        rows = ev.fetch(
            con,
            "select * from policy_suggestions where scope_template = $t and scope_cdn is null "
            "order by suggestion_rank",
            {"t": template},
        )
        out.append(
            {
                "path_template": template,
                "methods": found[0]["non_cacheable_methods"],
                "requests": found[0]["non_cacheable_requests"],
                "suggestions": shape_suggestions(rows),
            }
        )
    return out


def suggest(
    data: Location,
    settings: TransformSettings,
    window: Window,
    scopes: Sequence[tuple[str, str | None]] | None = None,
) -> list[dict[str, Any]]:
    """Suggestions for any scopes, flagged or not (all templates and template x CDN when None).

    Returns:
        [{"path_template", "cdn", "suggestions": [...]}] for every scope with a suggestion,
        busiest scopes first. Healthy scopes get none: every rule but the one for
        never-cacheable methods needs the scope under the threshold.
    """
    con = ev.open_window(data, settings, window)
    try:
        if scopes is None:
            templates = con.sql(
                "select distinct path_template from path_template_offload"
            ).fetchall()
            ev.register_scopes(con, [(t, None) for (t,) in templates])
            ev.ensure_templated(con)
            ev.build_evidence(con)
            # Same templates, so the built evidence stays valid; only the scopes widen.
            scopes = [
                (r["path_template"], r["cdn"])
                for r in ev.fetch(
                    con,
                    "select path_template, cdn from template_evidence "
                    "order by requests desc, path_template, cdn nulls first",
                )
            ]
            ev.register_scopes(con, scopes)
        else:
            ev.register_scopes(con, scopes)
            ev.ensure_templated(con)
            ev.build_evidence(con)
        rows = ev.fetch(
            con,
            "select * from policy_suggestions order by scope_template, scope_cdn, suggestion_rank",
        )
    finally:
        con.close()
    by_scope: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for row in rows:
        by_scope.setdefault((row["scope_template"], row["scope_cdn"]), []).append(row)
    return [
        {"path_template": t, "cdn": c, "suggestions": shape_suggestions(by_scope[(t, c)])}
        for t, c in scopes
        if (t, c) in by_scope
    ]
