"""CloudFront standard (W3C) parser: real published samples, AWS doc examples, edge cases."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.formats import cloudfront
from ingest.framing import decompress, frame
from ingest.records import ParseResult
from ingest.schema import CLOUDFRONT_EDGE_ERRORS, CLOUDFRONT_ORIGIN_ERRORS, CLOUDFRONT_RESULT_TYPES

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "fixtures" / "real_logs" / "cloudfront"
SAMPLES = REPO / "sample_logs" / "cloudfront"
SHARED = REPO.parent / "shared"
UA_CHROME_78 = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/78.0.3904.108 Safari/537.36"
)


def parse_bytes(data: bytes, name: str = "test.log") -> tuple[ParseResult, int]:
    """Parse result and the number of framing rejects, through the real framing path."""
    framed = frame(decompress(data, name), source_file=name)
    return cloudfront.parse(framed.lines), framed.rejects.num_rows


def parse_file(path: Path) -> ParseResult:
    return parse_bytes(path.read_bytes(), path.name)[0]


def rows_of(path: Path) -> list[dict]:
    return parse_file(path).rows.to_pylist()


def rejects_of(result: ParseResult) -> list[tuple[int, str]]:
    return [(r["_source_line"], r["reason_code"]) for r in result.rejects.to_pylist()]


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def doc_block(heading: str) -> bytes:
    """The first fenced block after `heading` in the shared format notes (skip if absent)."""
    doc = SHARED / "cdn-log-formats.md"
    if not doc.exists():
        pytest.skip("shared format notes not available")
    text = doc.read_text(encoding="utf-8")
    after = text[text.index(heading) :]
    match = re.search(r"```[a-z]*\n(.*?)```", after, re.DOTALL)
    assert match is not None
    return match.group(1).encode()


def with_fields(line: str, **changes: str) -> str:
    """`line` with fields replaced by position, e.g. f13='Miss'."""
    fields = line.split("\t")
    for key, value in changes.items():
        fields[int(key[1:])] = value
    return "\t".join(fields)


def test_crates_io_basic_log_first_line_exact_values():
    result = parse_file(FIXTURES / "basic.log")
    assert (result.rows.num_rows, result.rejects.num_rows) == (20, 0)
    row = result.rows.to_pylist()[0]
    expected = {
        "event_time": utc(2024, 1, 16, 23, 56, 42),
        "event_time_kind": "response_end",
        "cdn": "cloudfront",
        "source_format": "cloudfront_standard",
        "pop": "CMH68-P2",
        "host": "static.crates.io",
        "method": "GET",
        "path": "/crates/bindgen/bindgen-0.65.1.crate",
        "query": None,
        "status": 200,
        "cache_status": "HIT",
        "cache_status_raw": "Hit/Hit/Hit",
        "cache_status_detail": None,
        "cache_tier": "unknown",
        "served_from_cache": "yes",
        "origin_request": "none",
        "is_viewer_request": True,
        "incomplete": False,
        "bytes_sent": 214182,
        "body_bytes": None,
        "request_bytes": 97,
        "time_taken_ms": 17.0,
        "ttfb_ms": 17.0,
        "content_type": "application/gzip",
        "client_key": "1.2.3.4",
        "user_agent": "cargo 1.74.0 (ecb9851af 2023-10-18)",
        "protocol": "HTTP/2.0",
        "request_id": "eGC6xGseFkxo1BMAlPTAqh0w9-Bxi9fsSLT2MZWcPcqdjNjngxfOvQ==",
        "sample_weight": 1.0,
        "_source_file": "basic.log",
        "_source_line": 3,
    }
    assert {k: row[k] for k in expected} == expected


def test_crates_io_gzip_variant_and_later_lines():
    rows = rows_of(FIXTURES / "basic.log.gz")
    assert len(rows) == 20
    assert rows[0]["path"] == "/crates/bindgen/bindgen-0.65.1.crate"
    plain = rows_of(FIXTURES / "basic.log")
    assert plain[12]["user_agent"] == "Bazel/release 7.6.2"
    assert (plain[10]["event_time"], plain[10]["pop"]) == (utc(2024, 1, 17, 0, 41, 12), "HIO50-C2")
    assert plain[18]["ttfb_ms"] == 10.0 and plain[18]["time_taken_ms"] == 72.0


def test_percent_encoded_paths_all_decode_to_plus():
    rows = rows_of(FIXTURES / "percent-encoding.log")
    assert [r["path"] for r in rows] == ["/crates/zstd-sys/zstd-sys-2.0.8+zstd.1.5.5.crate"] * 3


def test_recoverable_errors_follow_each_redeclared_header():
    result = parse_file(FIXTURES / "recoverable-errors.log")
    assert rejects_of(result) == [
        (4, "bad_field_count"),  # 5 values under a 6-field header
        (6, "missing_field"),  # header without cs-method
        (8, "missing_field"),  # without sc-status
        (10, "missing_field"),  # without cs-uri-stem
        (12, "missing_field"),  # without date and time
        (14, "bad_timestamp"),  # date 'foo'
    ]
    details = [r["detail"] for r in result.rejects.to_pylist()]
    assert details[1] == "#Fields lacks cs-method"
    assert details[5] == "unparsable date/time 'foo 23:56:42'"
    rows = result.rows.to_pylist()
    assert [r["_source_line"] for r in rows] == [16, 18, 20]
    assert rows[0]["path"] == "/crates/foo/bindgen-0.65.1.crate"
    assert rows[1]["path"] == "/crates/bindgen/bindgen-0.0.0\u00a7foo.crate"
    # These headers carry no result type at all.
    assert {r["cache_status"] for r in rows} == {"UNKNOWN"}
    assert {r["cache_status_raw"] for r in rows} == {None}


def test_unknown_version_is_parsed_by_field_names():
    rows = rows_of(FIXTURES / "unknown-version.log")
    assert [(r["path"], r["status"], r["cache_status"]) for r in rows] == [
        ("/crates/bindgen/bindgen-0.65.1.crate", 200, "HIT")
    ]


def test_unrelated_traffic_keeps_cached_404_and_head():
    rows = rows_of(FIXTURES / "unrelated-traffic.log")
    assert [(r["method"], r["status"], r["cache_status"]) for r in rows] == [
        ("GET", 200, "HIT"),
        ("GET", 404, "HIT"),
        ("HEAD", 200, "HIT"),
        ("GET", 200, "HIT"),
        ("GET", 200, "HIT"),
    ]
    assert rows[3]["path"] == "/readmes/bindgen/bindgen-0.65.1.html"


def test_aws_docs_example_origin_dns_error():
    rows = rows_of(FIXTURES / "cloudfront-multiple.log")
    assert len(rows) == 6
    assert rows[0]["client_key"] == "128.92.136.19" and rows[0]["user_agent"] == UA_CHROME_78
    err = rows[3]
    assert (err["event_time"], err["pop"], err["host"], err["path"], err["status"]) == (
        utc(2019, 12, 13, 22, 36, 27),
        "SEA19-C1",
        "www.example.com",
        "/favicon.ico",
        502,
    )
    assert (err["cache_status"], err["cache_status_raw"], err["cache_status_detail"]) == (
        "ERROR",
        "Error/Error/OriginDnsError",
        "OriginDnsError",
    )
    assert (err["served_from_cache"], err["origin_request"], err["incomplete"]) == (
        "no",
        "failed",
        False,
    )
    assert (err["bytes_sent"], err["request_bytes"], err["time_taken_ms"]) == (900, 675, 102.0)
    assert rows[5]["user_agent"] == "curl/7.55.1" and rows[5]["pop"] == "SEA19-C2"


def test_doc_section_13_1_verbatim_example():
    result, _ = parse_bytes(doc_block("### 13.1 CloudFront standard log"))
    rows = result.rows.to_pylist()
    assert (len(rows), result.rejects.num_rows) == (6, 0)
    # The third record ends with an extra TAB as published.
    assert rows[2]["request_id"] == "f37nTMVvnKvV2ZSvEsivup_c2kZ7VXzYdjC-GUQZ5qNs-89BlWazbw=="
    assert rows[2]["cache_status"] == "HIT" and rows[2]["content_type"] == "text/html"
    assert [r["origin_request"] for r in rows] == ["none"] * 3 + ["failed"] * 3
    assert rows[0]["user_agent"] == UA_CHROME_78


def test_doc_section_13_2_double_encoded_user_agent():
    rows = parse_bytes(doc_block("### 13.2 CloudFront standard log"))[0].rows.to_pylist()
    assert [r["user_agent"] for r in rows] == [UA_CHROME_78, UA_CHROME_78]
    assert [r["cache_status_detail"] for r in rows] == [None, "OriginDnsError"]


def test_tab_separated_header_and_trailing_tab():
    rows = rows_of(FIXTURES / "web-1-0-2019-12.txt")
    assert len(rows) == 3
    assert rows[2]["content_type"] == "text/html" and rows[2]["user_agent"] == UA_CHROME_78


def test_doist_sample_user_agents_and_encoded_content_type():
    rows = rows_of(FIXTURES / "test_log.csv")
    assert [(r["pop"], r["user_agent"], r["content_type"]) for r in rows] == [
        ("MXP64-C1", None, "text/html"),
        ("MAD51-C1", "Mozilla", "text/html"),
    ]
    assert [r["cache_status"] for r in rows] == ["MISS", "MISS"]
    assert [r["host"] for r in rows] == ["example.com", "example.com"]
    assert rows[1]["event_time"] == utc(2020, 7, 16, 13, 33, 52)


def test_2014_log_with_19_fields():
    rows = rows_of(FIXTURES / "E2EXAMPLE111.2014-08-28-04.AnTlR3xmple.gz")
    assert [r["status"] for r in rows] == [200, 200, 404, 200, 500, 200]
    # Rows keep file order, which is not time order here.
    assert rows[3]["event_time"] == utc(2014, 8, 28, 4, 48, 37)
    assert {(r["cache_status"], r["cache_status_raw"]) for r in rows} == {("MISS", "Miss")}
    first = rows[0]
    assert (first["bytes_sent"], first["request_bytes"], first["time_taken_ms"]) == (
        19740,
        414,
        43.0,
    )
    assert (first["ttfb_ms"], first["protocol"], first["content_type"]) == (None, None, None)
    assert (
        first["user_agent"]
        == "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0"
    )


def test_2011_log_without_result_type_is_unknown():
    rows = rows_of(FIXTURES / "example-100.gz")
    assert len(rows) == 100
    assert {
        (r["cache_status"], r["cache_status_raw"], r["served_from_cache"], r["origin_request"])
        for r in rows
    } == {("UNKNOWN", None, "unknown", "unknown")}
    assert (rows[0]["pop"], rows[0]["path"], rows[0]["host"]) == (
        "FRA2",
        "/yQAPXEomw-T.png",
        "d27kvxk3pw3dk1.cloudfront.net",
    )


def test_aws_workshop_log_lambda_generated_responses():
    rows = rows_of(FIXTURES / "sample-cloudfront-access-logs.gz")
    assert len(rows) == 66
    statuses = [r["cache_status"] for r in rows]
    assert (statuses.count("SYNTHETIC"), statuses.count("HIT"), statuses.count("MISS")) == (
        41,
        23,
        2,
    )
    lam = rows[0]
    assert (lam["cache_status_raw"], lam["served_from_cache"], lam["origin_request"]) == (
        "LambdaGeneratedResponse/LambdaGeneratedResponse",
        "no",
        "none",
    )
    assert (
        lam["user_agent"]
        == "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
    )
    assert (lam["status"], lam["pop"], lam["path"]) == (302, "FRA53", "/notavailable.json")


@pytest.mark.parametrize(
    ("name", "query", "status"),
    [("cloudfront_entry.csv", None, 200), ("cloudfront_entry2.csv", "a=b&c=d", 304)],
    ids=["refresh-hit", "query-304"],
)
def test_headerless_24_field_lines_use_default_order(name, query, status):
    (row,) = rows_of(FIXTURES / name)
    assert (row["query"], row["status"], row["request_bytes"], row["protocol"]) == (
        query,
        status,
        None,
        "HTTP/1.1",
    )
    assert row["cache_status"] == ("REVALIDATED" if status == 200 else "HIT")


def test_error_with_status_200_is_an_incomplete_download():
    rows = rows_of(FIXTURES / "cloudfront.log")
    assert [(r["cache_status"], r["incomplete"], r["origin_request"]) for r in rows] == [
        ("ERROR", True, "unknown"),
        ("ERROR", True, "unknown"),
    ]
    assert rows[0]["content_type"] is None


def test_header_with_reordered_fields_and_values_beyond_it():
    (row,) = rows_of(FIXTURES / "cloudfront-out-of-order.log")
    assert (row["event_time"], row["pop"], row["path"], row["cache_status"]) == (
        utc(2014, 8, 28, 4, 48, 38),
        "SEA50",
        "/media/example.jpg",
        "MISS",
    )
    # cs-bytes/time-taken are not declared, so the two extra values are ignored.
    assert (row["request_bytes"], row["time_taken_ms"]) == (None, None)


def test_headers_changing_mid_input_keep_input_order():
    data = (FIXTURES / "cloudfront-out-of-order.log").read_bytes() + (
        FIXTURES / "unknown-version.log"
    ).read_bytes()
    rows = parse_bytes(data)[0].rows.to_pylist()
    assert [(r["_source_line"], r["pop"]) for r in rows] == [(3, "SEA50"), (6, "CMH68-P2")]


def test_rtmp_log_lacks_method_and_status():
    result = parse_file(FIXTURES / "rtmp-1-0.txt")
    assert result.rows.num_rows == 0
    assert rejects_of(result) == [(n, "missing_field") for n in range(3, 9)]


def test_elastic_sample_31_fields_status_000_and_ipv6():
    path = SHARED / "real_logs" / "cloudfront" / "test-cloudfront.log"
    if not path.exists():
        pytest.skip("Elastic-licensed sample not available")
    result = parse_file(path)
    assert (result.rows.num_rows, result.rejects.num_rows) == (12, 0)
    rows = result.rows.to_pylist()
    assert rows[1]["client_key"] == "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6"
    aborted = rows[7]
    assert (aborted["status"], aborted["incomplete"], aborted["method"]) == (0, True, "POST")
    last = rows[11]  # only 31 of the 33 declared fields
    assert (last["path"], last["status"], last["cache_status"], last["content_type"]) == (
        "/en(test)",
        404,
        "ERROR",
        "text/html",
    )
    assert last["user_agent"].startswith("User-Agent: Mozilla/4.0 (compatible;")


def test_sample_logs_live_match_rows():
    rows = rows_of(SAMPLES / "live_match.log")
    assert len(rows) == 24
    by_id = {r["request_id"][:3]: r for r in rows}
    assert (
        by_id["r04"]["cache_status"],
        by_id["r04"]["cache_tier"],
        by_id["r04"]["cache_status_detail"],
    ) == (
        "HIT",
        "parent",
        "OriginShieldHit",
    )
    assert (by_id["r06"]["path"], by_id["r06"]["query"], by_id["r06"]["client_key"]) == (
        "/api/v1/match/4711/score",
        "ts=1736949603",
        "2001:db8:4f1::7",
    )
    assert by_id["r08"]["content_type"] == "application/json"
    assert (
        by_id["r12"]["cache_status"],
        by_id["r12"]["incomplete"],
        by_id["r12"]["served_from_cache"],
    ) == (
        "HIT",
        True,
        "yes",
    )
    assert (by_id["r13"]["status"], by_id["r13"]["incomplete"], by_id["r13"]["origin_request"]) == (
        0,
        True,
        "none",
    )
    assert (by_id["r21"]["cache_status"], by_id["r21"]["cache_status_raw"]) == (
        "UNKNOWN",
        "StaleWhileRevalidateHit/StaleWhileRevalidateHit/StaleWhileRevalidateHit",
    )
    assert by_id["r22"]["path"] == "/img/players/virat kohli.webp"
    assert (
        by_id["r22"]["user_agent"] == "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36"
    )
    assert by_id["r23"]["path"] == "/live/ind-aus-t20/audio+en/seg_1236.m4s"
    assert by_id["r05"]["status"] == 206 and by_id["r24"]["method"] == "HEAD"


def test_malformed_sample_reasons_and_lines():
    result = parse_file(SAMPLES / "malformed.log")
    assert rejects_of(result) == [
        (1, "missing_header"),
        (5, "bad_field_count"),
        (6, "bad_timestamp"),
        (7, "bad_timestamp"),
        (8, "bad_status"),
        (9, "bad_method"),
        (10, "bad_number"),
        (11, "bad_path"),
        (12, "bad_path"),
        (15, "missing_field"),
    ]
    assert {r["vendor"] for r in result.rejects.to_pylist()} == {"cloudfront"}
    # Line 13 lacks the five 2019-12 trailing fields but keeps the first 28.
    assert [r["_source_line"] for r in result.rows.to_pylist()] == [4, 13]


BASE_LINE = (FIXTURES / "basic.log").read_text().splitlines()[2]


@pytest.mark.parametrize(
    ("resp", "res", "det", "status", "expected"),
    [
        ("Hit", "Hit", "Hit", "200", ("HIT", None, "unknown", "yes", "none", False)),
        (
            "Hit",
            "Hit",
            "OriginShieldHit",
            "200",
            ("HIT", "OriginShieldHit", "parent", "yes", "none", False),
        ),
        (
            "RefreshHit",
            "RefreshHit",
            "RefreshHit",
            "200",
            ("REVALIDATED", None, "unknown", "yes", "conditional", False),
        ),
        ("Miss", "Miss", "Miss", "200", ("MISS", None, "unknown", "no", "full", False)),
        (
            "Redirect",
            "Redirect",
            "Redirect",
            "301",
            ("SYNTHETIC", None, "unknown", "no", "none", False),
        ),
        (
            "FunctionGeneratedResponse",
            "FunctionGeneratedResponse",
            "FunctionGeneratedResponse",
            "200",
            ("SYNTHETIC", None, "unknown", "no", "none", False),
        ),
        (
            "LambdaGeneratedResponse",
            "LambdaGeneratedResponse",
            "LambdaGeneratedResponse",
            "302",
            ("SYNTHETIC", None, "unknown", "no", "none", False),
        ),
        (
            "MissGeneratedResponse",
            "MissGeneratedResponse",
            "MissGeneratedResponse",
            "200",
            ("UNKNOWN", None, "unknown", "unknown", "unknown", False),
        ),
        (
            "LimitExceeded",
            "LimitExceeded",
            "LimitExceeded",
            "503",
            ("ERROR", None, "unknown", "no", "none", False),
        ),
        (
            "CapacityExceeded",
            "CapacityExceeded",
            "CapacityExceeded",
            "503",
            ("ERROR", None, "unknown", "no", "none", False),
        ),
        ("Error", "Error", "Error", "502", ("ERROR", None, "unknown", "no", "unknown", False)),
        (
            "Error",
            "Error",
            "ClientCommError",
            "400",
            ("ERROR", "ClientCommError", "unknown", "no", "unknown", False),
        ),
        ("Error", "Error", "Error", "200", ("ERROR", None, "unknown", "no", "unknown", True)),
        (
            "Hit",
            "Error",
            "ClientHungUpRequest",
            "200",
            ("HIT", "ClientHungUpRequest", "unknown", "yes", "none", True),
        ),
        (
            "Miss",
            "Error",
            "ClientCommError",
            "206",
            ("MISS", "ClientCommError", "unknown", "no", "full", True),
        ),
        (
            "Error",
            "Error",
            "ClientHungUpRequest",
            "000",
            ("ERROR", "ClientHungUpRequest", "unknown", "no", "none", True),
        ),
        ("-", "Miss", "Miss", "200", ("MISS", None, "unknown", "no", "full", False)),
        (
            "FooHit",
            "FooHit",
            "FooHit",
            "200",
            ("UNKNOWN", None, "unknown", "unknown", "unknown", False),
        ),
        ("-", "-", "-", "200", ("UNKNOWN", None, "unknown", "unknown", "unknown", False)),
    ],
    ids=[
        "hit",
        "origin-shield-hit",
        "refresh-hit",
        "miss",
        "redirect",
        "function",
        "lambda",
        "miss-generated",
        "limit-exceeded",
        "capacity-exceeded",
        "plain-error",
        "client-comm-error",
        "error-200-aborted",
        "hit-then-client-abort",
        "miss-range-aborted",
        "status-000",
        "response-type-missing",
        "unknown-value",
        "all-dashes",
    ],
)
def test_result_type_mapping(resp, res, det, status, expected):
    line = with_fields(BASE_LINE, f22=resp, f13=res, f28=det, f8=status)
    (row,) = parse_bytes(line.encode())[0].rows.to_pylist()
    got = (
        row["cache_status"],
        row["cache_status_detail"],
        row["cache_tier"],
        row["served_from_cache"],
        row["origin_request"],
        row["incomplete"],
    )
    assert got == expected
    assert row["cache_status_raw"] == f"{res}/{resp}/{det}"


def test_every_schema_result_type_is_exercised():
    assert set(CLOUDFRONT_RESULT_TYPES) <= {
        "Hit",
        "OriginShieldHit",
        "RefreshHit",
        "Miss",
        "Redirect",
        "FunctionGeneratedResponse",
        "LambdaGeneratedResponse",
        "MissGeneratedResponse",
        "LimitExceeded",
        "CapacityExceeded",
        "Error",
    }


@pytest.mark.parametrize(
    ("det", "origin"),
    [(d, "failed") for d in sorted(CLOUDFRONT_ORIGIN_ERRORS)]
    + [(d, "none") for d in sorted(CLOUDFRONT_EDGE_ERRORS)],
    ids=lambda v: str(v),
)
def test_error_subtypes_decide_origin_contact(det, origin):
    line = with_fields(BASE_LINE, f22="Error", f13="Error", f28=det, f8="502")
    (row,) = parse_bytes(line.encode())[0].rows.to_pylist()
    assert (row["cache_status"], row["cache_status_detail"], row["origin_request"]) == (
        "ERROR",
        det,
        origin,
    )


def test_headerless_line_with_unexpected_field_count_is_missing_header():
    line = "\t".join(BASE_LINE.split("\t")[:30])
    result = parse_bytes(line.encode())[0]
    assert rejects_of(result) == [(1, "missing_header")]


def test_empty_input():
    result = cloudfront.parse(frame(b"#Version: 1.0\n").lines)
    assert (result.rows.num_rows, result.rejects.num_rows) == (0, 0)


def _real_samples() -> list[Path]:
    files = [p for p in sorted(FIXTURES.rglob("*")) if p.is_file() and p.suffix != ".md"]
    elastic = SHARED / "real_logs" / "cloudfront" / "test-cloudfront.log"
    return [*files, elastic]


@pytest.mark.parametrize("path", _real_samples(), ids=lambda p: p.name)
def test_every_real_sample_accounts_for_every_line(path):
    if not path.exists():
        pytest.skip(f"{path.name} not available")
    text = decompress(path.read_bytes(), path.name).decode("utf-8", errors="replace")
    data_lines = [s for s in text.splitlines() if s.strip() and not s.startswith("#")]
    result, framing_rejects = parse_bytes(path.read_bytes(), path.name)
    assert result.total + framing_rejects == len(data_lines)


@pytest.mark.parametrize(
    ("sample", "header", "expected"),
    [
        ([], "time x-edge-location sc-bytes c-ip cs-method cs-uri-stem", False),
        ([], "date time x-edge-location sc-bytes c-ip cs-method cs-uri-stem sc-status", True),
        ([], "#Fields: date time cs-method cs-uri-stem sc-status", True),
        ([], "timestamp c-ip sc-status cs-method cs-uri-stem x-edge-location", False),
        ([BASE_LINE], None, True),
        ([(FIXTURES / "cloudfront_entry.csv").read_text().strip()], None, True),
        (
            ["1607374321.541\t127.0.0.1\t0.042\t200\t485\tGET\thttp\ttest.cloudfront.net\t/i"],
            None,
            False,
        ),
        (
            ['203.0.113.9 - - [15/Jan/2025:14:00:01 +0000] "GET / HTTP/1.1" 200 12 "-" "curl" HIT'],
            None,
            False,
        ),
        (['{"ClientIP":"89.163.242.206","EdgeStartTimestamp":1506702504433000200}'], None, False),
        (
            [
                "1 80765 3d6ab88.1.1 1606768511 3241 3241 127.0.0.1 200 HTTP h.net GET a 80 0 text/plain"
            ],
            None,
            False,
        ),
    ],
    ids=[
        "header-without-date",
        "header",
        "header-with-prefix",
        "realtime-header",
        "33-field-line",
        "24-field-line",
        "realtime-record",
        "nginx",
        "cloudflare-json",
        "akamai-structured",
    ],
)
def test_sniff(sample, header, expected):
    assert cloudfront.sniff(sample, header) is expected
