"""The GX suite over planted violations: each fails exactly the checks it should."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ingest.schema import STATUS_FLAGS, OriginRequest, ServedFromCache
from tests.fixtures.quality.builder import valid_rows, with_value, with_values, write_partition
from transforms.quality import QualitySettings, validate
from transforms.quality_suite import allowed_pairs, row_checks

pytestmark = pytest.mark.unit

HOUR = datetime(2025, 3, 1, 14, tzinfo=UTC)
NOW = HOUR + timedelta(hours=2)
ROWS = 200


def run(data_dir: Path, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("now", NOW)
    result = validate(str(data_dir), **kwargs)
    json.dumps(result)  # stored as JSON: must serialise without help
    return result


def check(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in result["checks"] if c["name"] == name)


def test_clean_partition_passes_every_check(tmp_path: Path) -> None:
    write_partition(tmp_path, valid_rows(ROWS, HOUR), HOUR)
    result = run(tmp_path)
    assert result["failed_checks"] == []
    assert result["success"] is True
    assert result["rows"] == ROWS
    assert result["partitions"] == 1
    assert result["first_partition"] == "dt=2025-03-01/hour=14"
    names = {c["name"] for c in result["checks"]}
    assert len(names) == len(result["checks"]) == len(row_checks(QualitySettings())) + 2
    assert check(result, "path_not_null")["element_count"] == ROWS
    assert result["rows_by_source_format"] == [
        {
            "source_format": "cloudfront_standard",
            "rows": ROWS,
            "unknown_rows": 0,
            "unknown_share": 0.0,
        }
    ]


# (id, {column: value} planted in row 3, checks that must fail)
VIOLATIONS = [
    ("null_path", {"path": None}, {"path_not_null"}),
    ("null_event_time", {"event_time": None}, {"event_time_not_null"}),
    ("status_1000", {"status": 1000}, {"status_is_http_code"}),
    ("status_99", {"status": 99}, {"status_is_http_code"}),
    ("status_0_not_aborted", {"status": 0}, {"status_zero_only_when_incomplete"}),
    ("cache_status_foo", {"cache_status": "FOO"}, {"cache_status_in_canonical_set"}),
    ("origin_request_bogus", {"origin_request": "maybe"}, {"origin_request_in_canonical_set"}),
    ("cdn_typo", {"cdn": "cloudfrnt"}, {"cdn_in_canonical_set"}),
    ("negative_bytes", {"bytes_sent": -1}, {"bytes_sent_non_negative"}),
    ("negative_ttfb", {"ttfb_ms": -0.5}, {"ttfb_ms_non_negative"}),
    (
        "hit_with_full_origin_fetch",
        {
            "cache_status": "HIT",
            "served_from_cache": "yes",
            "origin_request": "full",
            "cache_tier": "edge",
        },
        {"origin_request_matches_cache_status"},
    ),
    (
        "miss_served_from_cache",
        {
            "cache_status": "MISS",
            "served_from_cache": "yes",
            "origin_request": "full",
            "cache_tier": "unknown",
        },
        {"served_from_cache_matches_cache_status"},
    ),
    (
        "tier_on_a_miss",
        {
            "cache_status": "MISS",
            "served_from_cache": "no",
            "origin_request": "full",
            "cache_tier": "edge",
        },
        {"cache_tier_only_on_cache_hits"},
    ),
    ("zero_sample_weight", {"sample_weight": 0.0}, {"sample_weight_positive"}),
    ("path_without_slash", {"path": "live/final/master.m3u8"}, {"path_starts_with_slash"}),
    (
        "row_in_wrong_partition",
        {"event_time": HOUR - timedelta(hours=5)},
        {"event_time_in_partition"},
    ),
]


@pytest.mark.parametrize(
    ("planted", "expected"), [pytest.param(p, e, id=i) for i, p, e in VIOLATIONS]
)
def test_planted_violation_fails_only_its_checks(
    tmp_path: Path, planted: dict[str, Any], expected: set[str]
) -> None:
    write_partition(tmp_path, with_values(valid_rows(ROWS, HOUR), 3, **planted), HOUR)
    result = run(tmp_path)
    assert set(result["failed_checks"]) == expected
    for name in expected:
        failed = check(result, name)
        assert failed["unexpected_count"] == 1
        assert failed["sample_rows"][0]["lineage"] == "edge.log:4"


def test_sample_values_and_percent_of_a_failed_check(tmp_path: Path) -> None:
    rows = valid_rows(ROWS, HOUR)
    for index in (0, 10, 20, 30):
        rows = with_value(rows, "cache_status", index, "FOO" if index else "BAR")
    write_partition(tmp_path, rows, HOUR)
    failed = check(run(tmp_path), "cache_status_in_canonical_set")
    assert failed["unexpected_count"] == 4
    assert failed["unexpected_percent"] == pytest.approx(2.0)
    assert failed["sample_unexpected"] == [
        {"value": "FOO", "count": 3},
        {"value": "BAR", "count": 1},
    ]
    assert failed["success"] is False
    assert failed["engine"] == "great_expectations"


def test_event_in_the_future_fails_only_the_future_check(tmp_path: Path) -> None:
    write_partition(tmp_path, valid_rows(ROWS, HOUR), HOUR)
    ahead = HOUR + timedelta(hours=3)  # a vendor clock running an hour ahead of NOW
    write_partition(tmp_path, valid_rows(10, ahead, source_file="skewed.log"), ahead)
    result = run(tmp_path)
    assert result["failed_checks"] == ["event_time_not_in_future"]
    assert check(result, "event_time_not_in_future")["unexpected_count"] == 10


def test_clock_skew_allowance(tmp_path: Path) -> None:
    write_partition(tmp_path, valid_rows(10, HOUR), HOUR)  # newest row at 14:54
    clock = HOUR + timedelta(minutes=54, seconds=-200)
    assert run(tmp_path, now=clock)["failed_checks"] == []
    strict = run(tmp_path, now=clock, settings=QualitySettings(clock_skew_s=0))
    assert strict["failed_checks"] == ["event_time_not_in_future"]
    assert check(strict, "event_time_not_in_future")["unexpected_count"] == 1


def _unknown(rows: pa.Table, indices: range) -> pa.Table:
    for index in indices:
        rows = with_values(
            rows,
            index,
            cache_status="UNKNOWN",
            served_from_cache="unknown",
            origin_request="unknown",
            cache_tier="unknown",
        )
    return rows


def test_unknown_share_above_limit_fails_only_the_share_check(tmp_path: Path) -> None:
    half = _unknown(valid_rows(ROWS, HOUR, cdn="fastly", source_format="fastly"), range(0, ROWS, 2))
    write_partition(tmp_path, half, HOUR, name="fastly")
    write_partition(tmp_path, valid_rows(ROWS, HOUR), HOUR, name="cloudfront")
    # A source with too few rows to judge is exempt, even at 100% UNKNOWN.
    tiny = _unknown(valid_rows(5, HOUR, cdn="nginx", source_format="nginx"), range(5))
    write_partition(tmp_path, tiny, HOUR, name="nginx")
    result = run(tmp_path)
    assert result["failed_checks"] == ["unknown_cache_status_share"]
    share = check(result, "unknown_cache_status_share")
    assert share["element_count"] == 2  # formats with enough rows to judge
    assert share["unexpected_count"] == 1
    assert share["sample_rows"] == [{"source_format": "fastly", "value": 0.5}]
    by_format = {r["source_format"]: r for r in result["rows_by_source_format"]}
    assert by_format["fastly"]["unknown_rows"] == ROWS // 2
    assert by_format["nginx"]["unknown_share"] == 1.0


def test_unknown_share_limit_is_configurable(tmp_path: Path) -> None:
    rows = _unknown(valid_rows(ROWS, HOUR), range(0, ROWS, 2))
    write_partition(tmp_path, rows, HOUR)
    assert run(tmp_path, settings=QualitySettings(max_unknown_share=0.6))["success"] is True


@pytest.mark.parametrize(
    "planted",
    [
        pytest.param({"status": 0, "incomplete": True}, id="aborted_status_0"),
        pytest.param({"status": 499, "incomplete": True}, id="nginx_499"),
        pytest.param(
            {
                "cache_status": "HIT_STALE",
                "served_from_cache": "yes",
                "origin_request": "unknown",
                "cache_tier": "edge",
            },
            id="fastly_hit_stale",
        ),
        pytest.param(
            {
                "cache_status": "HIT_UPDATING",
                "served_from_cache": "yes",
                "origin_request": "none",
                "cache_tier": "edge",
            },
            id="nginx_updating",
        ),
        pytest.param(
            {
                "cache_status": "PASS",
                "served_from_cache": "no",
                "origin_request": "none",
                "cache_tier": "unknown",
            },
            id="cloudflare_dynamic_no_origin",
        ),
        pytest.param(
            {
                "cache_status": "MISS",
                "served_from_cache": "no",
                "origin_request": "failed",
                "cache_tier": "unknown",
            },
            id="azure_origin_error",
        ),
        pytest.param(
            {
                "status": 0,
                "incomplete": False,
                "cache_status": "MISS",
                "served_from_cache": "no",
                "origin_request": "failed",
                "cache_tier": "unknown",
            },
            id="azure_origin_timeout_status_0",
        ),
        pytest.param(
            {
                "cache_status": "ERROR",
                "served_from_cache": "unknown",
                "origin_request": "failed",
                "cache_tier": "unknown",
            },
            id="cloudfront_origin_error",
        ),
        pytest.param(
            {
                "cache_status": "HIT",
                "served_from_cache": "yes",
                "origin_request": "none",
                "cache_tier": "parent",
            },
            id="shield_hit",
        ),
        pytest.param(
            {"bytes_sent": None, "body_bytes": None, "time_taken_ms": None}, id="bytes_not_logged"
        ),
        pytest.param({"bytes_sent": 0}, id="zero_bytes"),
        pytest.param({"event_time": HOUR}, id="first_ms_of_partition"),
    ],
)
def test_vendor_rules_that_are_consistent_pass(tmp_path: Path, planted: dict[str, Any]) -> None:
    write_partition(tmp_path, with_values(valid_rows(ROWS, HOUR), 3, **planted), HOUR)
    assert run(tmp_path)["failed_checks"] == []


def test_allowed_pairs_hold_every_default_and_no_full_fetch_from_cache() -> None:
    pairs = allowed_pairs()
    for status, (served, origin) in STATUS_FLAGS.items():
        assert (status.value, served.value) in pairs["served"]
        assert (status.value, origin.value) in pairs["origin"]
    served_yes = {s for s, v in pairs["served"] if v == ServedFromCache.YES.value}
    assert not [
        p for p in pairs["origin"] if p[0] in served_yes and p[1] == OriginRequest.FULL.value
    ]
