"""Fastly JSON parser: crates.io real logs, the recommended and default formats, edge cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.formats import fastly
from ingest.framing import decompress, frame
from ingest.records import ParseResult
from ingest.schema import FASTLY_STATES, STATUS_FLAGS, CacheStatus

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "fixtures" / "real_logs" / "fastly"
SAMPLES = REPO / "sample_logs" / "fastly"
T0 = datetime(2025, 3, 9, 9, 0, 0, 120000, tzinfo=UTC)
# One line of the recommended format; tests override single keys.
BASE = {
    "timestamp": "1741510800120",
    "pop": "DEL",
    "fastly_info_state": "HIT",
    "visits_this_service": "0",
    "client_ip": "203.0.113.10",
    "method": "GET",
    "host": "live.cricketstream.example",
    "url": "/live/ind-aus-final/master.m3u8",
    "status": "200",
    "resp_bytes_written": "1610",
}


def parse_bytes(data: bytes, name: str = "test.log") -> ParseResult:
    framed = frame(decompress(data, name), source_file=name)
    result = fastly.parse(framed.lines)
    assert result.total == framed.lines.num_rows
    return result


def parse_file(path: Path) -> ParseResult:
    return parse_bytes(path.read_bytes(), path.name)


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


def test_crates_io_basic_log():
    result = parse_file(FIXTURES / "basic.log")
    assert (result.rows.num_rows, result.rejects.num_rows) == (23, 0)
    first, third = result.rows.to_pylist()[0], result.rows.to_pylist()[2]
    assert first["event_time"] == datetime(2024, 1, 16, 23, 53, 20, 460000, tzinfo=UTC)
    assert first["event_time_kind"] == "request_start"
    assert (first["cdn"], first["source_format"]) == ("fastly", "fastly_json")
    assert first["pop"] == "IAD"  # from the prefix node cache-iad-kiad7000128
    assert first["host"] == "static.crates.io"  # from the absolute URL
    assert first["path"] == "/crates/strsim/strsim-0.10.0.crate"
    assert (first["query"], first["method"], first["status"]) == (None, "GET", 200)
    assert (first["body_bytes"], first["bytes_sent"]) == (11355, None)
    assert first["client_key"] == "1.2.3.4"
    # crates.io logs no cache state.
    assert (first["cache_status"], first["cache_status_raw"]) == ("UNKNOWN", None)
    assert (first["served_from_cache"], first["origin_request"]) == ("unknown", "unknown")
    assert first["is_viewer_request"] is True
    assert third["path"] == "/crates/tikv-jemalloc-sys/tikv-jemalloc-sys-0.5.2+5.3.0-patched.crate"


def test_zstd_copy_parses_like_the_plain_file():
    plain = parse_file(FIXTURES / "basic.log").rows.drop_columns(["_source_file"])
    packed = parse_file(FIXTURES / "basic.log.zst").rows.drop_columns(["_source_file"])
    assert packed.equals(plain)


def test_crates_io_full_info_log():
    result = parse_file(FIXTURES / "full-info.log")
    assert (result.rows.num_rows, result.rejects.num_rows) == (20, 0)
    rows = result.rows.to_pylist()
    assert rows[0]["pop"] == "CHI"
    assert rows[0]["content_type"] == "application/gzip"
    assert rows[0]["protocol"] == "HTTP/2.0"
    assert rows[0]["user_agent"] == "cargo/1.92.0-nightly (344c4567c 2025-10-21)"
    assert rows[0]["body_bytes"] == 36308
    assert rows[0]["path"] == "/crates/scale-info/2.11.3/download"
    assert (rows[1]["pop"], rows[1]["protocol"]) == ("BFI", "HTTP/1.1")
    # edge_location always agrees with the code in the cache node of the prefix.
    raw = (FIXTURES / "full-info.log").read_text().splitlines()
    nodes = [line.split(" ")[1].split("-")[1].upper() for line in raw]
    assert [r["pop"] for r in rows] == nodes


def test_crates_io_recoverable_errors():
    result = parse_file(FIXTURES / "recoverable-errors.log")
    # 1: no syslog prefix but 'foo: ', 2: truncated JSON, 4: url 'foo'.
    assert rejects_of(result) == [(1, "bad_json"), (2, "bad_json"), (4, "bad_path")]
    rows = result.rows.to_pylist()
    assert [r["_source_line"] for r in rows] == [3, 5, 6, 7]
    assert rows[2]["path"] == "/crates/strsim/strsim-0.0.0§foo.crate"


def test_crates_io_unrelated_traffic():
    rows = parse_file(FIXTURES / "unrelated-traffic.log").rows.to_pylist()
    assert [r["status"] for r in rows] == [200, 404, 200, 200, 200]
    assert [r["method"] for r in rows] == ["GET", "GET", "HEAD", "GET", "GET"]
    assert rows[3]["path"] == "/readmes/bindgen/bindgen-0.65.1.html"


def test_crates_io_percent_encoding_decodes_once():
    rows = parse_file(FIXTURES / "percent-encoding.log").rows.to_pylist()
    assert {r["path"] for r in rows} == {
        "/crates/tikv-jemalloc-sys/tikv-jemalloc-sys-0.5.2+5.3.0-patched.crate"
    }


@pytest.mark.parametrize(
    "name",
    [
        "fastly-fake.log",
        "downloads-2021-01-07-20-55-2021-01-07T20-55-00.000-B8Hs_G6d6xN61En2ypwk.log.gz",
    ],
    ids=["rubygems-2015", "pypi-linehaul"],
)
def test_out_of_scope_fastly_formats_are_rejected_not_sniffed(name):
    path = FIXTURES / name
    result = parse_file(path)
    assert result.rows.num_rows == 0
    assert {r["reason_code"] for r in result.rejects.to_pylist()} == {"bad_json"}
    sample = decompress(path.read_bytes(), name).decode().splitlines()
    assert not fastly.sniff(sample, None)


@pytest.mark.parametrize("state", sorted(FASTLY_STATES), ids=str)
def test_every_documented_state(state):
    row = one(fastly_info_state=state)
    status = FASTLY_STATES[state]
    assert (row["cache_status"], row["cache_status_raw"]) == (status.value, state)
    served, origin = STATUS_FLAGS[status]
    assert row["served_from_cache"] == served.value
    expected_origin = "unknown" if status is CacheStatus.HIT_STALE else origin.value
    assert row["origin_request"] == expected_origin


@pytest.mark.parametrize(
    ("state", "status", "detail"),
    [
        ("MISS-CLUSTER", "MISS", "CLUSTER"),
        ("HIT-CLUSTER", "HIT", "CLUSTER"),
        ("HIT-WAIT", "HIT", "WAIT"),
        ("MISS-WAIT-CLUSTER", "MISS", "WAIT-CLUSTER"),
        ("HIT-STALE-CLUSTER", "HIT_STALE", "CLUSTER"),
        ("HIT-REFRESH", "REVALIDATED", None),
        ("MISS-REFRESH-CLUSTER", "REVALIDATED", "CLUSTER"),
        ("BG-ERROR-RECV", "UNKNOWN", None),
        ("BG-ERROR-PASS", "UNKNOWN", None),
        ("WARM", "UNKNOWN", None),
        ("hit-cluster", "HIT", "CLUSTER"),
    ],
    ids=str,
)
def test_state_suffixes_and_unknown_states(state, status, detail):
    row = one(fastly_info_state=state)
    assert (row["cache_status"], row["cache_status_detail"]) == (status, detail)
    assert row["cache_status_raw"] == state


@pytest.mark.parametrize(
    "value", [None, "", "-", "(null)"], ids=["absent", "empty", "dash", "null"]
)
def test_missing_state_is_unknown(value):
    row = one(fastly_info_state=value)
    assert (row["cache_status"], row["cache_status_raw"]) == ("UNKNOWN", None)
    assert (row["served_from_cache"], row["origin_request"]) == ("unknown", "unknown")


@pytest.mark.parametrize(
    ("collapsed", "status"),
    [
        ("SYNTH", "SYNTHETIC"),
        ("HIT", "HIT"),
        ("MISS", "MISS"),
        ("HITPASS", "UNCACHEABLE"),
        ("PIPE", "PASS"),
    ],
    ids=str,
)
def test_default_format_collapsed_cache_status(collapsed, status):
    row = one(fastly_info_state=None, cache_status=collapsed)
    assert (row["cache_status"], row["cache_status_raw"]) == (status, collapsed)


def test_raw_state_wins_over_collapsed_cache_status():
    row = one(fastly_info_state="HIT-STALE", cache_status="HIT")
    assert row["cache_status"] == "HIT_STALE"


@pytest.mark.parametrize(
    ("state", "visits", "viewer", "tier"),
    [
        ("HIT", "0", True, "edge"),
        ("HIT", "1", False, "parent"),
        ("HIT-REFRESH", "2", False, "parent"),
        ("HIT", None, True, "unknown"),
        ("MISS", "0", True, "unknown"),
        ("MISS", "1", False, "unknown"),
    ],
    ids=["edge-hit", "shield-hit", "shield-refresh", "no-visits", "edge-miss", "shield-miss"],
)
def test_shield_lines_and_cache_tier(state, visits, viewer, tier):
    row = one(fastly_info_state=state, visits_this_service=visits)
    assert (row["is_viewer_request"], row["cache_tier"]) == (viewer, tier)


def test_hit_synth_is_synthetic_without_origin():
    row = one(fastly_info_state="HIT-SYNTH", status="301")
    assert (row["cache_status"], row["served_from_cache"], row["origin_request"]) == (
        "SYNTHETIC",
        "no",
        "none",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1741510800120", T0),
        ("1741510800.120", T0),
        ("1741510800120000", T0),
        ("1741510800120000000", T0),
        ("1741510800", T0.replace(microsecond=0)),
        ("2025-03-09T09:00:00.120Z", T0),
        ("2025-03-09T09:00:00.120457913Z", T0),
        ("2025-03-09T14:30:00.120+05:30", T0),
        ("2025-03-09T14:30:00.120+0530", T0),
        ("2025-03-09T09:00:00.120", T0),
        ("2025-03-09 09:00:00.120", T0),
        ("[09/Mar/2025:09:00:00 +0000]", T0.replace(microsecond=0)),
    ],
    ids=str,
)
def test_timestamp_forms(value, expected):
    assert one(timestamp=value)["event_time"] == expected


def test_crates_io_date_time_key():
    row = one(timestamp=None, date_time="2025-03-09T09:00:00.120457913Z")
    assert row["event_time"] == T0


def test_bare_json_numbers_and_booleans_are_accepted():
    line = (
        '{"timestamp":1741510800120,"pop":"DEL","fastly_info_state":"MISS","visits_this_service":0,'
        '"is_tls":true,"method":"GET","host":"a.example","url":"/x","status":200,'
        '"resp_bytes_written":1610,"time_elapsed":2500,"time_to_first_byte":0.004}'
    )
    row = parse_lines(line).rows.to_pylist()[0]
    assert (row["event_time"], row["status"], row["bytes_sent"]) == (T0, 200, 1610)
    assert (row["time_taken_ms"], row["ttfb_ms"], row["is_viewer_request"]) == (2.5, 4.0, True)


def test_recommended_format_fields():
    row = one(
        url="/api/v1/match/48213/score?ts=1741510800",
        protocol="HTTP/3",
        resp_body_bytes_written="1187",
        req_bytes_read="412",
        time_elapsed="38211",
        time_to_first_byte="0.037",
        content_type="Application/JSON; charset=utf-8",
        cache_control="public, s-maxage=6, max-age=2",
        geo_country_code="in",
        request_user_agent="AppleCoreMedia/1.0.0.21E236 (iPhone; U; CPU OS 17_4 like Mac OS X)",
        request_id="0b7e9c1e-7f3a-4c51-9d0e-3a1f6c2b8d01",
    )
    assert (row["path"], row["query"]) == ("/api/v1/match/48213/score", "ts=1741510800")
    assert (row["pop"], row["host"], row["protocol"]) == (
        "DEL",
        "live.cricketstream.example",
        "HTTP/3.0",
    )
    assert (row["bytes_sent"], row["body_bytes"], row["request_bytes"]) == (1610, 1187, 412)
    assert (row["time_taken_ms"], row["ttfb_ms"]) == (38.211, 37.0)
    assert (row["content_type"], row["max_age_s"], row["client_country"]) == (
        "application/json",
        6,
        "IN",
    )
    assert row["user_agent"].startswith("AppleCoreMedia/")
    assert row["request_id"] == "0b7e9c1e-7f3a-4c51-9d0e-3a1f6c2b8d01"


@pytest.mark.parametrize(
    ("cache_control", "max_age"),
    [("max-age=2", 2), ("s-maxage=30, max-age=5", 30), ("no-store", None), ("(null)", None)],
    ids=str,
)
def test_max_age_from_cache_control(cache_control, max_age):
    assert one(cache_control=cache_control)["max_age_s"] == max_age


def test_pop_falls_back_to_server_node_then_prefix():
    assert one(pop=None, server="cache-bom-vabm4310022")["pop"] == "BOM"
    prefixed = "<134>2025-03-09T09:00:00Z cache-sjc3128 cricket-logs[62959]: " + json.dumps(
        {**BASE, "pop": "(null)"}
    )
    assert parse_lines(prefixed).rows.to_pylist()[0]["pop"] == "SJC"


def test_syslog_prefix_is_stripped():
    plain = json.dumps(BASE)
    prefixed = f"<134>2016-07-04T22:37:26Z cache-sjc3128 LogTest[62959]: {plain}"
    rows = parse_lines(plain, prefixed).rows.drop_columns(["_source_line"]).to_pylist()
    assert rows[0] == rows[1]


def test_host_key_wins_over_absolute_url_host():
    row = one(url="https://origin.example:8443/live/x.m3u8?a=1", host="Live.CricketStream.example")
    assert (row["host"], row["path"], row["query"]) == (
        "live.cricketstream.example",
        "/live/x.m3u8",
        "a=1",
    )
    assert one(url="https://Img.Example/p.webp", host=None)["host"] == "img.example"


def test_fastly_default_format_without_status_is_quarantined():
    line = next(
        line
        for line in (SAMPLES / "malformed.log").read_text().splitlines()
        if '"cache_status"' in line
    )
    reject = parse_lines(line).rejects.to_pylist()[0]
    assert reject["reason_code"] == "missing_field"
    assert "resp.status" in reject["detail"]


def test_malformed_sample_reasons_and_lines():
    result = parse_file(SAMPLES / "malformed.log")
    assert rejects_of(result) == [
        (1, "bad_json"),  # truncated
        (2, "bad_json"),  # PyPI linehaul pipe format
        (3, "bad_json"),  # RubyGems 2015 format after a syslog prefix
        (4, "bad_timestamp"),
        (6, "missing_field"),  # no url
        (7, "bad_status"),
        (8, "bad_number"),
        (9, "missing_field"),  # Fastly default format: no status
        (10, "bad_path"),
        (11, "bad_field_type"),
        (12, "bad_json"),  # an array, not an object
        (13, "bad_number"),  # visits_this_service 'shield'
    ]
    assert [r["_source_line"] for r in result.rows.to_pylist()] == [5]
    assert {r["vendor"] for r in result.rejects.to_pylist()} == {"fastly"}


def test_sample_edge_miss_and_shield_hit_share_a_request_id():
    rows = parse_file(SAMPLES / "recommended.log").rows.to_pylist()
    pair = [r for r in rows if r["request_id"] == "f2a8c6d4-3e1b-4a97-b5c0-8d9e7f6a1b05"]
    assert [
        (r["pop"], r["cache_status"], r["is_viewer_request"], r["cache_tier"]) for r in pair
    ] == [
        ("DEL", "MISS", True, "unknown"),
        ("BOM", "HIT", False, "parent"),
    ]


def test_empty_input():
    result = parse_bytes(b"")
    assert (result.rows.num_rows, result.rejects.num_rows) == (0, 0)


@pytest.mark.parametrize(
    "path",
    [
        SAMPLES / "recommended.log",
        SAMPLES / "default_format.log",
        FIXTURES / "basic.log",
        FIXTURES / "full-info.log",
    ],
    ids=lambda p: p.name,
)
def test_sniff_claims_fastly_shapes(path):
    assert fastly.sniff(path.read_text().splitlines()[:20], None)


OTHER_VENDORS = [
    "akamai_ds2",
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
        assert not fastly.sniff(sample.read_text().splitlines()[:20], None), sample.name


def test_sniff_rejects_headers_and_empty_samples():
    assert not fastly.sniff([], None)
    assert not fastly.sniff([json.dumps(BASE)], "date time x-edge-location")


def test_quoted_and_bare_lines_mix_in_one_batch():
    bare = json.dumps({**BASE, "status": 304, "resp_bytes_written": 0, "visits_this_service": 1})
    rows = parse_lines(json.dumps(BASE), bare, json.dumps(BASE)).rows.to_pylist()
    assert [(r["status"], r["bytes_sent"], r["is_viewer_request"]) for r in rows] == [
        (200, 1610, True),
        (304, 0, False),
        (200, 1610, True),
    ]


@pytest.mark.parametrize(
    "value",
    [
        "1" * 40,
        "0",
        "99999999999999999999999999.5",
        "1999-12-31T23:59:59Z",
        "yesterday",
        "2025-13-01T00:00:00Z",
    ],
    ids=["huge", "zero", "huge-fraction", "before-2000", "word", "month-13"],
)
def test_unreadable_or_implausible_timestamps_are_rejected(value):
    reject = parse_lines(json.dumps({**BASE, "timestamp": value})).rejects.to_pylist()[0]
    assert (reject["reason_code"], reject["_source_line"]) == ("bad_timestamp", 1)
