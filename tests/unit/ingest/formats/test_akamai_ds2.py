"""Akamai DataStream 2 parser: Datadog's real record, Akamai's SDK sample, edge cases."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.formats import akamai_ds2
from ingest.framing import decompress, frame
from ingest.records import ParseResult
from ingest.schema import AKAMAI_CACHE_STATUS, STATUS_FLAGS

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "fixtures" / "real_logs" / "akamai_datastream2"
SAMPLES = REPO / "sample_logs" / "akamai_ds2"
BASE = {
    "version": "4",
    "reqTimeSec": "1741510800.118",
    "reqHost": "live.cricketstream.example",
    "reqMethod": "GET",
    "reqPath": "live/ind-aus-final/master.m3u8",
    "queryStr": "-",
    "statusCode": "200",
    "cacheStatus": "1",
    "bytes": "1187",
    "totalBytes": "1642",
    "cliIP": "203.0.113.10",
}
# DS2 field id -> key (format notes section 5), for checking STRUCTURED_FIELDS.
FIELD_KEYS = {
    1000: "cp", 1002: "reqId", 1100: "reqTimeSec", 1005: "bytes", 1101: "field_1101",
    1006: "cliIP", 1008: "statusCode", 1009: "proto", 1011: "reqHost", 1012: "reqMethod",
    1013: "reqPath", 1014: "reqPort", 1015: "rspContentLen", 1016: "rspContentType",
    1017: "UA", 1019: "accLang", 1023: "cookie", 1031: "range", 1032: "referer",
    1037: "xForwardedFor", 1033: "reqEndTimeMSec", 1102: "turnAroundTimeMSec",
    1103: "transferTimeMSec", 1066: "edgeIP", 1068: "errorCode", 1082: "customField",
    2001: "tlsOverheadTimeMSec", 2002: "tlsVersion", 2003: "objSize", 2004: "uncompressedSize",
    2005: "maxAgeSec", 2006: "overheadBytes", 2007: "dnsLookupTimeMSec", 2008: "totalBytes",
    2009: "queryStr", 2010: "cacheStatus", 2011: "cacheRefreshSrc",
}  # fmt: skip


def parse_bytes(data: bytes, name: str = "test.log") -> ParseResult:
    framed = frame(decompress(data, name), source_file=name)
    result = akamai_ds2.parse(framed.lines)
    assert result.total == framed.lines.num_rows
    return result


def parse_lines(*lines: str) -> ParseResult:
    return parse_bytes("".join(f"{line}\n" for line in lines).encode())


def one(**overrides: str | None) -> dict:
    """The canonical row of BASE with `overrides` (None removes a key)."""
    record = {k: v for k, v in {**BASE, **overrides}.items() if v is not None}
    result = parse_lines(json.dumps(record))
    assert result.rejects.num_rows == 0, result.rejects.to_pylist()
    return result.rows.to_pylist()[0]


def rejects_of(result: ParseResult) -> list[tuple[int, str]]:
    return [(r["_source_line"], r["reason_code"]) for r in result.rejects.to_pylist()]


def test_datadog_record_matches_datadogs_expected_result():
    yaml = pytest.importorskip("yaml")  # PyYAML is not a declared dependency
    case = yaml.safe_load((FIXTURES / "akamai.datastream_tests.yaml").read_text())["tests"][0]
    # Published pretty-printed; DataStream delivers one compact object per line.
    line = json.dumps(json.loads(case["sample"]))
    want = case["result"]["custom"]
    rows = parse_lines(line).rows.to_pylist()
    assert len(rows) == 1
    row = rows[0]
    assert row["event_time"] == datetime.fromtimestamp(case["result"]["timestamp"] / 1000, tz=UTC)
    assert row["event_time"] == datetime(2022, 2, 22, 22, 16, 27, 280000, tzinfo=UTC)
    assert row["event_time_kind"] == "request_start"
    assert (row["cdn"], row["source_format"]) == ("akamai", "akamai_ds2")
    assert row["status"] == want["http"]["status_code"] == 200
    assert row["method"] == want["http"]["method"]
    assert row["host"] == want["http"]["url_details"]["host"]
    assert row["path"] == "/" + want["http"]["url_details"]["path"] == "/Tiger.pdf"
    assert row["query"] is None  # queryString "-"
    assert row["request_id"] == want["http"]["request_id"]
    assert row["user_agent"] == want["http"]["useragent"]
    assert row["bytes_sent"] == want["network"]["bytes_written"] == 405330
    assert row["body_bytes"] == int(want["bytes"]) == 376255
    assert row["client_key"] == want["network"]["client"]["ip"]
    assert row["client_country"] == want["network"]["client"]["geoip"]["country"]["iso_code"]
    assert row["time_taken_ms"] == float(want["duration"]) / 1e6 == 11.0  # Datadog: nanoseconds
    assert row["ttfb_ms"] == 3.0  # reqEndTimeMSec 2 + turnAroundTimeMSec 1
    assert (row["max_age_s"], row["content_type"], row["protocol"]) == (
        86400,
        "application/pdf",
        "HTTP/1.1",
    )
    assert (row["cache_status"], row["cache_status_raw"]) == ("HIT", "1")
    assert (row["served_from_cache"], row["origin_request"], row["cache_tier"]) == (
        "yes",
        "none",
        "unknown",
    )
    assert (row["is_viewer_request"], row["incomplete"], row["pop"]) == (True, False, None)


def test_structured_fields_follow_the_sdk_stream_config():
    config = json.loads((FIXTURES / "stream.json").read_text())
    fields = sorted(
        (f for g in config["datasets"] for f in g["datasetFields"]), key=lambda f: f["order"]
    )
    expected = ("version", *(FIELD_KEYS[f["datasetFieldId"]] for f in fields))
    assert expected == akamai_ds2.STRUCTURED_FIELDS
    assert config["config"]["format"] == "STRUCTURED"


def test_sdk_structured_sample_matches_sdk_aggregate():
    result = parse_bytes((FIXTURES / "test-data-custom.gz").read_bytes(), "test-data-custom.gz")
    assert (result.rows.num_rows, result.rejects.num_rows) == (30, 0)
    rows = result.rows.to_pylist()
    with (FIXTURES / "2ee232a8-d8b5-498b-8182-13d569d60423.csv").open() as f:
        agg = next(r for r in csv.DictReader(f) if r["req_5min"] == "2020-11-30 20:35:00.000")
    start = datetime(2020, 11, 30, 20, 35, tzinfo=UTC)
    assert all(start <= r["event_time"] < start.replace(minute=40) for r in rows)
    assert len(rows) == int(agg["totalRequests"])
    statuses = Counter(r["status"] // 100 for r in rows)
    assert [statuses[c] for c in range(1, 6)] == [int(agg[f"{c}xx"]) for c in range(1, 6)]
    caches = Counter(r["cache_status"] for r in rows)
    assert (caches["HIT"], caches["MISS"]) == (int(agg["numCacheHit"]), int(agg["numCacheMiss"]))
    assert 100 * caches["HIT"] / len(rows) == float(agg["offloadRate"])
    assert sum(r["body_bytes"] for r in rows) == int(agg["TotalBytes"])
    assert {r["user_agent"] for r in rows} == {agg["user_agent"]}
    first = rows[0]
    assert first["event_time"] == datetime(2020, 11, 30, 20, 35, 11, tzinfo=UTC)
    assert (first["host"], first["path"]) == (
        "mediasec_security_policy.edgesuite.net.ipa",
        "/zone2/41/policy_5287.esi",
    )
    assert (first["request_id"], first["client_key"], first["content_type"]) == (
        "3d6ab88.1.1",
        "127.0.0.1",
        "text/plain",
    )
    assert (first["bytes_sent"], first["body_bytes"]) == (1234, 3241)
    assert (first["time_taken_ms"], first["ttfb_ms"]) == (4.0, 2.0)
    assert first["protocol"] is None  # the structured sample logs the scheme, 'HTTP'


@pytest.mark.parametrize("value", sorted(AKAMAI_CACHE_STATUS), ids=str)
def test_every_cache_status_value(value):
    row = one(cacheStatus=value)
    status = AKAMAI_CACHE_STATUS[value]
    served, origin = STATUS_FLAGS[status]
    assert (row["cache_status"], row["cache_status_raw"]) == (status.value, value)
    assert (row["served_from_cache"], row["origin_request"]) == (served.value, origin.value)
    assert row["cache_tier"] == "unknown"


@pytest.mark.parametrize(
    ("cache_status", "cacheable", "status", "raw"),
    [
        ("0", "0", "UNCACHEABLE", "0/0"),
        ("0", "1", "MISS", "0/1"),
        ("1", "0", "HIT", "1/0"),
        ("1", "-", "HIT", "1"),
        ("-", None, "UNKNOWN", None),
        ("^", None, "UNKNOWN", None),
        ("", None, "UNKNOWN", None),
        (None, None, "UNKNOWN", None),
        ("-", "0", "UNKNOWN", "-/0"),
        ("2", None, "UNKNOWN", "2"),
    ],
    ids=[
        "uncacheable",
        "cacheable-miss",
        "hit-cacheable-0",
        "cacheable-dash",
        "dash",
        "caret",
        "empty",
        "absent",
        "dash-cacheable-0",
        "unknown-value",
    ],
)
def test_cacheable_and_unknown_values(cache_status, cacheable, status, raw):
    row = one(cacheStatus=cache_status, cacheable=cacheable)
    assert (row["cache_status"], row["cache_status_raw"]) == (status, raw)
    if status == "UNCACHEABLE":
        assert (row["served_from_cache"], row["origin_request"]) == ("no", "full")
    if status == "UNKNOWN":
        assert (row["served_from_cache"], row["origin_request"]) == ("unknown", "unknown")


def test_cache_refresh_source_is_the_detail():
    row = one(cacheStatus="0", cacheRefreshSrc="origin")
    assert (row["cache_status"], row["cache_status_detail"]) == ("MISS", "origin")


def test_status_zero_is_an_aborted_request():
    row = one(statusCode="0")
    assert (row["status"], row["incomplete"]) == (0, True)


@pytest.mark.parametrize(
    ("value", "viewer"),
    [
        ("1", False),
        ("true", False),
        ("TRUE", False),
        ("yes", False),
        ("0", True),
        ("false", True),
        ("-", True),
        (None, True),
    ],
    ids=str,
)
def test_midgress_lines_are_not_viewer_requests(value, viewer):
    assert one(isMidgress=value)["is_viewer_request"] is viewer


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Tiger.pdf", "/Tiger.pdf"),
        ("/already/slashed.m3u8", "/already/slashed.m3u8"),
        ("img/players/Virat%20Kohli.webp", "/img/players/Virat Kohli.webp"),
        ("-", "/"),
    ],
    ids=["no-slash", "slash", "encoded", "root-dash"],
)
def test_request_path(path, expected):
    assert one(reqPath=path)["path"] == expected


def test_query_string_is_kept_raw():
    row = one(reqPath="api/v1/match/48213/score", queryStr="ts=1741510800&x=%2F")
    assert (row["path"], row["query"]) == ("/api/v1/match/48213/score", "ts=1741510800&x=%2F")


def test_optional_fields():
    row = one(
        serverCountry="in",
        timeToFirstByte="44",
        reqEndTimeMSec="1",
        turnAroundTimeMSec="43",
        transferTimeMSec="145",
        UA="CricketLive/5.2.1%20(Android%2014)",
        proto="HTTP/2",
        maxAgeSec="3600",
        rspContentType="video/iso.segment",
        country="IN",
        reqId="4a1e0822",
    )
    assert (row["pop"], row["ttfb_ms"], row["time_taken_ms"]) == ("IN", 44.0, 189.0)
    assert (row["user_agent"], row["protocol"]) == ("CricketLive/5.2.1 (Android 14)", "HTTP/2.0")
    assert (row["max_age_s"], row["content_type"], row["request_id"]) == (
        3600,
        "video/iso.segment",
        "4a1e0822",
    )
    bare = one()
    assert (bare["pop"], bare["time_taken_ms"], bare["ttfb_ms"], bare["protocol"]) == (
        None,
        None,
        None,
        None,
    )


def test_bare_json_numbers_are_accepted():
    line = (
        '{"reqTimeSec":1741510800.118,"reqHost":"a.example","reqMethod":"GET","reqPath":"x",'
        '"statusCode":200,"cacheStatus":1,"cacheable":0,"bytes":10,"totalBytes":20}'
    )
    row = parse_lines(line).rows.to_pylist()[0]
    assert row["event_time"] == datetime(2025, 3, 9, 9, 0, 0, 118000, tzinfo=UTC)
    assert (row["status"], row["cache_status"], row["cache_status_raw"]) == (200, "HIT", "1/0")
    assert (row["body_bytes"], row["bytes_sent"]) == (10, 20)


def test_json_and_structured_lines_mix_in_order():
    structured = (SAMPLES / "structured.log").read_text().splitlines()
    tabbed = structured[1].replace(" ", "\t")
    result = parse_lines(json.dumps(BASE), structured[0], json.dumps(BASE), tabbed)
    rows = result.rows.to_pylist()
    assert [r["_source_line"] for r in rows] == [1, 2, 3, 4]
    assert [r["request_id"] for r in rows] == [None, "4a1e0901", None, "4a1e0912"]
    assert rows[3]["query"] == "ts=1741510803"


def test_malformed_sample_reasons_and_lines():
    result = parse_bytes((SAMPLES / "malformed.log").read_bytes(), "malformed.log")
    assert rejects_of(result) == [
        (1, "bad_json"),  # truncated
        (2, "bad_timestamp"),
        (3, "missing_field"),  # no reqPath
        (4, "bad_status"),
        (6, "bad_number"),  # bytes '1.2MB'
        (7, "bad_field_count"),  # structured line cut short
        (8, "bad_field_type"),  # bytes is an object
        (9, "missing_field"),  # no statusCode
    ]
    assert [r["_source_line"] for r in result.rows.to_pylist()] == [5]
    details = {r["_source_line"]: r["detail"] for r in result.rejects.to_pylist()}
    assert details[3] == "reqPath"
    assert details[7] == "expected 38 fields, got 15"


def test_empty_input():
    result = parse_bytes(b"")
    assert (result.rows.num_rows, result.rejects.num_rows) == (0, 0)


@pytest.mark.parametrize(
    "path",
    [SAMPLES / "json_stream.log", SAMPLES / "structured.log", FIXTURES / "test-data-custom.gz"],
    ids=lambda p: p.name,
)
def test_sniff_claims_ds2_shapes(path):
    text = decompress(path.read_bytes(), path.name).decode()
    assert akamai_ds2.sniff(text.splitlines()[:20], None)


OTHER_VENDORS = [
    "fastly",
    "cloudflare",
    "gcp_cdn",
    "azure_front_door",
    "cloudfront",
    "cloudfront_realtime",
    "nginx",
    "varnish",
]


@pytest.mark.parametrize("vendor", OTHER_VENDORS)
def test_sniff_does_not_claim_other_vendors(vendor):
    samples = sorted(
        p for p in (REPO / "sample_logs" / vendor).glob("*.log") if p.name != "malformed.log"
    )
    if not samples:
        pytest.skip(f"no {vendor} samples yet")
    for sample in samples:
        assert not akamai_ds2.sniff(sample.read_text().splitlines()[:20], None), sample.name


def test_sniff_rejects_headers_and_empty_samples():
    assert not akamai_ds2.sniff([], None)
    assert not akamai_ds2.sniff([json.dumps(BASE)], "date time x-edge-location")


def test_quoted_and_bare_lines_mix_in_one_batch():
    bare = json.dumps({**BASE, "statusCode": 0, "cacheStatus": 0, "bytes": 5})
    rows = parse_lines(json.dumps(BASE), bare, json.dumps(BASE)).rows.to_pylist()
    assert [(r["status"], r["cache_status"], r["body_bytes"]) for r in rows] == [
        (200, "HIT", 1187),
        (0, "MISS", 5),
        (200, "HIT", 1187),
    ]


@pytest.mark.parametrize(
    "value", ["1" * 40, "0", "-5", "1e300", "1741510800120", "2025-03-09T09:00:00Z"], ids=str
)
def test_unreadable_or_implausible_request_times_are_rejected(value):
    reject = parse_lines(json.dumps({**BASE, "reqTimeSec": value})).rejects.to_pylist()[0]
    assert (reject["reason_code"], reject["_source_line"]) == ("bad_timestamp", 1)
