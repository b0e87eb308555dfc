"""CloudFront real-time (Kinesis) parser: the public record, field selections, edge cases."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from ingest.errors import ConfigError
from ingest.formats import cloudfront_realtime as rt
from ingest.framing import decompress, frame
from ingest.records import ParseResult

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "fixtures" / "real_logs" / "cloudfront_realtime"
SAMPLES = REPO / "sample_logs" / "cloudfront_realtime"
SHARED = REPO.parent / "shared"
FIREFOX_83 = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:83.0) Gecko/20100101 Firefox/83.0"


def lines_of(data: bytes, name: str = "test.log") -> pa.Table:
    return frame(decompress(data, name), source_file=name).lines


def rejects_of(result: ParseResult) -> list[tuple[int, str]]:
    return [(r["_source_line"], r["reason_code"]) for r in result.rejects.to_pylist()]


def headerless_record() -> bytes:
    """The public Kinesis record without the header its publisher added."""
    text = (FIXTURES / "kinesis-1-0.txt").read_text()
    return "".join(s + "\n" for s in text.splitlines() if not s.startswith("#")).encode()


EXPECTED_RECORD = {
    "event_time": datetime(2020, 12, 7, 20, 52, 1, 541000, tzinfo=UTC),
    "event_time_kind": "response_end",
    "cdn": "cloudfront",
    "source_format": "cloudfront_realtime",
    "pop": "EWR52-C4",
    "host": "test.cloudfront.net",
    "method": "GET",
    "path": "/i",
    "status": 200,
    "cache_status": "MISS",
    "cache_status_raw": "Miss/Miss/Miss",
    "cache_status_detail": None,
    "served_from_cache": "no",
    "origin_request": "full",
    "incomplete": False,
    "bytes_sent": 485,
    "request_bytes": 745,
    "time_taken_ms": 42.0,
    "ttfb_ms": 42.0,
    "content_type": "image/gif",
    "client_country": "US",
    "client_key": "127.0.0.1",
    "user_agent": FIREFOX_83,
    "protocol": "HTTP/1.1",
    "request_id": "6PfZe0cc_AjXUjFuGnL9pGOmFdUx8xR8ZU8nr44JYJWi-DaeJjcxkw==",
    "sample_weight": 1.0,
}


def check_record(row: dict) -> None:
    assert {k: row[k] for k in EXPECTED_RECORD} == EXPECTED_RECORD
    # The query is split from cs-uri-stem and kept as logged (CloudFront's %25 included).
    assert row["query"].startswith("stm=1607374321563&e=pp&url=http%253A%252F%252Flocalhost")
    assert row["query"].endswith("&fp=2033130908")


def test_public_record_with_its_fixture_header():
    result = rt.parse(lines_of((FIXTURES / "kinesis-1-0.txt").read_bytes(), "kinesis-1-0.txt"))
    (row,) = result.rows.to_pylist()
    check_record(row)
    assert (row["_source_file"], row["_source_line"]) == ("kinesis-1-0.txt", 3)


def test_public_record_without_header_uses_the_40_field_list():
    (row,) = rt.parse(lines_of(headerless_record())).rows.to_pylist()
    check_record(row)


def test_doc_section_13_4_verbatim_record():
    doc = SHARED / "cdn-log-formats.md"
    if not doc.exists():
        pytest.skip("shared format notes not available")
    text = doc.read_text(encoding="utf-8")
    block = re.search(
        r"```\n(.*?)```", text[text.index("### 13.4 CloudFront real-time") :], re.DOTALL
    )
    assert block is not None
    (row,) = rt.parse(lines_of(block.group(1).encode())).rows.to_pylist()
    check_record(row)


def test_parse_with_fields_for_a_custom_selection_and_sampling():
    fields = (
        "timestamp",
        "sc-status",
        "cs-method",
        "cs-uri-stem",
        "x-edge-location",
        "x-edge-result-type",
    )
    keep = [rt.DEFAULT_FIELDS.index(f) for f in fields]
    src = (SAMPLES / "live_match.log").read_text().splitlines()
    picked = ["\t".join(s.split("\t")[i] for i in keep) for s in src[:3]]
    data = "\n".join([*picked, "1736949601.120\t200\tGET"]).encode()
    result = rt.parse_with_fields(lines_of(data), fields, sampling_rate_pct=10)
    rows = result.rows.to_pylist()
    assert [(r["path"], r["cache_status"], r["sample_weight"]) for r in rows] == [
        ("/live/ind-aus-t20/master.m3u8", "HIT", 10.0),
        ("/live/ind-aus-t20/1080p/index.m3u8", "REVALIDATED", 10.0),
        ("/live/ind-aus-t20/1080p/seg_1234.m4s", "MISS", 10.0),
    ]
    assert (
        rows[0]["pop"] == "BOM78-P1" and rows[0]["host"] is None and rows[0]["bytes_sent"] is None
    )
    assert rejects_of(result) == [(4, "bad_field_count")]
    assert result.rejects.to_pylist()[0]["detail"] == "3 fields, expected 6"


def test_parse_with_fields_lacking_required_fields_rejects_every_line():
    result = rt.parse_with_fields(lines_of(headerless_record()), ("timestamp", "c-ip"))
    assert rejects_of(result) == [(1, "missing_field")]
    assert (
        result.rejects.to_pylist()[0]["detail"]
        == "field list lacks cs-method, cs-uri-stem, sc-status"
    )


@pytest.mark.parametrize("rate", [0, -5, 101], ids=["zero", "negative", "over-100"])
def test_sampling_rate_out_of_range_is_a_config_error(rate):
    with pytest.raises(ConfigError):
        rt.parse_with_fields(
            lines_of(headerless_record()), rt.DEFAULT_FIELDS[:40], sampling_rate_pct=rate
        )


def test_sample_logs_live_match_rows():
    rows = rt.parse(lines_of((SAMPLES / "live_match.log").read_bytes())).rows.to_pylist()
    got = [
        (
            r["request_id"][:3],
            r["cache_status"],
            r["cache_tier"],
            r["served_from_cache"],
            r["origin_request"],
            r["incomplete"],
        )
        for r in rows
    ]
    assert got == [
        ("t01", "HIT", "unknown", "yes", "none", False),
        ("t02", "REVALIDATED", "unknown", "yes", "conditional", False),
        ("t03", "MISS", "unknown", "no", "full", False),
        ("t04", "HIT", "parent", "yes", "none", False),
        ("t05", "MISS", "unknown", "no", "full", False),
        ("t06", "ERROR", "unknown", "no", "failed", False),
        ("t07", "SYNTHETIC", "unknown", "no", "none", False),
        ("t08", "SYNTHETIC", "unknown", "no", "none", False),
        ("t09", "ERROR", "unknown", "no", "none", True),
        ("t10", "HIT", "unknown", "yes", "none", True),
        ("t11", "HIT", "unknown", "yes", "none", False),
        ("t12", "MISS", "unknown", "no", "full", False),
    ]
    score = rows[4]
    assert (score["path"], score["query"], score["client_country"]) == (
        "/api/v1/match/4711/score",
        "ts=1736949603",
        "DE",
    )
    # '1736949603.5' has a one-digit fraction: 500 ms.
    assert score["event_time"] == datetime(2025, 1, 15, 14, 0, 3, 500000, tzinfo=UTC)
    assert (rows[0]["host"], rows[0]["client_key"]) == ("live.cricketcast.example", "203.0.113.10")
    assert (
        rows[3]["client_key"] == "2001:db8:77::5"
        and rows[3]["cache_status_detail"] == "OriginShieldHit"
    )
    assert (rows[8]["status"], rows[8]["ttfb_ms"]) == (0, None)
    assert rows[11]["content_type"] == "application/json"


def test_malformed_sample_reasons_and_lines():
    result = rt.parse(lines_of((SAMPLES / "malformed.log").read_bytes()))
    assert rejects_of(result) == [
        (2, "bad_field_count"),
        (3, "bad_field_count"),
        (4, "bad_timestamp"),
        (5, "bad_status"),
        (6, "bad_number"),
        (7, "bad_path"),
        (8, "bad_method"),
    ]
    # Line 9 ends with an extra TAB, which is tolerated.
    assert [r["_source_line"] for r in result.rows.to_pylist()] == [1, 9]


def test_empty_input():
    result = rt.parse(lines_of(b""))
    assert (result.rows.num_rows, result.rejects.num_rows) == (0, 0)


@pytest.mark.parametrize(
    "path",
    [FIXTURES / "kinesis-1-0.txt", SAMPLES / "live_match.log", SAMPLES / "malformed.log"],
    ids=lambda p: p.name,
)
def test_every_sample_accounts_for_every_line(path):
    data = path.read_bytes()
    framed = frame(data, source_file=path.name)
    data_lines = [s for s in data.decode().splitlines() if s.strip() and not s.startswith("#")]
    assert rt.parse(framed.lines).total + framed.rejects.num_rows == len(data_lines)


@pytest.mark.parametrize(
    ("sample", "header", "expected"),
    [
        ([headerless_record().decode().strip()], None, True),
        (
            [],
            "timestamp c-ip time-to-first-byte sc-status sc-bytes cs-method cs-uri-stem x-edge-location",
            True,
        ),
        ([], "date time x-edge-location sc-bytes c-ip cs-method cs-uri-stem sc-status", False),
        (
            [
                "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td1.cloudfront.net\t/index.html\t200"
            ],
            None,
            False,
        ),
        (
            [
                "1 80765 3d6ab88.1.1 1606768511 3241 3241 127.0.0.1 200 HTTP h.net GET a 80 0 text/plain"
            ],
            None,
            False,
        ),
        (["1607374321.541\t127.0.0.1\tsomething else"], None, False),
    ],
    ids=["record", "header", "standard-header", "standard-line", "akamai-structured", "epoch-only"],
)
def test_sniff(sample, header, expected):
    assert rt.sniff(sample, header) is expected
