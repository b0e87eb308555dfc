"""CSV exports are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest

from transforms.export import safe_cell, write_csv

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("/live/{id}", "/live/{id}"),
        ("FRA56-C1", "FRA56-C1"),
        (-0.5, -0.5),
        (None, None),
    ],
    ids=[
        "equals",
        "plus",
        "minus",
        "at",
        "tab",
        "carriage-return",
        "path",
        "pop",
        "negative-number",
        "null",
    ],
)
def test_safe_cell(value: object, expected: object) -> None:
    assert safe_cell(value) == expected


def test_write_csv_quotes_every_text_column() -> None:
    out = io.StringIO()

    write_csv(
        [{"section": "pop", "pop": "=cmd|' /C calc'!A0", "path_template": "@x", "requests": 3.0}],
        out,
    )
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))

    assert row["pop"] == "'=cmd|' /C calc'!A0"
    assert row["path_template"] == "'@x"
    assert row["requests"] == "3.0"
