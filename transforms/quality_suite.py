"""The data-quality expectation suite for canonical edge requests (GX Core 1.x).

The checks are plain specs (name, description, GX expectation class and arguments) so
they can be listed and documented without GX; `SuiteRunner` turns them into GX
expectations and runs them. Check names are stable ids: the stored results, the
dashboard and the report refer to them. Great Expectations is imported inside
`SuiteRunner` only, because importing it takes seconds.
"""

from __future__ import annotations

import functools
import logging
import operator
from dataclasses import asdict, dataclass
from typing import Any

from ingest.schema import (
    CANONICAL_FIELDS,
    STATUS_FLAGS,
    VENDORS,
    CacheStatus,
    CacheTier,
    EventTimeKind,
    OriginRequest,
    ServedFromCache,
)


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the suite and how much data one validation batch holds."""

    max_unknown_share: float = 0.2
    """Largest share of UNKNOWN cache statuses a source format may have."""
    min_rows_for_share: int = 100
    """Source formats with fewer rows in the window are not judged on their UNKNOWN share."""
    clock_skew_s: int = 300
    """How far past the validation time an event_time may lie before it counts as future."""
    batch_rows: int = 250_000
    """Rows converted to pandas and validated at once: bounds memory on big windows."""
    sample_size: int = 5
    """Unexpected values and rows kept per check in the stored results."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Combinations a vendor module may produce besides the STATUS_FLAGS defaults, each
# backed by a documented vendor rule (format notes 11.2/11.4 and the module docstrings).
EXTRA_SERVED: dict[CacheStatus, frozenset[ServedFromCache]] = {
    # CloudFront detailed `Error` and Fastly ERROR may be cached error responses (A12).
    CacheStatus.ERROR: frozenset({ServedFromCache.UNKNOWN}),
}
EXTRA_ORIGIN: dict[CacheStatus, frozenset[OriginRequest]] = {
    # Fastly HIT-STALE: failed fetch or VCL deliver_stale, origin contact unknown.
    CacheStatus.HIT_STALE: frozenset({OriginRequest.UNKNOWN}),
    # nginx UPDATING and 11.2: another request does the refresh.
    CacheStatus.HIT_UPDATING: frozenset({OriginRequest.NONE}),
    # Azure `Origin*` ErrorInfo on a response not served from cache.
    CacheStatus.MISS: frozenset({OriginRequest.FAILED}),
    CacheStatus.UNCACHEABLE: frozenset({OriginRequest.FAILED}),
    # Cloudflare `dynamic` without an origin response; Azure origin errors.
    CacheStatus.PASS: frozenset({OriginRequest.NONE, OriginRequest.FAILED}),
    # CloudFront/GCP error subtypes: the origin was tried, or never reached.
    CacheStatus.ERROR: frozenset({OriginRequest.FAILED, OriginRequest.NONE}),
    # An unknown cache status says nothing of the cache, but origin evidence from another
    # field may exist; conditional and background would imply a cached object.
    CacheStatus.UNKNOWN: frozenset({OriginRequest.FAILED, OriginRequest.FULL, OriginRequest.NONE}),
}
# A cache tier names the tier that produced a hit, so only cache-served rows have one.
TIER_BY_SERVED: dict[ServedFromCache, frozenset[CacheTier]] = {
    s: frozenset(
        CacheTier if s in (ServedFromCache.YES, ServedFromCache.PARTIAL) else [CacheTier.UNKNOWN]
    )
    for s in ServedFromCache
}


def allowed_pairs() -> dict[str, list[tuple[str, str]]]:
    """Consistent (cache_status, served_from_cache), (cache_status, origin_request) and
    (served_from_cache, cache_tier) pairs.

    served_from_cache is a function of cache_status (ERROR aside), so the first two
    together fix the consistent triples. They imply the rule "served from cache means no
    full origin fetch": rows served from cache allow only none, conditional (REVALIDATED),
    failed or unknown (HIT_STALE) and background (HIT_UPDATING).
    """
    served: list[tuple[str, str]] = []
    origin: list[tuple[str, str]] = []
    for status, (default_served, default_origin) in STATUS_FLAGS.items():
        served += [
            (status.value, v.value) for v in {default_served} | EXTRA_SERVED.get(status, set())
        ]
        origin += [
            (status.value, v.value) for v in {default_origin} | EXTRA_ORIGIN.get(status, set())
        ]
    tiers = [(s.value, t.value) for s, allowed in TIER_BY_SERVED.items() for t in allowed]
    return {"served": sorted(served), "origin": sorted(origin), "tier": sorted(tiers)}


