import polars as pl
import pyarrow as pa
import pytest

from ingest.json_lines import quote_scalars, read_json_lines, scalar_pattern
from ingest.json_scalars import read_scalar_lines

pytestmark = pytest.mark.unit

KEYS = ("status", "bytes", "cached")
SCHEMA = pa.schema(
    [
        ("status", pa.string()),
        ("bytes", pa.string()),
        ("cached", pa.string()),
        ("req", pa.struct([("status", pa.string()), ("path", pa.string())])),
        ("id", pa.string()),
    ]
)


def _quoted(lines: list[str]):
    body = quote_scalars(pl.Series(lines, dtype=pl.String), scalar_pattern(KEYS))
    return read_json_lines(body.to_arrow(), SCHEMA)


def _assert_same_as_quoting(lines: list[str]) -> None:
    fast = read_scalar_lines(pa.array(lines, pa.large_string()), SCHEMA, KEYS)
    exact = _quoted(lines)
    assert fast.table.to_pylist() == exact.table.to_pylist()
    assert fast.index.tolist() == exact.index.tolist()
    assert fast.bad_index.tolist() == exact.bad_index.tolist()
    assert fast.bad_reason == exact.bad_reason
    assert fast.bad_detail == exact.bad_detail


CLEAN = '{"status":200,"bytes":1741514400630000000,"cached":true,"req":{"status":304},"id":"x"}'


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param([CLEAN] * 3, id="typed-clean"),
        pytest.param(['{"status":"200","bytes":"5"}'] * 3, id="all-strings"),
        pytest.param([CLEAN, CLEAN.replace(":200", ':"200"')], id="mixed-quoting"),
        pytest.param([CLEAN, CLEAN.replace(":200", ":-0")], id="negative-zero"),
        pytest.param([CLEAN, CLEAN.replace(":200", ":2.50")], id="fraction"),
        pytest.param([CLEAN, CLEAN.replace(":200", ":1e3")], id="exponent"),
        pytest.param([CLEAN, CLEAN.replace('"status":', '"status" :')], id="space-before-colon"),
        pytest.param([CLEAN.replace('"status":', '"status" :')] * 2, id="all-spaced"),
        pytest.param([CLEAN, CLEAN.replace('"id":"x"', '"id":7')], id="bare-non-key"),
        pytest.param([CLEAN, CLEAN[:40]], id="truncated-line"),
        pytest.param([CLEAN, CLEAN + CLEAN], id="two-objects"),
        pytest.param(['{"id":"a"}'] * 300 + [CLEAN], id="key-first-seen-late"),
        pytest.param(
            ['{"id":"a"}'] * 300 + [CLEAN, CLEAN.replace(":200", ':"1"')], id="late-mixed"
        ),
        pytest.param(["null", CLEAN], id="null-line-first"),
        pytest.param([CLEAN, "null"], id="null-line-later"),
        pytest.param([CLEAN, "  "], id="blank-line"),
    ],
)
def test_same_result_as_quoting_first(lines):
    _assert_same_as_quoting(lines)


def test_typed_values_read_back_as_their_text():
    got = read_scalar_lines(pa.array([CLEAN]), SCHEMA, KEYS).table.to_pylist()[0]
    assert got["status"] == "200"
    assert got["bytes"] == "1741514400630000000"
    assert got["cached"] == "true"
    assert got["req"]["status"] == "304"


def test_a_null_line_reads_as_an_empty_row_wherever_it_stands():
    # pyarrow 26 segfaults on a block whose first value is `null`; read_table guards it.
    schema = pa.schema([("a", pa.string())])
    result = read_json_lines(pa.array(["null", '{"a":"x"}', "null"]), schema)
    assert result.table.to_pylist() == [{"a": None}, {"a": "x"}, {"a": None}]
    assert result.bad_index.tolist() == []
