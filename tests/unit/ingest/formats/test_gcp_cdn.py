"""Google Cloud CDN (load-balancer LogEntry) parser: the live-match sample, every classification, bad lines."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.formats import gcp_cdn
from ingest.framing import decompress, frame
from ingest.records import ParseResult

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "sample_logs" / "gcp_cdn"
SHARED = REPO.parent / "shared"


def parse_bytes(data: bytes, name: str = "test.log") -> ParseResult:
    return gcp_cdn.parse(frame(decompress(data, name), source_file=name).lines)


def parse_file(path: Path) -> ParseResult:
    return parse_bytes(path.read_bytes(), path.name)


def live_rows() -> dict[int, dict]:
    """Rows of the live-match sample by line number."""
    return {r["_source_line"]: r for r in parse_file(SAMPLES / "live_match.log").rows.to_pylist()}


def live_line(number: int) -> dict:
    return json.loads((SAMPLES / "live_match.log").read_text().splitlines()[number - 1])


def shared_file(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{relative} not available (Elastic-licensed, not copied into the repo)")
    return path


def utc(
    year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# (line, cache_status, cache_status_raw, detail, served_from_cache, origin_request)
CACHE_CASES = [
    (1, "HIT", "cacheLookup/cacheHit", None, "yes", "none"),
    (
        4,
        "REVALIDATED",
        "cacheLookup/cacheHit/cacheValidatedWithOriginServer",
        None,
        "yes",
        "conditional",
    ),
    (2, "MISS", "cacheLookup", None, "no", "full"),  # stored: cacheFillBytes present
    (6, "MISS", "cacheLookup", None, "no", "full"),  # not stored
    (8, "PASS", None, None, "no", "full"),  # no cache lookup
    (10, "SYNTHETIC", None, "denied_by_security_policy", "no", "none"),
    (11, "ERROR", "cacheLookup", "failed_to_connect_to_backend", "no", "failed"),
    (12, "ERROR", None, "failed_to_pick_backend", "no", "unknown"),
    (13, "MISS", "cacheLookup", "client_disconnected_before_any_response", "no", "full"),
    (
        14,
        "HIT",
        "cacheLookup/cacheHit",
        "client_disconnected_after_partial_response",
        "yes",
        "none",
    ),
]


@pytest.mark.parametrize(
    ("line", "status", "raw", "detail", "served", "origin"),
    CACHE_CASES,
    ids=[f"line{c[0]}-{c[1]}-{c[3] or c[2] or 'no-lookup'}" for c in CACHE_CASES],
)
def test_cache_classification(line, status, raw, detail, served, origin):
    row = live_rows()[line]
    got = (row["cache_status"], row["cache_status_raw"], row["cache_status_detail"])
    assert got == (status, raw, detail)
    assert (row["served_from_cache"], row["origin_request"], row["cache_tier"]) == (
        served,
        origin,
        "unknown",
    )


def test_live_match_first_line_exact_values():
    row = live_rows()[1]
    expected = {
        "event_time": utc(2025, 11, 28, 14, 0, 7, 654000),
        "event_time_kind": "log_entry",
        "cdn": "gcp",
        "source_format": "gcp_cdn",
        "pop": "BOM-7f3a21c0",
        "host": "live.cricketstream.example",
        "method": "GET",
        "path": "/live/ind-aus-t20-final/master.m3u8",
        "query": None,
        "status": 200,
        "is_viewer_request": True,
        "incomplete": False,
        "bytes_sent": 1620,
        "body_bytes": None,
        "request_bytes": 512,
        "time_taken_ms": 12.345,
        "client_key": "203.0.113.41",
        "user_agent": "CricketLive/5.2.1 (iPhone; iOS 17.2) AVPlayer",
        "protocol": "HTTP/2.0",
        "request_id": "1x9k01f2q3ab",
        "sample_weight": 1.0,
        "_source_line": 1,
    }
    assert {k: row[k] for k in expected} == expected


def test_omitted_defaults_mean_zero_and_client_aborts_are_incomplete():
    rows = live_rows()
    # Line 13 omits status and responseSize: Cloud Logging drops zero values.
    assert (rows[13]["status"], rows[13]["bytes_sent"], rows[13]["incomplete"]) == (0, 0, True)
    assert (rows[14]["status"], rows[14]["incomplete"]) == (200, True)
    assert [line for line, r in rows.items() if r["incomplete"]] == [13, 14]


@pytest.mark.parametrize(
    ("line", "client_key"),
    [
        (3, "203.0.113.43"),  # "203.0.113.43:51234"
        (6, "2001:db8:85a3::8a2e:370:7334"),  # "[2001:db8:85a3::8a2e:370:7334]:443"
        (7, "2001:db8:85a3::8a2e:370:7335"),  # bare IPv6 keeps every group
    ],
    ids=["ipv4-port", "ipv6-bracket-port", "ipv6-bare"],
)
def test_remote_ip_port_is_stripped(line, client_key):
    assert live_rows()[line]["client_key"] == client_key


def test_numbers_as_json_numbers_query_and_protocol():
    rows = live_rows()
    assert rows[3]["bytes_sent"] == 1_250_000  # responseSize written as a number
    assert (rows[6]["path"], rows[6]["query"]) == ("/api/v1/match/8812/score", "ts=1764338400")
    assert rows[14]["protocol"] == "HTTP/3.0"
    assert rows[11]["time_taken_ms"] == 5001.0
    assert rows[8]["pop"] is None  # no cacheId without a cache lookup


def test_statusdetails_alone_decides_a_redirect_is_synthetic():
    record = live_line(9)
    record["jsonPayload"]["statusDetails"] = "redirected_by_security_policy"
    record["httpRequest"]["status"] = 302
    row = parse_bytes(json.dumps(record).encode()).rows.to_pylist()[0]
    assert (row["cache_status"], row["origin_request"], row["status"]) == ("SYNTHETIC", "none", 302)


def test_malformed_lines_are_rejected_with_reason_and_line():
    result = parse_file(SAMPLES / "malformed.log")
    assert [r["_source_line"] for r in result.rows.to_pylist()] == [1, 9]
    rejects = [
        (r["_source_line"], r["reason_code"], r["detail"]) for r in result.rejects.to_pylist()
    ]
    assert [(line, reason) for line, reason, _ in rejects] == [
        (2, "bad_json"),  # truncated
        (3, "bad_json"),  # not JSON
        (4, "missing_field"),  # a textPayload entry, no httpRequest
        (5, "bad_timestamp"),
        (6, "missing_field"),
        (7, "bad_number"),
        (8, "bad_field_type"),  # latency is an object
    ]
    details = {line: detail for line, _, detail in rejects}
    assert details[4] == "httpRequest"
    assert details[5] == "timestamp"
    assert details[6] == "httpRequest.requestMethod"
    assert details[7] == "httpRequest.responseSize"
    assert {r["vendor"] for r in result.rejects.to_pylist()} == {"gcp"}


@pytest.mark.parametrize("name", ["live_match.log", "malformed.log"])
def test_every_line_is_a_row_or_a_reject(name):
    data = (SAMPLES / name).read_bytes()
    assert parse_bytes(data, name).total == len(data.splitlines())


def test_empty_input():
    result = parse_bytes(b"")
    assert (result.rows.num_rows, result.rejects.num_rows) == (0, 0)


def test_elastic_load_balancer_records():
    result = parse_file(shared_file("real_logs/gcp_cdn/test-load-balancer.log"))
    rows = result.rows.to_pylist()
    assert (len(rows), result.rejects.num_rows) == (3, 0)
    assert [r["host"] for r in rows] == ["81.2.69.193", "pictures.example.com", "81.2.69.193"]
    assert {
        (r["event_time"], r["status"], r["cache_status"], r["pop"], r["bytes_sent"]) for r in rows
    } == {(utc(2020, 6, 8, 23, 41, 30, 78000), 304, "HIT", "SFO-fbae48ad", 157)}
    assert [r["client_key"] for r in rows] == ["89.160.20.156"] * 3  # ":9989" stripped on line 3


def test_doc_example_section_13_8():
    doc = shared_file("cdn-log-formats.md").read_text(encoding="utf-8")
    section = doc[doc.index("### 13.8 Google Cloud CDN") :]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block is not None
    rows = parse_bytes(block.group(1).encode()).rows.to_pylist()
    assert [(r["host"], r["path"], r["protocol"], r["cache_status"]) for r in rows] == [
        ("81.2.69.193", "/static/us/three-cats.jpg", None, "HIT"),
        ("81.2.69.193", "/static/us/three-cats.jpg", "HTTP/2.0", "HIT"),
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (SAMPLES / "live_match.log", True),
        (SAMPLES / "malformed.log", True),
        (REPO / "sample_logs" / "cloudflare" / "live_match.log", False),
        (REPO / "sample_logs" / "azure_front_door" / "live_match.log", False),
    ],
    ids=["live-match", "malformed", "cloudflare", "azure"],
)
def test_sniff(path, expected):
    assert gcp_cdn.sniff(path.read_text().splitlines()[:20], None) is expected


def test_sniff_needs_a_load_balancer_marker():
    other = json.dumps(
        {"httpRequest": {"requestMethod": "GET"}, "resource": {"type": "cloud_run_revision"}}
    )
    assert gcp_cdn.sniff([other], None) is False
    assert gcp_cdn.sniff([], None) is False
