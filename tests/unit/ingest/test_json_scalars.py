import polars as pl
import pyarrow as pa
import pytest

import ingest.json_scalars as json_scalars
from ingest.json_lines import quote_scalars, read_json_lines, scalar_pattern
from ingest.json_scalars import read_aligned

pytestmark = pytest.mark.unit

SCHEMA = pa.schema(
    [
        ("status", pa.string()),
        ("bytes", pa.string()),
        ("cached", pa.string()),
        ("req", pa.struct([("status", pa.string()), ("path", pa.string())])),
        ("id", pa.string()),
    ]
)
LEAVES = ("status", "bytes", "cached", "path", "id")
CLEAN = '{"status":200,"bytes":1741514400630000000,"cached":true,"req":{"status":304},"id":"x"}'
GOOD = '{"status":"200","req":{"path":"/a"},"id":"ok"}'


def _read(lines: list[str]) -> pl.DataFrame:
    return read_aligned(pa.array(lines, pa.large_string()), SCHEMA)


def _exact(lines: list[str]) -> pl.DataFrame:
    """What the exact reader gives: quote every bare scalar, then pyarrow's reader."""
    body = quote_scalars(pl.Series(lines, dtype=pl.String), scalar_pattern(LEAVES))
    parsed = read_json_lines(body.to_arrow(), SCHEMA)
    rows: list[dict[str, object]] = [{} for _ in lines]
    for i, row in zip(parsed.index, parsed.table.to_pylist(), strict=True):
        rows[i] = {**row, "_reason": None}
    for i, reason in zip(parsed.bad_index, parsed.bad_reason, strict=True):
        rows[i] = {**dict.fromkeys(SCHEMA.names), "_reason": reason}
    return pl.DataFrame(rows, schema={**_read([GOOD]).drop("_detail").schema})


def test_bare_numbers_and_booleans_read_as_their_text():
    row = _read([CLEAN]).row(0, named=True)
    assert row["status"] == "200"
    assert row["bytes"] == "1741514400630000000"
    assert row["cached"] == "true"
    assert row["req"] == {"status": "304", "path": None}
    assert row["_reason"] is None


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(CLEAN, id="typed-clean"),
        pytest.param('{"status":"200","bytes":"5"}', id="all-strings"),
        pytest.param('{"status" : 200, "id" : "x"}', id="spaced"),
        pytest.param('  {"status":"1"}', id="leading-space"),
        pytest.param("null", id="null-line"),
        pytest.param('{"req":null}', id="null-object"),
        pytest.param('{"req":{}}', id="empty-object"),
        pytest.param('{"id":"{x}"}', id="text-starting-with-brace"),
        pytest.param('{"id":"[x]"}', id="text-starting-with-bracket"),
        pytest.param('{"id":"a\\u0000b"}', id="escaped-nul"),
        pytest.param('{"id":"\\u00e9\\/\\"q\\""}', id="escapes"),
        pytest.param('{"status":12345678901234567890123}', id="beyond-int64"),
        pytest.param('{"other":{"deep":[1,{"a":null}]},"id":"x"}', id="ignored-nesting"),
        pytest.param(CLEAN[:40], id="truncated"),
        pytest.param("not json", id="not-json"),
        pytest.param("[1,2]", id="array"),
        pytest.param('"text"', id="string"),
        pytest.param("42", id="number"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param(GOOD + GOOD, id="two-objects"),
        pytest.param(GOOD + " x", id="trailing-garbage"),
        pytest.param('{"status":{"a":1}}', id="object-for-text"),
        pytest.param('{"id":[1]}', id="array-for-text"),
        pytest.param('{"req":"x"}', id="text-for-object"),
        pytest.param('{"req":5}', id="number-for-object"),
        pytest.param('{"req":[1]}', id="array-for-object"),
        pytest.param('{"req":{"path":{"x":1}}}', id="object-in-object"),
        pytest.param('{"id":"a\\ud800"}', id="lone-surrogate"),
        pytest.param('{"id":"a\x01b"}', id="raw-control-char"),
        pytest.param('{"id":"\\x"}', id="bad-escape"),
        pytest.param('{"status":01}', id="leading-zero"),
    ],
)
def test_same_rows_and_reasons_as_the_exact_reader(line):
    # The line stands between good ones, which must come out unchanged.
    lines = [GOOD, line, GOOD]
    got = _read(lines)
    assert got.drop("_detail").equals(_exact(lines))
    assert got.row(0) == got.row(2) == _read([GOOD]).row(0)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param(CLEAN[:40], "bad_json", id="truncated"),
        pytest.param("[1,2]", "bad_json", id="array"),
        pytest.param("   ", "bad_json", id="blank"),
        pytest.param(GOOD + GOOD, "bad_json", id="two-objects"),
        pytest.param('{"status":{"a":1}}', "bad_field_type", id="object-for-text"),
        pytest.param('{"req":"x"}', "bad_field_type", id="text-for-object"),
    ],
)
def test_bad_lines_keep_their_position_and_get_a_reason(line, reason):
    lines = [GOOD] * 5
    lines[1] = lines[3] = line
    got = _read(lines)
    assert got["_reason"].to_list() == [None, reason, None, reason, None]
    assert got["_detail"].is_null().to_list() == [True, False, True, False, True]
    assert got["id"].to_list() == ["ok", None, "ok", None, "ok"]


