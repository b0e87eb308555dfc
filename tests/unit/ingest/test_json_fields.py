"""Each json_fields step gives what the plain expression it replaces gives."""

import polars as pl
import pytest

from ingest.json_fields import (
    RFC3339,
    Check,
    Checks,
    first_failures,
    http_version,
    per_distinct,
    rfc3339,
    url_parts,
    without_blanks,
)
from ingest.normalize import host_of_url, split_url
from ingest.records import Reason

pytestmark = pytest.mark.unit

BLANKS = ["-", "^", ""]
TEXTS = ["-", "^", "", " - ", "\t^ ", "\u00a0-", " ", "x", " x ", "-5", "^a", "é", None, "--"]


def test_without_blanks_nulls_values_that_strip_to_a_blank():
    df = pl.DataFrame(
        {"a": TEXTS, "b": list(reversed(TEXTS))}, schema={"a": pl.String, "b": pl.String}
    )
    plain = df.select(
        pl.when(pl.col(c).str.strip_chars().is_in(BLANKS)).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("a", "b")
    )
    assert without_blanks(df, ["a", "b"], BLANKS).equals(plain)
    clean = df.filter(pl.col("a").is_in(["x", "-", ""]))
    assert without_blanks(clean, ["a"], BLANKS)["a"].to_list() == [None, None, "x"]


URLS = [
    "/a/b?c=d",
    "/a?b?c",
    "/a?",
    "/a#f?x",
    "/a\n?b",
    "https://h.example:8443/p/q?x=1#frag",
    "https://h.example:8443/p/q?x=1",
    "http://h/p",
    "https://h",
    "https://h?x=1",
    "https://h:80?x",
    "https://u:p@h/x",
    "https://[::1]:80/x?y",
    "ftp://h/x",
    "HTTPS://h/x?y",
    "rel/path",
    "",
    None,
    "https://h/p?q=a://b",
    "https://h//x??y",
    "https:///x",
    "http://h\n/x",
    "/p%20q/%E2%82%AC?x",
]


@pytest.mark.parametrize("other", ["/x?y", "https://a/x?y", None], ids=["path", "url", "null"])
@pytest.mark.parametrize("url", URLS)
def test_url_parts_match_split_url_and_host_of_url(url, other):
    df = pl.DataFrame({"u": [url, other]}, schema={"u": pl.String})
    path, query = split_url(pl.col("u"))
    want = df.select(path.alias("p"), query.alias("q"), host_of_url(pl.col("u")).alias("h"))
    assert url_parts(df, "u", "p", "q", "h").select("p", "q", "h").equals(want)


TIMES = [
    "2025-03-09T08:30:01.419412Z",
    "2025-03-09T08:30:01Z",
    "2025-03-09T08:30:01.4194567+05:30",
    "1969-12-31T23:59:59.9995Z",
    "2025-03-09 08:30:01Z",
    "2025-03-09",
    "2025-03-09T08:30:01",
    "2025-03-09T08:30:01+0530",
    "2025-02-30T00:00:00Z",
    "2025-03-09T23:59:60Z",
    "2025-03-09T08:30:01.1234567891Z",
    "0001-01-01T00:00:00Z",
    "x",
    None,
]


@pytest.mark.parametrize("value", TIMES)
def test_rfc3339_matches_the_format(value):
    values = pl.Series([value, "2025-03-09T08:30:01Z"], dtype=pl.String)
    want = values.str.to_datetime(RFC3339, time_unit="ms", time_zone="UTC", strict=False)
    assert rfc3339(values).to_list() == want.to_list()
    assert rfc3339(values).dtype == want.dtype


def test_http_version():
    values = pl.Series(["HTTP/2", "HTTP/1.1", "HTTP", "http/2", "h2", "HTTP/3.0", None])
    got = values.to_frame("p").select(http_version(pl.col("p")))["p"].to_list()
    assert got == ["HTTP/2.0", "HTTP/1.1", None, None, None, "HTTP/3.0", None]


def test_per_distinct_matches_with_columns():
    df = pl.DataFrame({"k": ["a", "b", None, "a"], "v": ["1", None, "2", "1"], "x": [1, 2, 3, 4]})
    exprs = [(pl.col("k").fill_null("-") + pl.col("v").fill_null("?")).alias("kv")]
    assert per_distinct(df, ["k", "v"], exprs).equals(df.with_columns(exprs))


def test_first_failures_sets_the_first_failing_check_where_no_reason_is_set():
    df = pl.DataFrame(
        {
            "n": [1, -1, None, 5, -2],
            "_reason": [None, None, None, "bad_json", None],
            "_detail": [None, None, None, "x", None],
        }
    )
    checks = Checks(
        [
            Check(pl.col("n").is_null(), Reason.MISSING_FIELD, "n"),
            # Negative and even: the refinement runs only where the cheap test holds.
            Check(pl.col("n") < 0, Reason.BAD_NUMBER, "n even", refine=pl.col("n") % 2 == 0),
            Check(pl.col("n") < 0, Reason.BAD_STATUS, "n negative"),
        ]
    )
    got = first_failures(df, checks)
    assert got["_reason"].to_list() == [
        None,
        "bad_status",
        "missing_field",
        "bad_json",
        "bad_number",
    ]
    assert got["_detail"].to_list() == [None, "n negative", "n", "x", "n even"]
    clean = df.filter(pl.col("n") > 0)
    assert first_failures(clean, checks).equals(clean)
