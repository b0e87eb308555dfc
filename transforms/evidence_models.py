"""Plumbing of the evidence models: relations on the connection, builds and row fetches.

The evidence models (`sql/intermediate/int_evidence_*`, `sql/marts/template_evidence`,
`sql/marts/policy_suggestions`) read the viewer requests of the templates listed in
the `suggestion_scopes` relation and the one-row `suggestion_params` relation (from
`SuggestionSettings`). This module registers both, makes sure templated raw requests
exist on the connection, builds the models, and turns result rows into plain dicts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from ingest.storage import Location
from transforms import models
from transforms.config import TemplateRule, TransformSettings
from transforms.templating import OTHER_TEMPLATE, template_paths

if TYPE_CHECKING:
    from transforms.offload import Window

# Evidence models in build order; tables are read by several later models.
EVIDENCE_MODELS: list[tuple[str, str]] = [
    ("intermediate/int_evidence_requests_scoped", "table"),
    ("intermediate/int_evidence_requests_sequenced", "table"),
    ("intermediate/int_evidence_minutes_flagged", "view"),
    ("intermediate/int_evidence_objects_counted", "view"),
    ("intermediate/int_evidence_params_counted", "view"),
    ("intermediate/int_evidence_pops_summed", "view"),
    ("intermediate/int_evidence_requests_summed", "table"),
    ("intermediate/int_evidence_peers_compared", "view"),
    ("marts/template_evidence", "table"),
    ("marts/policy_suggestions", "view"),
]


def has_relation(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when a table or view (registered ones included) called `name` exists on `con`."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_name = $name", {"name": name}
    ).fetchall()
    return bool(found[0][0])


def is_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when `name` exists on `con` as a materialised table (not a view)."""
    found = con.execute(
        "select count(*) from information_schema.tables "
        "where table_name = $name and table_type = 'BASE TABLE'",
        {"name": name},
    ).fetchall()
    return bool(found[0][0])


def register_params(
    con: duckdb.DuckDBPyConnection, settings: TransformSettings, sample_share: float = 1.0
) -> None:
    """Register the one-row `suggestion_params` relation (rule thresholds, template rules)."""
    values: dict[str, Any] = settings.suggestions.model_dump()
    values["template_rules_json"] = json.dumps([r.model_dump() for r in settings.template_rules])
    values["evidence_sample_share"] = float(sample_share)
    con.register("suggestion_params", pa.table({k: [v] for k, v in values.items()}))


def set_sample_share(con: duckdb.DuckDBPyConnection) -> float:
    """Share of the window's 5-minute blocks the evidence reads; registered and returned.

    1.0 unless the studied templates hold more than `evidence_max_rows` logged rows.
    """
    models.build(con, "intermediate/int_evidence_scope_rows_counted")
    rows = fetch(con, "select scoped_rows from int_evidence_scope_rows_counted")[0]["scoped_rows"]
    params = fetch(con, "select * from suggestion_params")[0]
    share = min(1.0, params["evidence_max_rows"] / rows) if rows else 1.0
    params["evidence_sample_share"] = float(share)
    con.register("suggestion_params", pa.table({k: [v] for k, v in params.items()}))
    return share


def ensure_params(con: duckdb.DuckDBPyConnection) -> None:
    """Register default `suggestion_params` when a caller did not."""
    if not has_relation(con, "suggestion_params"):
        register_params(con, TransformSettings())


def _template_rules(con: duckdb.DuckDBPyConnection) -> tuple[TemplateRule, ...]:
    found = con.execute("select template_rules_json from suggestion_params").fetchall()
    rules = json.loads(found[0][0]) if found and found[0][0] else []
    return tuple(TemplateRule(**r) for r in rules)


_RANKED_SCHEMA = pa.schema(
    [
        ("dt", pa.date32()),
        ("hour", pa.int32()),
        ("host", pa.string()),
        ("path_template", pa.string()),
        ("template_rank", pa.int64()),
        ("kept_template", pa.string()),
    ]
)