def test_several_objects_on_a_line_do_not_shift_blame_to_neighbours():
    # pyarrow numbers rows, not lines: after a two-object line its "row N" is line N-1.
    lines = [GOOD, GOOD + GOOD, GOOD, '{"status":{"a":1}}', GOOD, CLEAN[:40], GOOD]
    got = _read(lines)
    assert got["_reason"].to_list() == [
        None,
        "bad_json",
        None,
        "bad_field_type",
        None,
        "bad_json",
        None,
    ]


def test_a_clean_batch_never_reaches_the_exact_reader(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("exact reader called on a clean batch")

    monkeypatch.setattr(json_scalars, "read_json_lines", fail)
    got = _read([CLEAN, GOOD, '{"id":"x}"}'] * 100)
    assert got["_reason"].null_count() == got.height == 300


def test_an_empty_batch_has_the_schema_columns():
    got = _read([])
    assert got.height == 0
    assert got.columns == [*SCHEMA.names, "_reason", "_detail"]


@pytest.mark.parametrize(
    ("line", "status"),
    [
        # Decisions documented in ingest/json_scalars.py: DuckDB reads these lines itself.
        pytest.param('{"status":"1","status":"2"}', "1", id="repeated-key-first-value"),
        pytest.param('{"status":"1",}', "1", id="trailing-comma"),
        pytest.param('{"status":2.50}', "2.5", id="fraction-shortest-form"),
        pytest.param('{"status":1e3}', "1000.0", id="exponent-as-value"),
        pytest.param('{"status":-0}', "0", id="negative-zero"),
    ],
)
def test_documented_differences_from_the_exact_reader(line, status):
    got = _read([GOOD, line])
    assert got["status"].to_list() == ["200", status]
    assert got["_reason"].to_list() == [None, None]


CASES = pa.schema(
    [
        ("time", pa.string()),
        ("Time", pa.string()),
        (
            "properties",
            pa.struct(
                [("clientIp", pa.string()), ("ClientIp", pa.string()), ("ClientIP", pa.string())]
            ),
        ),
    ]
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            '{"time":"t","properties":{"clientIp":"a"}}',
            ("t", None, ("a", None, None)),
            id="first-spelling",
        ),
        pytest.param(
            '{"Time":"t","properties":{"ClientIP":"c"}}',
            (None, "t", (None, None, "c")),
            id="later-spellings",
        ),
        pytest.param(
            '{"time":"t","Time":"u","properties":{"clientIp":"a","ClientIp":"b"}}',
            ("t", None, ("a", None, None)),
            id="later-spelling-not-read-when-the-first-has-a-value",
        ),
    ],
)
def test_keys_differing_only_in_case_are_all_read(line, expected):
    got = read_aligned(pa.array([line, "{}", line]), CASES)
    row = got.row(2, named=True)
    props = row["properties"]
    assert (row["time"], row["Time"]) == expected[:2]
    assert (props["clientIp"], props["ClientIp"], props["ClientIP"]) == expected[2]
    assert got.row(1, named=True)["properties"] is None


def test_a_later_spelling_holding_an_object_is_a_bad_line():
    lines = [
        '{"time":"t","properties":{"clientIp":"a"}}',
        '{"Time":"t","properties":{"ClientIP":{"x":1}}}',
        '{"Time":"t","properties":{"ClientIP":"c"}}',
    ]
    got = read_aligned(pa.array(lines), CASES)
    assert got["_reason"].to_list() == [None, "bad_field_type", None]
    assert got["properties"].struct.field("ClientIP").to_list() == [None, None, "c"]
