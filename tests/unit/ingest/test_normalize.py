from datetime import UTC, datetime

import polars as pl
import pytest

from ingest.framing import frame
from ingest.normalize import fill_details, finish, map_distinct, percent_decode, split_url
from ingest.schema import CANONICAL_SCHEMA


def frame_df(n):
    lines = frame(b"".join(b"line %d\n" % i for i in range(n)), source_file="t.log").lines
    return pl.from_arrow(lines)


def test_finish_fills_defaults_and_flags_from_cache_status():
    df = frame_df(3).with_columns(
        pl.lit(datetime(2026, 5, 1, 14, 0, tzinfo=UTC)).dt.cast_time_unit("ms").alias("event_time"),
        pl.Series("method", ["get", "GET", "POST"]),
        pl.Series("path", ["/a%20b", "seg_1.m4s", "/beacon"]),
        pl.Series("query", ["-", "x=1", ""]),
        pl.Series("status", [200, 304, 204]),
        pl.Series("host", ["WWW.Example.COM:443", "a.b", None]),
        pl.Series("cache_status", ["HIT", "REVALIDATED", "PASS"]),
        pl.Series("content_type", ["Application/vnd.apple.mpegurl; charset=utf-8", None, None]),
    )
    result = finish(df, cdn="nginx", source_format="nginx", event_time_kind="response_end")
    assert result.rows.schema == CANONICAL_SCHEMA
    rows = result.rows.to_pylist()
    assert [r["path"] for r in rows] == ["/a b", "/seg_1.m4s", "/beacon"]
    assert [r["query"] for r in rows] == [None, "x=1", None]
    assert [r["method"] for r in rows] == ["GET", "GET", "POST"]
    assert rows[0]["host"] == "www.example.com"
    assert [r["served_from_cache"] for r in rows] == ["yes", "yes", "no"]
    assert [r["origin_request"] for r in rows] == ["none", "conditional", "full"]
    assert rows[0]["content_type"] == "application/vnd.apple.mpegurl"
    assert all(r["is_viewer_request"] and r["sample_weight"] == 1.0 for r in rows)
    assert result.rejects.num_rows == 0


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        pytest.param("event_time", None, "bad_timestamp", id="no-time"),
        pytest.param("status", 1200, "bad_status", id="status-out-of-range"),
        pytest.param("method", "G E T", "bad_method", id="bad-method"),
        pytest.param("path", "/a\x01b", "bad_path", id="control-char-path"),
    ],
)
def test_finish_rejects_generic_violations(column, value, reason):
    base = {
        "event_time": datetime(2026, 5, 1, tzinfo=UTC),
        "method": "GET",
        "path": "/x",
        "status": 200,
        "cache_status": "HIT",
    }
    base[column] = value
    df = frame_df(1).with_columns(
        pl.lit(base["event_time"]).cast(pl.Datetime("ms", "UTC")).alias("event_time"),
        pl.lit(base["method"]).cast(pl.String).alias("method"),
        pl.lit(base["path"]).cast(pl.String).alias("path"),
        pl.lit(base["status"]).cast(pl.Int64).alias("status"),
        pl.lit(base["cache_status"]).alias("cache_status"),
    )
    result = finish(df, cdn="nginx", source_format="nginx", event_time_kind="response_end")
    assert result.rows.num_rows == 0
    assert result.rejects.column("reason_code").to_pylist() == [reason]
    assert result.rejects.column("_source_line").to_pylist() == [1]


def test_percent_decode_once_keeps_plus_and_invalid_utf8():
    out = percent_decode(pl.Series(["/a%20b", "/c", "/d%FF", None, "/x+y%2B", "/%252B"]))
    assert out.to_list() == ["/a b", "/c", "/d%FF", None, "/x+y+", "/%2B"]


def test_split_url():
    df = pl.DataFrame({"u": ["https://h.example:443/p/a?x=1#f", "/only/path", "http://h/"]})
    path, query = split_url(pl.col("u"))
    out = df.select(path.alias("p"), query.alias("q"))
    assert out["p"].to_list() == ["/p/a", "/only/path", "/"]
    assert out["q"].to_list() == ["x=1", None, None]


def test_fill_details_formats_only_rejected_rows_without_one():
    df = pl.DataFrame(
        {
            "_reason": [None, "bad_number", "bad_timestamp", "bad_number"],
            "_detail": [None, None, None, "kept"],
            "v": ["1", "x", "y", "z"],
        }
    )
    out = fill_details(
        df,
        {"bad_number": pl.format("not a number: {}", pl.col("v")), "other": pl.lit("unused")},
    )
    assert out["_detail"].to_list() == [None, "not a number: x", None, "kept"]
    clean = df.with_columns(pl.lit(None, pl.String).alias("_reason"))
    assert fill_details(clean, {"bad_number": pl.lit("x")}) is clean


@pytest.mark.parametrize("repeats", [1, 50], ids=["distinct", "repeating"])
def test_map_distinct_equals_the_function_on_every_row(repeats):
    values = ["Live.Example:443", "cdn.example", None, "IMG.example"] * repeats
    series = pl.Series("host", values)

    def lower(s: pl.Series) -> pl.Series:
        return s.str.to_lowercase().str.replace(r":\d+$", "")

    def flag(s: pl.Series) -> pl.Series:
        return s.is_null() | s.str.contains("img")

    assert map_distinct(series, lower).to_list() == lower(series).to_list()
    assert map_distinct(series, lower).name == "host"
    assert map_distinct(series, flag).to_list() == [False, False, True, False] * repeats
