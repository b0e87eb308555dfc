import random

import duckdb
import polars as pl
import pytest

from ingest.normalize import percent_decode

pytestmark = pytest.mark.unit

_ATOMS = ["%", "%2", "%20", "%2B", "%25", "%zz", "%e2%82%ac", "%E2%82", "%ac", "%C3%A9", "%FF",
          "%00", "%0a", "a", "/", "+", "é", "€", "%%41", "%4", "%41"]  # fmt: skip


def _duckdb_decode(series: pl.Series) -> list[str | None]:
    """The reference: DuckDB's url_decode, keeping values that would be invalid UTF-8."""
    con = duckdb.connect()
    con.register("todo", pl.DataFrame({"v": series}).to_arrow())
    out = con.sql("select coalesce(try(url_decode(v)), v) as v from todo").fetchall()
    con.close()
    return [row[0] for row in out]


def test_matches_duckdb_url_decode_on_random_values():
    rnd = random.Random(3)
    for _ in range(100):
        values = [
            "".join(rnd.choice(_ATOMS) for _ in range(rnd.randrange(0, 8)))
            if rnd.random() > 0.1
            else None
            for _ in range(rnd.randrange(1, 30))
        ]
        series = pl.Series(values, dtype=pl.String)
        assert percent_decode(series).to_list() == _duckdb_decode(series), values


@pytest.mark.parametrize(
    ("value", "decoded"),
    [
        pytest.param("Mozilla/5.0%20(X11)", "Mozilla/5.0 (X11)", id="every-row-encoded"),
        pytest.param("/a%41", "/aA", id="escape-at-end"),
        pytest.param("/a%4", "/a%4", id="short-escape-at-end"),
        pytest.param("/%e2%82%ac%FF", "/%e2%82%ac%FF", id="invalid-utf8-kept-whole"),
    ],
)
def test_edge_cases(value, decoded):
    assert percent_decode(pl.Series([value, value])).to_list() == [decoded, decoded]


def test_ascii_only_batches_match_duckdb():
    """Batches without a non-ASCII escape take the one-pass path: same results."""
    rnd = random.Random(5)
    ascii_atoms = ["%", "%2", "%20", "%2B", "%25", "%2541", "%zz", "%00", "%0a", "%7e", "%7E",
                   "a", "/", "+", "é", "%%41", "%4", "%41"]  # fmt: skip
    for _ in range(100):
        values = [
            "".join(rnd.choice(ascii_atoms) for _ in range(rnd.randrange(0, 8)))
            if rnd.random() > 0.1
            else None
            for _ in range(rnd.randrange(1, 30))
        ]
        series = pl.Series(values, dtype=pl.String)
        assert percent_decode(series).to_list() == _duckdb_decode(series), values


def test_repeated_values_decode_through_their_distinct_values():
    """Columns that repeat (user agents, segment paths) decode each distinct value once."""
    rnd = random.Random(9)
    for _ in range(30):
        distinct = [
            "".join(rnd.choice(_ATOMS) for _ in range(rnd.randrange(0, 8))) for _ in range(5)
        ]
        values = [rnd.choice([*distinct, None]) for _ in range(200)]
        series = pl.Series("ua", values, dtype=pl.String)
        decoded = percent_decode(series)
        assert decoded.name == "ua"
        assert decoded.to_list() == _duckdb_decode(series), values