REQUIRED_COLUMNS = [name for name, _, nullable, _ in CANONICAL_FIELDS if not nullable]
NON_NEGATIVE_COLUMNS = ["bytes_sent", "body_bytes", "request_bytes", "time_taken_ms", "ttfb_ms"]
ENUM_COLUMNS: dict[str, list[str]] = {
    "cache_status": [s.value for s in CacheStatus],
    "served_from_cache": [s.value for s in ServedFromCache],
    "origin_request": [s.value for s in OriginRequest],
    "cache_tier": [s.value for s in CacheTier],
    "event_time_kind": [s.value for s in EventTimeKind],
    "cdn": list(VENDORS),
}
# Columns the row suite reads: nothing else is loaded, which keeps batches small.
SUITE_COLUMNS = sorted({*REQUIRED_COLUMNS, *NON_NEGATIVE_COLUMNS, *ENUM_COLUMNS})
# Derived per row before validation: where the row came from, shown for unexpected rows.
LINEAGE_COLUMN = "lineage"
# Derived pair columns "A/B", null when A or B is not canonical: such a row already
# fails that column's set check, and judging its consistency too would report one
# defect twice.
PAIRS: dict[str, tuple[str, str]] = {
    "served": ("cache_status", "served_from_cache"),
    "origin": ("cache_status", "origin_request"),
    "tier": ("served_from_cache", "cache_tier"),
}
PAIR_COLUMNS = {kind: f"{a}__{b}" for kind, (a, b) in PAIRS.items()}

SHARE_CHECK = "unknown_cache_status_share"


@dataclass(frozen=True)
class Check:
    """One named check: GX expectation class `expectation` with `kwargs`.

    `condition`, conditions (column, "==" | "!=" | ">=", value) that must all hold,
    limits the rows it judges. Values `{"$PARAMETER": name}` are filled per batch:
    partition_start/_end, latest_allowed.
    """

    name: str
    description: str
    expectation: str
    kwargs: dict[str, Any]
    condition: tuple[tuple[str, str, Any], ...] = ()


