"""Azure Front Door / Azure CDN access-log parser: the live-match sample, every cache value, envelopes, bad lines."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.formats import azure_front_door
from ingest.framing import decompress, frame
from ingest.records import ParseResult
from ingest.schema import AZURE_CACHE_STATUS

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "sample_logs" / "azure_front_door"
SHARED = REPO.parent / "shared"


def lines_of(data: bytes, name: str = "test.log"):
    return frame(decompress(data, name), source_file=name).lines


def parse_bytes(data: bytes, name: str = "test.log") -> ParseResult:
    return azure_front_door.parse(lines_of(data, name))


def parse_file(path: Path) -> ParseResult:
    return parse_bytes(path.read_bytes(), path.name)


def live_rows() -> dict[int, dict]:
    """Rows of the live-match sample by line number."""
    return {r["_source_line"]: r for r in parse_file(SAMPLES / "live_match.log").rows.to_pylist()}


def shared_file(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{relative} not available (Elastic-licensed, not copied into the repo)")
    return path


def utc(
    year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# (line, raw value, cache_status, cache_tier, served_from_cache, origin_request, detail)
CACHE_CASES = [
    (1, "HIT", "HIT", "edge", "yes", "none", None),
    (14, "TCP_HIT", "HIT", "edge", "yes", "none", None),
    (3, "REMOTE_HIT", "HIT", "parent", "yes", "none", None),
    (15, "TCP_REMOTE_HIT", "HIT", "parent", "yes", "none", None),
    (2, "MISS", "MISS", "unknown", "no", "full", None),
    (16, "TCP_MISS", "MISS", "unknown", "no", "full", None),
    (17, "TCP_EXPIRED_MISS", "MISS", "unknown", "no", "full", "EXPIRED"),
    (18, "TCP_CLIENT_REFRESH_MISS", "MISS", "unknown", "no", "full", None),
    (4, "PARTIAL_HIT", "PARTIAL_HIT", "edge", "partial", "full", None),
    (19, "TCP_PARTIAL_HIT", "PARTIAL_HIT", "edge", "partial", "full", None),
    (5, "CACHE_NOCONFIG", "PASS", "unknown", "no", "full", None),
    (8, "CONFIG_NOCACHE", "PASS", "unknown", "no", "full", None),
    (6, "PRIVATE_NOSTORE", "UNCACHEABLE", "unknown", "no", "full", None),
    (20, "UNCACHEABLE", "UNCACHEABLE", "unknown", "no", "full", None),
    (21, "TCP_EXPIRED_HIT", "REVALIDATED", "edge", "yes", "conditional", None),
    (7, "N/A", "SYNTHETIC", "unknown", "no", "none", None),
    (22, "NONE", "UNKNOWN", "unknown", "unknown", "unknown", None),
    (23, "WARM_HIT", "UNKNOWN", "unknown", "unknown", "unknown", None),  # not in the mapping
    (24, "hit", "HIT", "edge", "yes", "none", None),  # looked up upper-cased
    (10, "HIT", "HIT", "parent", "yes", "none", None),  # written by the origin shield
    (12, "MISS", "MISS", "unknown", "no", "failed", "OriginTimeout"),
]


@pytest.mark.parametrize(
    ("line", "raw", "status", "tier", "served", "origin", "detail"),
    CACHE_CASES,
    ids=[f"line{c[0]}-{c[1]}" for c in CACHE_CASES],
)
def test_cache_status_mapping(line, raw, status, tier, served, origin, detail):
    row = live_rows()[line]
    assert (row["cache_status_raw"], row["cache_status"], row["cache_tier"]) == (raw, status, tier)
    assert (row["served_from_cache"], row["origin_request"], row["cache_status_detail"]) == (
        served,
        origin,
        detail,
    )


def test_sample_covers_every_mapped_cache_value():
    raw_values = {r["cache_status_raw"] for r in live_rows().values()}
    assert set(AZURE_CACHE_STATUS) <= raw_values


def test_standard_premium_first_line_exact_values():
    row = live_rows()[1]
    expected = {
        "event_time": utc(2025, 11, 28, 14, 0, 7, 456000),  # 7 fractional digits, truncated to ms
        "event_time_kind": "response_end",
        "cdn": "azure",
        "source_format": "azure_front_door",
        "pop": "BOM",
        "host": "live.cricketstream.example",  # from requestUri, ':443' dropped
        "method": "GET",
        "path": "/live/ind-aus-t20-final/master.m3u8",
        "query": None,
        "status": 200,
        "is_viewer_request": True,
        "incomplete": False,
        "bytes_sent": 1620,
        "body_bytes": None,
        "request_bytes": 1840,
        "time_taken_ms": 2.0,
        "ttfb_ms": 2.0,
        "client_key": "203.0.113.81",
        "user_agent": "CricketLive/5.2.1 (Android 14; SM-S918B) ExoPlayer/2.19.1",
        "protocol": "HTTP/2.0",
        "request_id": "001TmZwAAAAB01xkQ4mV7xRqN2uB9yWUxBRURHRTA0MTgAMjA0Zjg3NWMtNmYzZi00NDlhLTlmNjEtZWQzMDhkMDM0ZDVh",
        "sample_weight": 1.0,
        "_source_line": 1,
    }
    assert {k: row[k] for k in expected} == expected


def test_pascal_case_properties_and_json_literals_read_the_same():
    rows = live_rows()
    # Line 14: AzureCdnAccessLog with PascalCase keys, ClientIP and POP spellings.
    assert (rows[14]["client_key"], rows[14]["pop"], rows[14]["bytes_sent"]) == (
        "203.0.113.94",
        "BOM",
        5120,
    )
    assert (rows[14]["method"], rows[14]["status"], rows[14]["protocol"]) == (
        "GET",
        200,
        "HTTP/1.1",
    )
    # Line 23: numbers and booleans as JSON literals.
    assert (rows[23]["status"], rows[23]["bytes_sent"], rows[23]["time_taken_ms"]) == (
        200,
        41000,
        38.0,
    )
    assert (rows[23]["protocol"], rows[24]["protocol"]) == ("HTTP/3.0", "HTTP/1.1")


def test_shield_duplicate_abort_and_origin_timeout():
    rows = live_rows()
    assert [line for line, r in rows.items() if not r["is_viewer_request"]] == [10]
    assert (rows[13]["status"], rows[13]["incomplete"], rows[13]["cache_status_detail"]) == (
        499,
        True,
        "ClientDisconnected",
    )
    # Azure logs status 0 for an origin timeout, not for a client abort.
    assert (rows[12]["status"], rows[12]["incomplete"]) == (0, False)
    assert [line for line, r in rows.items() if r["incomplete"]] == [13]
    assert (rows[6]["path"], rows[6]["query"]) == ("/api/v1/match/8812/score", "ts=1764338400")


def test_malformed_lines_are_rejected_with_reason_and_line():
    result = parse_file(SAMPLES / "malformed.log")
    assert [r["_source_line"] for r in result.rows.to_pylist()] == [1, 10]
    rejects = [
        (r["_source_line"], r["reason_code"], r["detail"]) for r in result.rejects.to_pylist()
    ]
    assert [(line, reason) for line, reason, _ in rejects] == [
        (2, "bad_json"),  # truncated
        (3, "bad_json"),  # not JSON
        (4, "unknown_format"),  # a WAF log record
        (5, "bad_timestamp"),
        (6, "missing_field"),
        (7, "bad_number"),
        (8, "bad_field_type"),  # cacheStatus is an array
        (9, "missing_field"),  # no properties
    ]
    details = {line: detail for line, _, detail in rejects}
    assert (details[4], details[5], details[6], details[7], details[9]) == (
        "category",
        "time",
        "httpStatusCode",
        "responseBytes",
        "properties",
    )
    assert {r["vendor"] for r in result.rejects.to_pylist()} == {"azure"}


@pytest.mark.parametrize("name", ["live_match.log", "malformed.log", "eventhub_records.json"])
def test_every_line_is_a_row_or_a_reject(name):
    data = (SAMPLES / name).read_bytes()
    assert parse_bytes(data, name).total == len(data.splitlines())


def test_empty_input():
    result = parse_bytes(b"")
    assert (result.rows.num_rows, result.rejects.num_rows) == (0, 0)


def test_records_envelope_is_rejected_without_unwrapping():
    rejects = parse_file(SAMPLES / "eventhub_records.json").rejects.to_pylist()
    assert [(r["_source_line"], r["reason_code"]) for r in rejects] == [
        (1, "missing_field"),
        (2, "missing_field"),
    ]
    assert rejects[0]["detail"].startswith("records envelope")


def test_unwrap_records_gives_one_line_per_record_with_lineage():
    data = (SAMPLES / "eventhub_records.json").read_bytes()
    plain = (SAMPLES / "live_match.log").read_bytes().splitlines()[0]
    broken = b'{"records":[{"time":"2025-11-28T14:00:00Z"'
    empty = b'{"records":[]}'
    lines = lines_of(data + plain + b"\n" + broken + b"\n" + empty + b"\n", "mixed.json")
    unwrapped = azure_front_door.unwrap_records(lines)
    assert unwrapped.schema == lines.schema
    assert unwrapped.column("_source_line").to_pylist() == [1, 1, 1, 2, 3, 4, 5]
    result = azure_front_door.parse(unwrapped)
    rows = result.rows.to_pylist()
    assert [(r["_source_line"], r["cache_status_raw"]) for r in rows] == [
        (1, "HIT"),
        (1, "MISS"),
        (1, "REMOTE_HIT"),
        (2, "PRIVATE_NOSTORE"),
        (3, "HIT"),
    ]
    assert [r["path"] for r in rows[:2]] == [
        "/live/ind-aus-t20-final/1080p/seg_1400.m4s",
        "/live/ind-aus-t20-final/1080p/seg_1401.m4s",
    ]
    # Envelopes that cannot be unwrapped stay as they are and are rejected with a reason.
    assert [(r["_source_line"], r["reason_code"]) for r in result.rejects.to_pylist()] == [
        (4, "bad_json"),
        (5, "missing_field"),
    ]


def test_unwrap_records_leaves_plain_lines_alone():
    lines = lines_of((SAMPLES / "live_match.log").read_bytes())
    assert azure_front_door.unwrap_records(lines) is lines


def test_elastic_classic_fixture():
    result = parse_file(shared_file("real_logs/azure_frontdoor/test-fdaccess.log"))
    rows = result.rows.to_pylist()
    assert (len(rows), result.rejects.num_rows) == (3, 0)
    first = rows[0]
    expected = {
        "event_time": utc(2021, 12, 15, 3, 10, 11, 647000),
        "pop": "SIN",
        "host": "erp.testcloud.com",
        "method": "POST",
        "path": "/StockSetup/GetStockListByCir",
        "status": 200,
        "cache_status": "PASS",
        "cache_status_raw": "CONFIG_NOCACHE",
        "bytes_sent": 1205,
        "request_bytes": 2545,
        "time_taken_ms": 384.0,
        "client_key": "89.160.20.128",
        "protocol": "HTTP/2.0",
        "is_viewer_request": True,
    }
    assert {k: first[k] for k in expected} == expected
    assert [r["method"] for r in rows] == ["POST", "GET", "GET"]


def test_doc_example_section_13_9():
    doc = shared_file("cdn-log-formats.md").read_text(encoding="utf-8")
    section = doc[doc.index("### 13.9 Azure Front Door") :]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block is not None
    rows = parse_bytes(block.group(1).encode()).rows.to_pylist()
    assert [(r["event_time"], r["bytes_sent"], r["cache_status"]) for r in rows] == [
        (utc(2021, 12, 15, 3, 10, 11, 647000), 1205, "PASS"),
        (utc(2021, 12, 15, 3, 35, 49, 926000), 2308, "PASS"),
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (SAMPLES / "live_match.log", True),
        (SAMPLES / "eventhub_records.json", True),
        (REPO / "sample_logs" / "cloudflare" / "live_match.log", False),
        (REPO / "sample_logs" / "gcp_cdn" / "live_match.log", False),
    ],
    ids=["live-match", "eventhub-envelope", "cloudflare", "gcp"],
)
def test_sniff(path, expected):
    assert azure_front_door.sniff(path.read_text().splitlines()[:20], None) is expected


def test_sniff_ignores_other_azure_resource_logs():
    waf = json.dumps({"category": "ApplicationGatewayAccessLog", "properties": {"httpStatus": 200}})
    assert azure_front_door.sniff([waf], None) is False
    assert azure_front_door.sniff([], None) is False
