"""nginx access logs (`ingest/formats/nginx.py`, format "nginx").

Golden files (`sample_logs/nginx/` -> `tests/golden/nginx/`) are compared by
`tests/golden/test_golden.py`; see `tests/golden/nginx/README.md`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest import formats
from ingest.detect import detect
from ingest.formats import nginx
from ingest.framing import decompress, frame
from ingest.records import ParseResult
from ingest.schema import NGINX_CACHE_STATUS

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "sample_logs" / "nginx"
GOLDEN_CASES = ("cdn_offload", "cdn_offload_json", "combined_cache_status")

PREFIX = '203.0.113.7 - - [14/Mar/2025:19:30:01 +0530] "{request}" {status} 912 "-" "{ua}"'
TAIL = (
    ' {cache} 0.041 "{upstream}" "0.040" "Stream.Example.com" 1310 '
    '"application/vnd.apple.mpegurl; charset=utf-8" "{cc}" edge-bom-01 1741960801.234 412 req-1'
)


def line(
    cache: str = "HIT",
    upstream: str = "-",
    status: int = 200,
    *,
    cc: str = "public, max-age=2",
    request: str = "GET /live/ipl-final/master.m3u8?x=1 HTTP/2.0",
    ua: str = "ExoPlayerLib/2.19.1",
) -> str:
    """One cdn_offload line with the given fields."""
    head = PREFIX.format(request=request, status=status, ua=ua)
    return head + TAIL.format(cache=cache, upstream=upstream, cc=cc)


def parse_text(text: str, name: str = "test.log") -> ParseResult:
    lines = frame(text.encode(), source_file=name).lines
    result = nginx.parse(lines)
    assert result.total == lines.num_rows
    return result


def rows_of(result: ParseResult) -> list[dict]:
    return result.rows.to_pylist()


def parse_sample(case: str) -> ParseResult:
    path = SAMPLES / f"{case}.log"
    name = str(path.relative_to(REPO))
    return nginx.parse(frame(decompress(path.read_bytes(), name), source_file=name).lines)


# (raw, $upstream_addr, cache_status, detail, served_from_cache, origin_request, cache_tier)
CACHE_CASES = [
    ("HIT", "-", "HIT", None, "yes", "none", "edge"),
    ("MISS", "10.20.0.11:8080", "MISS", None, "no", "full", "unknown"),
    ("EXPIRED", "10.20.0.11:8080", "MISS", "EXPIRED", "no", "full", "unknown"),
    ("STALE", "10.20.0.11:8080", "HIT_STALE", None, "yes", "failed", "edge"),
    ("UPDATING", "-", "HIT_UPDATING", None, "yes", "none", "edge"),
    ("REVALIDATED", "10.20.0.11:8080", "REVALIDATED", None, "yes", "conditional", "edge"),
    ("BYPASS", "10.20.0.11:8080", "PASS", None, "no", "full", "unknown"),
    ("-", "10.20.0.11:8080, 10.20.0.12:8080", "PASS", None, "no", "full", "unknown"),
    ("-", "-", "SYNTHETIC", None, "no", "none", "unknown"),
    ("PREFETCHED", "-", "UNKNOWN", None, "unknown", "unknown", "unknown"),
]


def test_cache_cases_cover_the_whole_mapping() -> None:
    assert set(NGINX_CACHE_STATUS) <= {raw for raw, *_ in CACHE_CASES}


@pytest.mark.parametrize(
    ("raw", "upstream", "status", "detail", "served", "origin", "tier"),
    CACHE_CASES,
    ids=[f"{c[0]}-upstream{c[1] != '-'}" for c in CACHE_CASES],
)
def test_cache_status_mapping(raw, upstream, status, detail, served, origin, tier) -> None:
    [row] = rows_of(parse_text(line(raw, upstream) + "\n"))
    assert row["cache_status"] == status
    assert row["cache_status_raw"] == raw
    assert row["cache_status_detail"] == detail
    assert row["served_from_cache"] == served
    assert row["origin_request"] == origin
    assert row["cache_tier"] == tier


def test_cdn_offload_fields() -> None:
    ua = "SmartTV/5.0 \\x22Living Room\\x22 \\x5Cx"
    [row] = rows_of(parse_text(line(ua=ua) + "\n", "edge.log"))
    assert row["event_time"] == datetime(2025, 3, 14, 14, 0, 1, 234000, tzinfo=UTC)  # from $msec
    assert row["event_time_kind"] == "response_end"
    assert (row["cdn"], row["source_format"]) == ("nginx", "nginx")
    assert row["pop"] == "edge-bom-01"
    assert row["host"] == "stream.example.com"
    assert (row["method"], row["path"], row["query"]) == (
        "GET",
        "/live/ipl-final/master.m3u8",
        "x=1",
    )
    assert (row["protocol"], row["status"]) == ("HTTP/2.0", 200)
    assert (row["bytes_sent"], row["body_bytes"], row["request_bytes"]) == (1310, 912, 412)
    assert row["time_taken_ms"] == 41.0
    assert row["ttfb_ms"] is None
    assert row["content_type"] == "application/vnd.apple.mpegurl"
    assert row["max_age_s"] == 2
    assert row["client_key"] == "203.0.113.7"
    assert row["user_agent"] == 'SmartTV/5.0 "Living Room" \\x'
    assert row["request_id"] == "req-1"
    assert (row["incomplete"], row["is_viewer_request"], row["sample_weight"]) == (False, True, 1.0)
    assert (row["_source_file"], row["_source_line"]) == ("edge.log", 1)


@pytest.mark.parametrize(
    ("cc", "max_age"),
    [
        ("public, s-maxage=600, max-age=60", 600),
        ("max-age=0", 0),
        ("private, no-store", None),
        ("-", None),
    ],
    ids=["s-maxage-wins", "zero", "no-max-age", "dash"],
)
def test_max_age_from_cache_control(cc: str, max_age: int | None) -> None:
    [row] = rows_of(parse_text(line(cc=cc) + "\n"))
    assert row["max_age_s"] == max_age


def test_time_local_offset_is_applied_without_msec() -> None:
    text = PREFIX.format(request="GET /img/players/1187.webp HTTP/1.1", status=200, ua="-")
    text = text.replace("+0530", "-0700") + " HIT\n"
    [row] = rows_of(parse_text(text))
    assert row["event_time"] == datetime(2025, 3, 15, 2, 30, 1, tzinfo=UTC)
    assert row["user_agent"] is None


@pytest.mark.parametrize(
    ("tail", "status", "taken"),
    [
        (" HIT", "HIT", None),
        (' "MISS"', "MISS", None),
        (" EXPIRED 0.250", "MISS", 250.0),
        (" -", "UNKNOWN", None),
    ],
    ids=["bare", "quoted", "with-request-time", "dash-without-upstream"],
)
def test_combined_plus_cache_status(tail: str, status: str, taken: float | None) -> None:
    text = PREFIX.format(
        request="GET http://Stream.Example.com:8080/live/a.m3u8 HTTP/1.1", status=200, ua="x"
    )
    [row] = rows_of(parse_text(text + tail + "\n"))
    assert (row["cache_status"], row["time_taken_ms"]) == (status, taken)
    assert (row["host"], row["path"], row["pop"], row["bytes_sent"]) == (
        "stream.example.com",
        "/live/a.m3u8",
        None,
        None,
    )


def test_percent_encoded_path_is_decoded_once_and_query_kept() -> None:
    request = "GET /img/players/team%20logos/csk%2520x.webp?cmcd=br%3D3000 HTTP/1.1"
    [row] = rows_of(parse_text(line(request=request) + "\n"))
    assert (row["path"], row["query"]) == ("/img/players/team logos/csk%20x.webp", "cmcd=br%3D3000")


def test_client_abort_499_is_incomplete() -> None:
    [row] = rows_of(parse_text(line("MISS", "10.20.0.12:8080", status=499) + "\n"))
    assert (row["status"], row["incomplete"], row["cache_status"]) == (499, True, "MISS")


def test_json_lines_give_the_same_rows_as_text() -> None:
    text, jsonl = parse_sample("cdn_offload"), parse_sample("cdn_offload_json")
    skip = {"_source_file"}
    strip = [{k: v for k, v in r.items() if k not in skip} for r in rows_of(text)]
    # escape=json logs an unset variable as "", the text format as "-".
    for r in strip:
        if r["cache_status_raw"] == "-":
            r["cache_status_raw"] = None
    assert [{k: v for k, v in r.items() if k not in skip} for r in rows_of(jsonl)] == strip


def test_json_bare_numbers_empty_values_and_request_fallback() -> None:
    text = (
        '{"time_local":"14/Mar/2025:19:30:01 +0530","remote_addr":"192.0.2.44","request":"POST /beacon/qos HTTP/2.0",'
        '"status":204,"body_bytes_sent":0,"request_time":0.006,"upstream_cache_status":"","upstream_addr":"",'
        '"http_user_agent":"beacon: 1,2}"}\n'
    )
    [row] = rows_of(parse_text(text))
    assert (row["method"], row["path"], row["status"], row["body_bytes"]) == (
        "POST",
        "/beacon/qos",
        204,
        0,
    )
    assert (row["cache_status"], row["cache_status_raw"], row["origin_request"]) == (
        "SYNTHETIC",
        None,
        "none",
    )
    assert row["time_taken_ms"] == 6.0
    assert row["user_agent"] == "beacon: 1,2}"
    assert row["event_time"] == datetime(2025, 3, 14, 14, 0, 1, tzinfo=UTC)


def test_mixed_text_and_json_batch_keeps_line_order() -> None:
    jsonl = (SAMPLES / "cdn_offload_json.log").read_text().splitlines()
    texts = (SAMPLES / "cdn_offload.log").read_text().splitlines()
    result = parse_text("\n".join([texts[0], jsonl[1], "junk", texts[2]]) + "\n")
    assert [r["_source_line"] for r in rows_of(result)] == [1, 2, 4]
    assert result.rejects.column("_source_line").to_pylist() == [3]


MALFORMED = [
    (2, "bad_field_count"),  # truncated inside a quoted field
    (3, "bad_field_count"),  # plain combined, no cache status
    (4, "bad_timestamp"),  # [14/Mxr/2025:...]
    (5, "bad_method"),  # TLS handshake bytes as request line
    (6, "bad_method"),  # "-" request line
    (7, "bad_status"),  # 2O0
    (8, "bad_number"),  # $bytes_sent 30k
    (9, "bad_path"),  # relative URI
    (10, "bad_json"),  # truncated JSON
    (11, "missing_field"),  # JSON without upstream_cache_status
    (12, "bad_timestamp"),  # JSON time_iso8601 without offset, no msec
]


def test_malformed_lines_are_rejected_with_reason_and_line() -> None:
    result = parse_sample("malformed")
    rejects = result.rejects.to_pylist()
    assert [(r["_source_line"], r["reason_code"]) for r in rejects] == MALFORMED
    assert {r["stage"] for r in rejects} == {"parsing"}
    assert {(r["vendor"], r["source_format"]) for r in rejects} == {("nginx", "nginx")}
    assert rejects[0]["_source_file"] == "sample_logs/nginx/malformed.log"
    assert rejects[3]["raw"].startswith(b"203.0.113.200")
    assert [r["_source_line"] for r in rows_of(result)] == [1, 13]


def test_golden_samples_cover_every_cache_value() -> None:
    seen = {r["cache_status_raw"] for r in rows_of(parse_sample("cdn_offload"))}
    assert set(NGINX_CACHE_STATUS) | {"-"} <= seen


def test_empty_input() -> None:
    result = parse_text("")
    assert (result.rows.num_rows, result.rejects.num_rows) == (0, 0)


def sample_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()[:20]


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_samples_parse_without_rejects(case: str) -> None:
    result = parse_sample(case)
    assert (result.rows.num_rows, result.rejects.num_rows) == (
        len(sample_lines(SAMPLES / f"{case}.log")),
        0,
    )


@pytest.mark.parametrize("case", [*GOLDEN_CASES, "malformed"])
def test_auto_detection_picks_nginx(case: str) -> None:
    assert detect(sample_lines(SAMPLES / f"{case}.log"), None, case) == "nginx"


@pytest.mark.parametrize("case", [*GOLDEN_CASES, "malformed"])
def test_sniff_claims_nginx_samples(case: str) -> None:
    assert nginx.sniff(sample_lines(SAMPLES / f"{case}.log"), None)
    assert not nginx.sniff_varnish(sample_lines(SAMPLES / f"{case}.log"), None)


@pytest.mark.parametrize(
    "sample",
    [
        [PREFIX.format(request="GET / HTTP/1.1", status=200, ua="curl/8")] * 3,  # plain combined
        [PREFIX.format(request="GET / HTTP/1.1", status=200, ua="curl/8") + ' "-"']
        * 3,  # + XFF "-"
        [PREFIX.format(request="GET / HTTP/1.1", status=200, ua="curl/8") + " hit"]
        * 3,  # Varnish handling
        [
            "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200"
        ],
        ['{"status":"200","cache_status":"HIT"}'],
        [],
    ],
    ids=["plain-combined", "combined-xff", "varnish-ncsa", "cloudfront", "other-json", "empty"],
)
def test_sniff_rejects_other_logs(sample: list[str]) -> None:
    assert not nginx.sniff(sample, None)


def test_sniff_rejects_w3c_header() -> None:
    assert not nginx.sniff(sample_lines(SAMPLES / "cdn_offload.log"), "date time x-edge-location")


def test_registry_serves_both_formats_from_this_module() -> None:
    assert formats.parser("nginx") is nginx.parse
    assert formats.parser("varnish") is nginx.parse_varnish
    assert formats.sniffer("nginx") is nginx.sniff
    assert formats.sniffer("varnish") is nginx.sniff_varnish
    assert (nginx.FORMAT, nginx.CDN, nginx.VARNISH_FORMAT, nginx.VARNISH_CDN) == (
        "nginx",
        "nginx",
        "varnish",
        "varnish",
    )


@pytest.mark.parametrize("value", ["30k", "-5"], ids=["suffix", "negative"])
def test_bad_byte_count_is_bad_number(value: str) -> None:
    result = parse_text(line().replace(" 1310 ", f" {value} ") + "\n")
    assert result.rejects.column("reason_code").to_pylist() == ["bad_number"]
    assert result.rejects.column("_source_line").to_pylist() == [1]