def row_checks(settings: QualitySettings) -> list[Check]:
    """Row-level checks, run on every batch of canonical rows."""
    pairs = allowed_pairs()
    between, in_set = "ExpectColumnValuesToBeBetween", "ExpectColumnValuesToBeInSet"
    checks = [
        Check(f"{c}_not_null", f"{c} is present", "ExpectColumnValuesToNotBeNull", {"column": c})
        for c in REQUIRED_COLUMNS
    ]
    checks += [
        Check(f"{c}_in_canonical_set", f"{c} is canonical", in_set, {"column": c, "value_set": v})
        for c, v in ENUM_COLUMNS.items()
    ]
    checks += [
        Check(
            "status_is_http_code",
            "a non-zero status is an HTTP code in 100-599",
            between,
            {"column": "status", "min_value": 100, "max_value": 599},
            (("status", "!=", 0),),
        ),
        # Status 0 means no response: the client left (incomplete) or the origin failed
        # and the edge answered nothing (Azure logs an origin timeout as status 0).
        Check(
            "status_zero_only_when_incomplete",
            "status 0 (no response) only on requests the client aborted or the origin failed",
            in_set,
            {"column": "origin_request", "value_set": ["failed"]},
            (("status", "==", 0), ("incomplete", "==", False)),
        ),
    ]
    checks += [
        Check(f"{c}_non_negative", f"{c} is not negative", between, {"column": c, "min_value": 0})
        for c in NON_NEGATIVE_COLUMNS
    ]
    partition = {"min_value": {"$PARAMETER": "partition_start"}, "strict_max": True}
    checks += [
        Check(
            "event_time_in_partition",
            "event_time lies in its dt/hour partition, so inside the validated window",
            between,
            {"column": "event_time", **partition, "max_value": {"$PARAMETER": "partition_end"}},
        ),
        Check(
            "event_time_not_in_future",
            f"event_time is at most {settings.clock_skew_s} s past the validation time",
            between,
            {"column": "event_time", "max_value": {"$PARAMETER": "latest_allowed"}},
        ),
    ]
    # GX's pandas ExpectColumnPairValuesToBeInSet walks rows with iterrows (about 30 µs a
    # row), so each pair is validated as a derived "A/B" column (see PAIRS).
    checks += [
        Check(
            name,
            text,
            in_set,
            {"column": PAIR_COLUMNS[kind], "value_set": [f"{a}/{b}" for a, b in pairs[kind]]},
        )
        for kind, name, text in (
            (
                "served",
                "served_from_cache_matches_cache_status",
                "served_from_cache fits cache_status",
            ),
            ("origin", "origin_request_matches_cache_status", "origin_request fits cache_status"),
            ("tier", "cache_tier_only_on_cache_hits", "cache_tier is edge/parent only on hits"),
        )
    ]
    checks += [
        Check(
            "sample_weight_positive",
            "sample_weight is greater than 0",
            between,
            {"column": "sample_weight", "min_value": 0, "strict_min": True},
        ),
        Check(
            "path_starts_with_slash",
            "path starts with '/'",
            "ExpectColumnValuesToMatchRegex",
            {"column": "path", "regex": "^/"},
        ),
    ]
    return checks


def share_check(settings: QualitySettings) -> Check:
    """The UNKNOWN-share check, run once on per-source-format counts of the whole window."""
    return Check(
        SHARE_CHECK,
        f"at most {settings.max_unknown_share:.0%} UNKNOWN cache statuses per source format "
        f"(formats with at least {settings.min_rows_for_share} rows)",
        "ExpectColumnValuesToBeBetween",
        {"column": "unknown_share", "min_value": 0, "max_value": settings.max_unknown_share},
        (("rows", ">=", settings.min_rows_for_share),),
    )


class SuiteRunner:
    """Runs the checks through one ephemeral GX context: in memory, no usage statistics,
    no progress bars. Each result carries its check name in `expectation_config.meta`.
    """

    def __init__(self, rows: list[Check], share: Check) -> None:
        gx_log = logging.getLogger("great_expectations")
        if gx_log.level == logging.NOTSET:
            # GX logs its registry bookkeeping at INFO while importing: hundreds of lines.
            gx_log.setLevel(logging.WARNING)
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        source = context.data_sources.add_pandas("canonical")
        self.gx_version = gx.__version__
        self._assets = {
            name: source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("batch")
            for name in ("edge_requests", "source_format_shares")
        }
        self._suites = {
            name: context.suites.add(
                gx.ExpectationSuite(name=name, expectations=[_expectation(c) for c in checks])
            )
            for name, checks in (("edge_requests", rows), ("source_format_shares", [share]))
        }

    def run(self, suite: str, frame: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """GX results of `suite` ("edge_requests" or "source_format_shares") on a pandas frame."""
        batch = self._assets[suite].get_batch(batch_parameters={"dataframe": frame})
        # SUMMARY gives the first unexpected values and their frame positions; asking for
        # `unexpected_index_column_names` would cost GX about 100 µs per unexpected row.
        result_format = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
        result = batch.validate(
            self._suites[suite], expectation_parameters=params, result_format=result_format
        )
        return list(result.results)


_COMPARE = {"==": operator.eq, "!=": operator.ne, ">=": operator.ge}


def _expectation(check: Check) -> Any:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    kwargs = dict(check.kwargs)
    if check.condition:
        parts = [_COMPARE[op](Column(column), value) for column, op, value in check.condition]
        kwargs["row_condition"] = functools.reduce(operator.and_, parts)
    return getattr(gxe, check.expectation)(**kwargs, meta={"check": check.name})
