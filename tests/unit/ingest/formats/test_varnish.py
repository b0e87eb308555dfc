"""varnishncsa access logs (`ingest/formats/nginx.py`, format "varnish").

Golden files (`sample_logs/varnish/` -> `tests/golden/varnish/`) are compared by
`tests/golden/test_golden.py`; see `tests/golden/varnish/README.md`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.detect import detect
from ingest.formats import nginx
from ingest.framing import decompress, frame
from ingest.records import ParseResult
from ingest.schema import VARNISH_HANDLING

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "sample_logs" / "varnish"
GOLDEN_CASES = ("cdn_offload", "cdn_offload_json", "ncsa_handling")

NCSA = (
    '198.51.100.23 - - [14/Mar/2025:19:30:09 -0700] "{method} http://stream.example.com{url} HTTP/1.1" '
    '{status} {body} "-" "{ua}"'
)
TAIL = ' {handling} "{host}" 1843590 211877 0.000180 389 "video/iso.segment" "public, max-age=3600" 32774'


def line(
    handling: str = "hit",
    status: int = 200,
    *,
    body: str = "1843200",
    host: str = "Stream.Example.com",
    method: str = "GET",
    url: str = "/live/ipl-final/1080p/seg_1234.m4s",
    ua: str = "ExoPlayerLib/2.19.1",
) -> str:
    """One cdn_offload varnishncsa line with the given fields."""
    head = NCSA.format(method=method, url=url, status=status, body=body, ua=ua)
    return head + TAIL.format(handling=handling, host=host)


def parse_text(text: str, name: str = "varnish.log") -> ParseResult:
    lines = frame(text.encode(), source_file=name).lines
    result = nginx.parse_varnish(lines)
    assert result.total == lines.num_rows
    return result


def rows_of(result: ParseResult) -> list[dict]:
    return result.rows.to_pylist()


def parse_sample(case: str) -> ParseResult:
    path = SAMPLES / f"{case}.log"
    name = str(path.relative_to(REPO))
    return nginx.parse_varnish(frame(decompress(path.read_bytes(), name), source_file=name).lines)


# (handling, status, cache_status, detail, served_from_cache, origin_request, cache_tier)
HANDLING_CASES = [
    ("hit", 200, "HIT", None, "yes", "none", "edge"),
    ("miss", 200, "MISS", None, "no", "full", "unknown"),
    ("hitmiss", 200, "MISS", "hitmiss", "no", "full", "unknown"),
    ("hitpass", 200, "UNCACHEABLE", None, "no", "full", "unknown"),
    ("pass", 200, "PASS", None, "no", "full", "unknown"),
    ("pipe", 101, "PASS", None, "no", "full", "unknown"),
    ("synth", 301, "SYNTHETIC", None, "no", "none", "unknown"),
    ("synth", 503, "ERROR", None, "no", "unknown", "unknown"),
    ("error", 404, "SYNTHETIC", None, "no", "none", "unknown"),
    ("error", 500, "ERROR", None, "no", "unknown", "unknown"),
    ("-", 200, "UNKNOWN", None, "unknown", "unknown", "unknown"),
    ("grace", 200, "UNKNOWN", None, "unknown", "unknown", "unknown"),
]


def test_handling_cases_cover_the_whole_mapping() -> None:
    assert set(VARNISH_HANDLING) <= {h for h, *_ in HANDLING_CASES}


@pytest.mark.parametrize(
    ("handling", "status", "cache", "detail", "served", "origin", "tier"),
    HANDLING_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in HANDLING_CASES],
)
def test_handling_mapping(handling, status, cache, detail, served, origin, tier) -> None:
    [row] = rows_of(parse_text(line(handling, status) + "\n"))
    assert row["cache_status"] == cache
    assert row["cache_status_raw"] == handling
    assert row["cache_status_detail"] == detail
    assert row["served_from_cache"] == served
    assert row["origin_request"] == origin
    assert row["cache_tier"] == tier


def test_cdn_offload_fields() -> None:
    [row] = rows_of(parse_text(line(ua='Smart \\"TV\\" \\\\o/') + "\n", "v.log"))
    assert row["event_time"] == datetime(2025, 3, 15, 2, 30, 9, tzinfo=UTC)  # %t, -0700 applied
    assert row["event_time_kind"] == "request_start"
    assert (row["cdn"], row["source_format"], row["pop"]) == ("varnish", "varnish", None)
    assert row["host"] == "stream.example.com"
    assert (row["method"], row["path"], row["query"]) == (
        "GET",
        "/live/ipl-final/1080p/seg_1234.m4s",
        None,
    )
    assert (row["protocol"], row["status"]) == ("HTTP/1.1", 200)
    assert (row["bytes_sent"], row["body_bytes"], row["request_bytes"]) == (1843590, 1843200, 389)
    assert (row["time_taken_ms"], row["ttfb_ms"]) == (211.877, 0.18)
    assert (row["content_type"], row["max_age_s"]) == ("video/iso.segment", 3600)
    assert (row["client_key"], row["request_id"]) == ("198.51.100.23", "32774")
    assert row["user_agent"] == 'Smart "TV" \\o/'
    assert (row["_source_file"], row["_source_line"]) == ("v.log", 1)


def test_clf_dash_body_is_zero_and_missing_host_header_is_null() -> None:
    # varnishncsa writes `%r` as http://localhost/... when the Host header is missing.
    text = line("synth", 400, body="-", host="-", url="/live/ipl-final?ref=app")
    [row] = rows_of(parse_text(text.replace("stream.example.com", "localhost", 1) + "\n"))
    assert (row["body_bytes"], row["host"]) == (0, None)
    assert (row["path"], row["query"]) == ("/live/ipl-final", "ref=app")


def test_ncsa_plus_handling() -> None:
    text = NCSA.format(method="POST", url="/beacon/qos", status=204, body="-", ua="-") + " pass\n"
    [row] = rows_of(parse_text(text))
    assert (row["cache_status"], row["method"], row["host"], row["user_agent"]) == (
        "PASS",
        "POST",
        "stream.example.com",
        None,
    )
    assert (row["bytes_sent"], row["time_taken_ms"], row["request_id"]) == (None, None, None)


def test_varnish_own_test_suite_handling_values() -> None:
    # `varnishncsa -F "%{Varnish:handling}x %U"` output of Varnish's u00002.vtc (format notes 13.11).
    pairs = [
        "miss /hitmiss",
        "hitmiss /hitmiss",
        "pass /hitmisspass",
        "hitpass /hitpass",
        "hit /hit",
        "pass /pass",
        "synth /synth",
    ]
    text = "".join(
        NCSA.format(method="GET", url=u, status=200, body="-", ua="-") + f" {h}\n"
        for h, u in (p.split() for p in pairs)
    )
    assert [r["cache_status"] for r in rows_of(parse_text(text))] == [
        "MISS",
        "MISS",
        "PASS",
        "UNCACHEABLE",
        "HIT",
        "PASS",
        "SYNTHETIC",
    ]
    # The bare two-field format itself is not one this module accepts.
    assert not nginx.sniff_varnish(pairs, None)


def test_json_lines_give_the_same_rows_as_text() -> None:
    skip = {"_source_file"}
    text = [
        {k: v for k, v in r.items() if k not in skip} for r in rows_of(parse_sample("cdn_offload"))
    ]
    jsonl = [
        {k: v for k, v in r.items() if k not in skip}
        for r in rows_of(parse_sample("cdn_offload_json"))
    ]
    assert jsonl == text


MALFORMED = [
    (2, "bad_field_count"),  # truncated inside the Host field
    (3, "bad_timestamp"),  # 25:61:00
    (4, "bad_method"),  # "- http://localhost- HTTP/1.0": no method
    (5, "bad_number"),  # %O 30k
    (6, "bad_status"),  # %s "-"
    (7, "bad_field_count"),  # default NCSA without handling
    (8, "bad_json"),  # truncated JSON
    (9, "missing_field"),  # JSON without varnish_handling
]


def test_malformed_lines_are_rejected_with_reason_and_line() -> None:
    result = parse_sample("malformed")
    rejects = result.rejects.to_pylist()
    assert [(r["_source_line"], r["reason_code"]) for r in rejects] == MALFORMED
    assert {(r["vendor"], r["source_format"], r["stage"]) for r in rejects} == {
        ("varnish", "varnish", "parsing")
    }
    assert rejects[0]["_source_file"] == "sample_logs/varnish/malformed.log"
    assert [r["_source_line"] for r in rows_of(result)] == [1, 10]


def test_golden_samples_cover_every_handling_value() -> None:
    seen = {r["cache_status_raw"] for r in rows_of(parse_sample("cdn_offload"))}
    assert set(VARNISH_HANDLING) - {"error"} <= seen  # `error` is Varnish 3/4 only


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
def test_auto_detection_picks_varnish(case: str) -> None:
    assert detect(sample_lines(SAMPLES / f"{case}.log"), None, case) == "varnish"


@pytest.mark.parametrize("case", [*GOLDEN_CASES, "malformed"])
def test_sniff_claims_varnish_samples(case: str) -> None:
    assert nginx.sniff_varnish(sample_lines(SAMPLES / f"{case}.log"), None)
    assert not nginx.sniff(sample_lines(SAMPLES / f"{case}.log"), None)


def test_sniff_rejects_plain_ncsa_and_nginx() -> None:
    plain = [NCSA.format(method="GET", url="/", status=200, body="12", ua="curl/8")] * 3
    assert not nginx.sniff_varnish(plain, None)
    nginx_lines = sample_lines(REPO / "sample_logs" / "nginx" / "cdn_offload.log")
    assert not nginx.sniff_varnish(nginx_lines, None)
    assert not nginx.sniff_varnish([], None)
