"""`match.json`: generation parameters, timeline, planted problems and intended counts.

Later stages (offload flags, suggestions, alerts) assert against this document: which
template has which problem on which CDNs and in which time window, which healthy
look-alikes must stay quiet, and the request offload each one was generated with.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from cdn_offload import __version__
from cdn_offload.generator import catalog as c
from cdn_offload.generator.catalog import Behaviour
from cdn_offload.generator.config import CDN_SHARE
from cdn_offload.generator.output import WrittenFile
from cdn_offload.generator.population import POPS
from cdn_offload.generator.problems import PROBLEMS, Problem
from cdn_offload.generator.requests import HOSTS, Context
from cdn_offload.generator.writers import writer
from ingest.schema import CacheStatus

# Behaviours that cost the origin a request (request offload counts them against).
ORIGIN_BEHAVIOURS = [
    int(b)
    for b in (
        Behaviour.HIT_STALE,
        Behaviour.REVALIDATED,
        Behaviour.MISS,
        Behaviour.MISS_EXPIRED,
        Behaviour.PASS,
        Behaviour.UNCACHEABLE,
        Behaviour.ORIGIN_ERROR,
    )
]


def iso(ms: float) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _offload(counts: pl.DataFrame) -> dict[str, float | int | None]:
    """Requests and true request offload (by simulated behaviour) of a slice of the counts.

    What a vendor's log lets you compute can differ: Akamai logs a revalidation as a
    plain hit, for example. Recompute from the parsed rows for per-vendor figures.
    """
    n = int(counts["requests"].sum()) if counts.height else 0
    if n == 0:
        return {"requests": 0, "request_offload": None}
    origin = int(counts.filter(pl.col("behaviour").is_in(ORIGIN_BEHAVIOURS))["requests"].sum())
    return {"requests": n, "request_offload": round(1 - origin / n, 4)}


def _problem(ctx: Context, p: Problem, counts: pl.DataFrame) -> dict[str, object]:
    roles, cdns = ctx.roles, list(ctx.config.cdns)
    target = cdns if p.cdns == "all" else [r for r in [roles.get(p.cdns)] if r]
    tpl = c.TEMPLATES[c.TEMPLATE_INDEX[p.template]]
    target = [x for x in target if x not in tpl.excluded_cdns]
    windows = []
    if p.window is not None:
        start = ctx.config.start_ms
        names = {e.offset_s: e.name for e in ctx.timeline.events}
        for lo, hi in ctx.timeline.windows(p.window):
            windows.append(
                {
                    "from": iso(start + lo * 1000),
                    "to": iso(start + hi * 1000),
                    "from_event": names.get(lo),
                    "to_event": names.get(hi),
                }
            )
    mine = counts.filter((pl.col("template") == p.template) & pl.col("cdn").is_in(target))
    affected = mine.filter(pl.col("problem_active")) if p.window or p.cdns != "all" else mine
    planted = bool(target) and affected.height > 0
    return {
        "id": p.id,
        "code": p.code,
        "template": p.template,
        "path_template": tpl.template,
        "path_regex": tpl.path_regex,
        "method": tpl.method,
        "cdns": target,
        "windows": windows,
        "lookalikes": list(p.lookalikes),
        "description": p.description,
        "planted": planted,
        "expected": {
            "affected": _offload(affected),
            "lookalikes": {
                name: _offload(counts.filter(pl.col("template") == name)) for name in p.lookalikes
            },
        },
    }


def match_document(
    ctx: Context, files: list[WrittenFile], counts: pl.DataFrame
) -> dict[str, object]:
    """The JSON-ready ground truth of one generated match."""
    cfg, start = ctx.config, ctx.config.start_ms
    counts = counts.with_columns(pl.col("behaviour").cast(pl.Int64))
    problem_of = {p.template: p.id for p in PROBLEMS}
    by_status: dict[str, dict[str, int]] = {}
    for cdn, status, n in (
        counts.group_by("cdn", "cache_status")
        .agg(pl.col("requests").sum())
        .sort("cdn", "cache_status")
        .iter_rows()
    ):
        by_status.setdefault(cdn, {})[status] = int(n)
    per_template = [
        {
            "template": t,
            "cdn": cdn,
            **_offload(counts.filter((pl.col("template") == t) & (pl.col("cdn") == cdn))),
        }
        for t in [x.name for x in c.TEMPLATES]
        for cdn in cfg.cdns
    ]
    return {
        "generator": {"name": "cdn-offload generate", "version": __version__},
        "parameters": {**cfg.as_json(), "clients": cfg.client_count},
        "match": {
            "event": c.EVENT_SLUG,
            "match_id": c.MATCH_ID,
            "hosts": HOSTS,
            "start": iso(start),
            "end": iso(start + ctx.timeline.duration_s * 1000),
        },
        "timeline": [
            {
                "event": e.name,
                "kind": e.kind,
                "time": iso(start + e.offset_s * 1000),
                "offset_s": round(e.offset_s, 3),
            }
            for e in ctx.timeline.events
        ],
        "roles": ctx.roles,
        "cdns": {
            cdn: {
                "format": writer(cdn).FORMAT,
                "share": CDN_SHARE[cdn],
                "rows": int(counts.filter(pl.col("cdn") == cdn)["requests"].sum()),
                "pops": sorted({p for pops in POPS[cdn] for p in pops}),
            }
            for cdn in cfg.cdns
        },
        "templates": [
            {
                "name": t.name,
                "path_template": t.template,
                "path_regex": t.path_regex,
                "host": HOSTS[t.host],
                "method": t.method,
                "content_type": t.content_type,
                "max_age_s": t.max_age_s,
                "problem": problem_of.get(t.name),
            }
            for t in c.TEMPLATES
        ],
        "planted_problems": [_problem(ctx, p, counts) for p in PROBLEMS],
        "intended": {
            "rows": int(counts["requests"].sum()),
            "cache_status_by_cdn": by_status,
            "cache_status_values": [s.value for s in CacheStatus],
            "offload_by_template_cdn": per_template,
        },
        "files": [
            {
                "path": f.path,
                "cdn": f.cdn,
                "format": f.format,
                "hour": iso(f.hour_ms),
                "rows": f.rows,
                "bytes": f.bytes,
                "raw_bytes": f.raw_bytes,
            }
            for f in files
        ],
    }
