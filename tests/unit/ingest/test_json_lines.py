import pyarrow as pa

from ingest.json_lines import read_json_lines

SCHEMA = pa.schema([("a", pa.int64()), ("b", pa.string())])


def test_good_lines_parse_in_order():
    result = read_json_lines(pa.array(['{"a":1,"b":"x"}', '{"b":"y","a":2,"extra":[1]}']), SCHEMA)
    assert result.table.to_pylist() == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert result.index.tolist() == [0, 1]
    assert result.bad_index.tolist() == []


def test_bad_lines_are_isolated_with_reasons():
    raw = pa.array(
        ['{"a":1}', '{"a":2', '{"a":"str"}', '{"a":3}{"a":4}', '{"a":5}', "[1]", "not json"]
    )
    result = read_json_lines(raw, SCHEMA)
    assert result.index.tolist() == [0, 4]
    assert result.table.column("a").to_pylist() == [1, 5]
    assert result.bad_index.tolist() == [1, 2, 3, 5, 6]
    assert result.bad_reason == ["bad_json", "bad_field_type", "bad_json", "bad_json", "bad_json"]


def test_bare_numbers_are_quoted_whatever_the_spacing():
    import polars as pl

    from ingest.json_lines import quote_scalars, scalar_pattern

    body = pl.Series(['{"a" : 5, "b":"x"}', '{"a":6}', '{"a": "7"}'])
    out = quote_scalars(body, scalar_pattern(["a"]))
    assert out.to_list() == ['{"a" : "5", "b":"x"}', '{"a":"6"}', '{"a": "7"}']


def test_blank_lines_are_bad_and_do_not_shift_rows():
    raw = pa.array(['{"a":1}', "   ", '{"a":2}{"a":3}', '{"a":4}', ""])
    result = read_json_lines(raw, SCHEMA)
    assert result.index.tolist() == [0, 3]
    assert result.table.column("a").to_pylist() == [1, 4]
    assert result.bad_index.tolist() == [1, 2, 4]
    assert result.bad_reason == ["bad_json", "bad_json", "bad_json"]


def test_a_line_with_several_objects_does_not_shift_the_blame():
    # After a two-object line pyarrow's "in row N" names the line before the bad one.
    raw = pa.array(['{"a":1}{"a":2}', '{"a":3}', '{"a":"x"}', '{"a":5}'])
    result = read_json_lines(raw, SCHEMA)
    assert result.index.tolist() == [1, 3]
    assert result.bad_index.tolist() == [0, 2]
    assert result.bad_reason == ["bad_json", "bad_field_type"]
    assert all("in row" not in detail for detail in result.bad_detail)
