"""TAB-separated lines to named columns: the same values as a plain split, nulls past the end."""

import random

import polars as pl
import pytest

from ingest.tsv import FIELD_COUNT, field_count, strip_trailing_tabs, tab_fields

pytestmark = pytest.mark.unit


def test_fields_by_position_and_null_past_the_end():
    raw = strip_trailing_tabs(pl.Series(["a\tb\tc\td", "a\tb", "a\tb\t\t", "", "é\t\t€"]))
    out = tab_fields(raw, {"first": 0, "third": 2, "absent": None, "again": 2}, count=True)
    assert out.columns == ["first", "third", "absent", "again", FIELD_COUNT]
    assert out["first"].to_list() == ["a", "a", "a", "", "é"]
    assert out["third"].to_list() == ["c", None, None, None, "€"]
    assert out["absent"].to_list() == [None] * 5
    assert out[FIELD_COUNT].to_list() == [4, 2, 2, 1, 3]


def test_only_lines_with_trailing_tabs_are_rewritten():
    clean = pl.Series(["a\tb", "c\td"])
    assert strip_trailing_tabs(clean) is clean
    assert strip_trailing_tabs(pl.Series(["a\t\t", "b"])).to_list() == ["a", "b"]


def test_matches_split_on_random_lines():
    rnd = random.Random(7)
    atoms = ["", "x", "-", "é", "%20", "a b", "123"]
    lines = ["\t".join(rnd.choice(atoms) for _ in range(rnd.randrange(1, 9))) for _ in range(300)]
    raw = strip_trailing_tabs(pl.Series(lines))
    positions = {f"f{i}": i for i in range(9)}
    out = tab_fields(raw, positions, count=True)
    for line, row in zip(raw.to_list(), out.iter_rows(named=True), strict=True):
        parts = line.split("\t")
        assert [row[f"f{i}"] for i in range(9)] == parts + [None] * (9 - len(parts))
        assert row[FIELD_COUNT] == len(parts)
    counted = raw.to_frame("raw").select(field_count(pl.col("raw"))).to_series()
    assert counted.to_list() == out[FIELD_COUNT].to_list()