def ensure_templated(con: duckdb.DuckDBPyConnection) -> bool:
    """Make `int_requests_templated` (and `int_templates_ranked`) exist on `con`.

    Raw-file runs built both already. A run on stored rollups has only the raw
    requests registered: they are templated here with the rules of
    `suggestion_params`, and the costly ranking that folds rare templates into
    /{other} is built only when a registered scope studies /{other} (an empty ranking
    leaves every template as itself). Returns False when no raw requests exist.
    """
    if not has_relation(con, "src_edge_requests"):
        return False
    if not has_relation(con, "int_requests_templated"):
        models.build(con, "staging/stg_edge_requests")
        paths = con.table(models.build(con, "intermediate/int_paths_deduplicated")).pl()
        templates = template_paths(paths["path"], _template_rules(con))
        models.register_table(con, "src_path_templates", templates.to_arrow())
        models.build(con, "staging/stg_path_templates")
        models.build(con, "intermediate/int_requests_templated")
    if is_table(con, "int_templates_ranked"):
        return True
    studied = (
        has_relation(con, "suggestion_scopes")
        and fetch(
            con,
            "select count(*) as n from suggestion_scopes where path_template = $other",
            {"other": OTHER_TEMPLATE},
        )[0]["n"]
    )
    if studied:
        models.build(con, "intermediate/int_requests_aggregated_to_template", "table")
        if has_relation(con, "int_templates_ranked"):
            con.unregister("int_templates_ranked")
        models.build(con, "intermediate/int_templates_ranked", "table")
    elif not has_relation(con, "int_templates_ranked"):
        con.register("int_templates_ranked", _RANKED_SCHEMA.empty_table())
    return True


def register_scopes(
    con: duckdb.DuckDBPyConnection,
    scopes: Iterable[tuple[str, str | None]],
    totals: Sequence[tuple[float | None, float | None]] | None = None,
) -> None:
    """Register `suggestion_scopes`: the (path_template, cdn or None) pairs to study.

    `totals` gives each scope's exact (GET/HEAD requests, origin requests) where known
    (the flags'), so that offload after a change is relative to them even when the
    evidence reads a sample of the window.
    """
    pairs = list(scopes)
    known = list(totals) if totals is not None else [(None, None)] * len(pairs)
    table = pa.table(
        {
            "path_template": [p[0] for p in pairs],
            "cdn": [p[1] for p in pairs],
            "cacheable_requests": [t[0] for t in known],
            "origin_requests": [t[1] for t in known],
        },
        schema=pa.schema(
            [
                ("path_template", pa.string()),
                ("cdn", pa.string()),
                ("cacheable_requests", pa.float64()),
                ("origin_requests", pa.float64()),
            ]
        ),
    )
    con.register("suggestion_scopes", table)


def build_evidence(con: duckdb.DuckDBPyConnection, lazy: bool = False) -> None:
    """Build the evidence models and `policy_suggestions` (all as views when `lazy`)."""
    if not lazy:
        set_sample_share(con)
    for model, kind in EVIDENCE_MODELS:
        name = model.rsplit("/", 1)[-1]
        wanted = "view" if lazy else kind
        # A view cannot be replaced by a table of the same name (nor the reverse).
        exists, table = has_relation(con, name), is_table(con, name)
        if exists and table != (wanted == "table"):
            con.execute(f"drop {'table' if table else 'view'} {name}")
        models.build(con, model, "view" if wanted == "view" else "table")


def clean(value: Any) -> Any:
    """JSON-ready value: non-finite floats become None, datetimes ISO text, structs dicts."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Rows of a (parameter-bound) query as dicts of JSON-ready values."""
    rel = con.execute(sql, params or {})
    names = [d[0] for d in rel.description]
    return [{n: clean(v) for n, v in zip(names, row, strict=True)} for row in rel.fetchall()]


def open_window(
    data: Location, settings: TransformSettings, window: Window
) -> duckdb.DuckDBPyConnection:
    """A connection with the offload marts of `window` built and its raw files registered.

    Raises:
        NoDataError: no Parquet files under the data directory.
    """
    from transforms import offload

    con = models.connect()
    try:
        chosen = offload.choose_source(data, settings, "auto")
        offload.build_marts(con, data, settings, window, chosen)
    except BaseException:
        con.close()
        raise
    return con


def window_bounds(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The window of `run_params` as {"from", "to"} (None for an open side)."""
    row = fetch(con, "select window_start, window_end from run_params")[0]
    return {"from": row["window_start"], "to": row["window_end"]}


def scope_pairs(flags: Sequence[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """(path_template, cdn) of each flag, in order."""
    return [(f["path_template"], f.get("cdn")) for f in flags]
