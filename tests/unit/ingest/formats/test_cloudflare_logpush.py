"""Cloudflare Logpush http_requests parser: real samples, the live-match sample, every cache value, bad lines."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from ingest.formats import cloudflare_logpush
from ingest.framing import KafkaPositions, decompress, frame
from ingest.records import ParseResult
from ingest.schema import CLOUDFLARE_CACHE_STATUS

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "fixtures" / "real_logs" / "cloudflare"
SAMPLES = REPO / "sample_logs" / "cloudflare"
SHARED = REPO.parent / "shared"


def parse_bytes(data: bytes, name: str = "test.log") -> ParseResult:
    return cloudflare_logpush.parse(frame(decompress(data, name), source_file=name).lines)


def parse_file(path: Path) -> ParseResult:
    return parse_bytes(path.read_bytes(), path.name)


def live_rows() -> dict[int, dict]:
    """Rows of the live-match sample by line number."""
    return {r["_source_line"]: r for r in parse_file(SAMPLES / "live_match.log").rows.to_pylist()}


def live_line(number: int) -> dict:
    """Line `number` of the live-match sample as a dict, to build variants from."""
    return json.loads((SAMPLES / "live_match.log").read_text().splitlines()[number - 1])


def variant(number: int, **changes: object) -> bytes:
    record = live_line(number)
    record.update(changes)
    return json.dumps(record).encode()


def shared_file(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{relative} not available (Elastic-licensed, not copied into the repo)")
    return path


def doc_blocks(heading: str) -> list[bytes]:
    """Every fenced block of one section of the shared format notes (skip if absent)."""
    text = shared_file("cdn-log-formats.md").read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    section = section[: section.index("\n### ", 1)]
    return [m.encode() for m in re.findall(r"```[a-z]*\n(.*?)```", section, re.DOTALL)]


def utc(
    year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# (line, raw value, cache_status, served_from_cache, origin_request, cache_tier, detail)
CACHE_CASES = [
    (1, "hit", "HIT", "yes", "none", "edge", None),
    (3, "hit", "HIT", "yes", "none", "parent", None),  # CacheTieredFill true
    (5, "stream_hit", "HIT", "yes", "none", "edge", None),
    (4, "miss", "MISS", "no", "full", "unknown", None),
    (2, "expired", "MISS", "no", "full", "unknown", "EXPIRED"),
    (6, "revalidated", "REVALIDATED", "yes", "conditional", "edge", None),
    (7, "updating", "HIT_UPDATING", "yes", "background", "parent", None),  # UpperTierColoID 27
    (8, "stale", "HIT_STALE", "yes", "failed", "edge", None),
    (10, "bypass", "UNCACHEABLE", "no", "full", "unknown", None),
    (11, "dynamic", "PASS", "no", "full", "unknown", None),  # origin answered 204
    (12, "dynamic", "PASS", "no", "none", "unknown", None),  # WAF block, OriginResponseStatus 0
    (13, "unknown", "SYNTHETIC", "no", "none", "unknown", None),  # redirect, no origin
    (14, "unknown", "UNKNOWN", "unknown", "unknown", "unknown", None),  # origin answered 200
    (15, "ignored", "UNKNOWN", "unknown", "unknown", "unknown", None),
    (16, "deferred", "UNKNOWN", "unknown", "unknown", "unknown", None),
    (
        17,
        "cache_reserve_hit",
        "UNKNOWN",
        "unknown",
        "unknown",
        "unknown",
        None,
    ),  # not in the mapping
]


@pytest.mark.parametrize(
    ("line", "raw", "status", "served", "origin", "tier", "detail"),
    CACHE_CASES,
    ids=[f"line{c[0]}-{c[1]}" for c in CACHE_CASES],
)
def test_cache_status_mapping(line, raw, status, served, origin, tier, detail):
    row = live_rows()[line]
    got = (
        row["cache_status_raw"],
        row["cache_status"],
        row["served_from_cache"],
        row["origin_request"],
    )
    assert got == (raw, status, served, origin)
    assert (row["cache_tier"], row["cache_status_detail"]) == (tier, detail)


def test_sample_covers_every_mapped_cache_value():
    raw_values = {r["cache_status_raw"] for r in live_rows().values()}
    assert set(CLOUDFLARE_CACHE_STATUS) <= raw_values


def test_live_match_first_line_exact_values():
    row = live_rows()[1]
    expected = {
        "event_time": utc(2025, 11, 28, 14, 0, 7, 123000),
        "event_time_kind": "request_start",
        "cdn": "cloudflare",
        "source_format": "cloudflare_logpush",
        "pop": "BOM",
        "host": "live.cricketstream.example",
        "method": "GET",
        "path": "/live/ind-aus-t20-final/master.m3u8",
        "query": None,
        "status": 200,
        "is_viewer_request": True,
        "incomplete": False,
        "bytes_sent": 1620,
        "body_bytes": 1210,
        "request_bytes": 1840,
        "time_taken_ms": 38.0,
        "ttfb_ms": 2.0,
        "content_type": "application/vnd.apple.mpegurl",
        "client_country": "IN",
        "client_key": "203.0.113.11",
        "user_agent": "CricketLive/5.2.1 (Android 14; Pixel 8) ExoPlayer/2.19.1",
        "protocol": "HTTP/2.0",
        "request_id": "8e9a0c015b1f01bom",
        "sample_weight": 1.0,
        "_source_file": "live_match.log",
        "_source_line": 1,
    }
    assert {k: row[k] for k in expected} == expected


TIMESTAMP_CASES = [
    (1, "unixnano-number", utc(2025, 11, 28, 14, 0, 7, 123000), 38.0),
    (3, "unixnano-string", utc(2025, 11, 28, 14, 0, 21, 123000), 38.0),
    (4, "unix-number", utc(2025, 11, 28, 14, 0, 28), None),
    (6, "unix-string", utc(2025, 11, 28, 14, 0, 42), None),
    (5, "rfc3339", utc(2025, 11, 28, 14, 0, 35), None),
]


@pytest.mark.parametrize(
    ("line", "style", "event_time", "time_taken"),
    TIMESTAMP_CASES,
    ids=[c[1] for c in TIMESTAMP_CASES],
)
def test_every_logpush_timestamp_format_in_one_file(line, style, event_time, time_taken):
    row = live_rows()[line]
    # time_taken_ms is derived only from nanosecond timestamps: second precision would lie.
    assert (row["event_time"], row["time_taken_ms"]) == (event_time, time_taken)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-28T14:00:07.5Z", utc(2025, 11, 28, 14, 0, 7, 500000)),
        ("2025-11-28T15:00:07+01:00", utc(2025, 11, 28, 14, 0, 7)),
        (1764338407123, utc(2025, 11, 28, 14, 0, 7, 123000)),
        (1764338407123456, utc(2025, 11, 28, 14, 0, 7, 123000)),
        ("1764338407.25", utc(2025, 11, 28, 14, 0, 7, 250000)),
    ],
    ids=["rfc3339-fraction", "rfc3339-offset", "unix-millis", "unix-micros", "unix-decimal"],
)
def test_other_timestamp_spellings(value, expected):
    row = parse_bytes(variant(1, EdgeStartTimestamp=value)).rows.to_pylist()[0]
    assert row["event_time"] == expected


def test_non_eyeball_sources_and_worker_subrequests_are_not_viewer_requests():
    rows = live_rows()
    viewer = {line: r["is_viewer_request"] for line, r in rows.items()}
    assert viewer[18] is False  # edgeWorkerFetch + WorkerSubrequest
    assert viewer[19] is False  # purge
    assert [line for line, v in viewer.items() if not v] == [18, 19]


def test_client_abort_sample_interval_and_percent_encoded_path():
    rows = live_rows()
    assert (rows[20]["status"], rows[20]["incomplete"], rows[20]["cache_status"]) == (
        499,
        True,
        "HIT",
    )
    assert rows[21]["sample_weight"] == 10.0
    assert rows[21]["path"] == "/img/players/Rohit Sharma 45.webp"
    assert (rows[8]["path"], rows[8]["query"]) == ("/api/v1/match/8812/score", "ts=1764338400")
    assert rows[8]["content_type"] == "application/json"
    assert rows[11]["content_type"] is None  # "" means no value
    assert (rows[13]["protocol"], rows[16]["protocol"]) == ("HTTP/1.1", "HTTP/3.0")


def test_path_falls_back_to_client_request_path_without_uri():
    record = live_line(8)
    del record["ClientRequestURI"]
    row = parse_bytes(json.dumps(record).encode()).rows.to_pylist()[0]
    assert (row["path"], row["query"]) == ("/api/v1/match/8812/score", None)


def test_unknown_without_origin_status_field_uses_edge_server_ip():
    record = live_line(13)
    del record["OriginResponseStatus"]
    row = parse_bytes(json.dumps(record).encode()).rows.to_pylist()[0]
    assert row["cache_status"] == "SYNTHETIC"  # EdgeServerIP "" = no origin request


def test_malformed_lines_are_rejected_with_reason_and_line():
    result = parse_file(SAMPLES / "malformed.log")
    assert [r["_source_line"] for r in result.rows.to_pylist()] == [1, 10]
    rejects = [
        (r["_source_line"], r["reason_code"], r["detail"]) for r in result.rejects.to_pylist()
    ]
    assert [(line, reason) for line, reason, _ in rejects] == [
        (2, "bad_json"),  # truncated
        (3, "bad_json"),  # not JSON
        (4, "bad_json"),  # an array
        (5, "missing_field"),
        (6, "bad_timestamp"),
        (7, "missing_field"),
        (8, "bad_number"),
        (9, "bad_field_type"),  # EdgeResponseStatus is an object
    ]
    details = {line: detail for line, _, detail in rejects}
    assert details[5] == "EdgeStartTimestamp"
    assert details[7] == "ClientRequestMethod"
    assert details[8] == "EdgeResponseBytes"
    assert {r["vendor"] for r in result.rejects.to_pylist()} == {"cloudflare"}
    assert result.rejects.column("raw")[0].as_py().startswith(b'{"CacheCacheStatus":"hit"')


@pytest.mark.parametrize("name", ["live_match.log", "malformed.log"])
def test_every_line_is_a_row_or_a_reject(name):
    data = (SAMPLES / name).read_bytes()
    result = parse_bytes(data, name)
    assert result.total == len(data.splitlines())


def test_empty_input():
    result = parse_bytes(b"")
    assert (result.rows.num_rows, result.rejects.num_rows) == (0, 0)


def test_kafka_lineage_is_carried_through():
    data = (SAMPLES / "live_match.log").read_bytes()
    second = data.index(b"\n") + 1
    kafka = KafkaPositions(
        "cdn.cloudflare", 3, starts=np.array([0, second]), offsets=np.array([1200, 1201])
    )
    result = cloudflare_logpush.parse(
        frame(data[: data.index(b"\n", second) + 1], kafka=kafka).lines
    )
    keys = ("_source_topic", "_source_partition", "_source_offset", "_source_line")
    lineage = [tuple(r[k] for k in keys) for r in result.rows.to_pylist()]
    assert lineage == [("cdn.cloudflare", 3, 1200, 1), ("cdn.cloudflare", 3, 1201, 1)]


def test_otel_all_fields_record_exact_values():
    result = parse_file(FIXTURES / "all_fields.txt")
    assert (result.rows.num_rows, result.rejects.num_rows) == (1, 0)
    row = result.rows.to_pylist()[0]
    expected = {
        "event_time": utc(2023, 3, 3, 5, 29, 6),
        "pop": "ORD",
        "host": "www.theburritobot2.com",
        "method": "GET",
        "path": "/product/66VCHSJNUP",
        "query": None,
        "status": 200,
        "cache_status": "PASS",
        "cache_status_raw": "dynamic",
        "served_from_cache": "no",
        "origin_request": "full",
        "is_viewer_request": True,
        "bytes_sent": 2301,
        "body_bytes": 1963,
        "request_bytes": 2667,
        "ttfb_ms": 28.0,
        "content_type": "text/html",
        "client_country": "US",
        "client_key": "47.35.104.49",
        "protocol": "HTTP/2.0",
        "request_id": "7a1f7ad4df2f870a",
        "time_taken_ms": None,
    }
    assert {k: row[k] for k in expected} == expected


def test_otel_minimal_records_without_cache_fields():
    rows = parse_file(FIXTURES / "multiple_log_payload.txt").rows.to_pylist()
    assert [r["host"] for r in rows] == [f"www.theburritobot{i}.com" for i in range(5)]
    assert {(r["cache_status"], r["cache_status_raw"], r["served_from_cache"]) for r in rows} == {
        ("UNKNOWN", None, "unknown")
    }
    assert {
        (r["event_time"], r["path"], r["bytes_sent"], r["is_viewer_request"]) for r in rows
    } == {(utc(2023, 3, 3, 5, 29, 5), "/static/img/testimonial-hipster.png", 69045, True)}


def test_elastic_pipeline_records_same_time_in_three_timestamp_formats():
    result = parse_file(shared_file("real_logs/cloudflare/test-pipeline-http-request.log"))
    rows = result.rows.to_pylist()
    assert (len(rows), result.rejects.num_rows) == (5, 0)
    assert {r["event_time"] for r in rows} == {utc(2022, 5, 25, 13, 25, 26)}
    assert [r["time_taken_ms"] for r in rows] == [None, None, None, 6000.0, 6000.0]
    assert {
        (r["is_viewer_request"], r["cache_status"], r["pop"], r["client_country"]) for r in rows
    } == {
        (False, "PASS", "RUH", "SA")  # ClientRequestSource edgeWorkerFetch
    }


def test_doc_examples_section_13_7():
    minimal, _csv, mock = doc_blocks("### 13.7 Cloudflare")
    # The docs' 3-field example has no method, status or path: not an http_requests row.
    rejects = parse_bytes(minimal).rejects.to_pylist()
    assert [(r["_source_line"], r["reason_code"], r["detail"]) for r in rejects] == [
        (n, "missing_field", "ClientRequestMethod") for n in (1, 2, 3)
    ]
    rows = parse_bytes(mock).rows.to_pylist()
    assert [(r["cache_status"], r["cache_tier"], r["is_viewer_request"]) for r in rows] == [
        ("HIT", "parent", False),  # tiered hit, Worker subrequest
        ("SYNTHETIC", "unknown", True),  # firewall block, no origin
    ]
    assert (rows[1]["status"], rows[1]["pop"], rows[1]["client_country"]) == (403, "AMS", "NL")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (SAMPLES / "live_match.log", True),
        (FIXTURES / "all_fields.txt", True),
        (FIXTURES / "multiple_log_payload.txt", True),
        (REPO / "sample_logs" / "gcp_cdn" / "live_match.log", False),
        (REPO / "sample_logs" / "azure_front_door" / "live_match.log", False),
    ],
    ids=["live-match", "otel-all-fields", "otel-minimal", "gcp", "azure"],
)
def test_sniff(path, expected):
    assert cloudflare_logpush.sniff(path.read_text().splitlines()[:20], None) is expected


def test_sniff_rejects_w3c_and_plain_text():
    assert (
        cloudflare_logpush.sniff(["2019-12-04\t21:02:31\tLAX1\t392"], "date time x-edge-location")
        is False
    )
    assert (
        cloudflare_logpush.sniff(
            ['1.2.3.4 - - [28/Nov/2025:14:00:00 +0000] "GET / HTTP/1.1" 200 5'], None
        )
        is False
    )
    assert cloudflare_logpush.sniff([], None) is False
