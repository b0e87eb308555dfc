import gzip

import numpy as np
import pytest

from ingest.errors import FramingError
from ingest.framing import KafkaPositions, decompress, frame, iter_chunks, join_lines


def test_lines_keep_position_and_strip_terminators():
    framed = frame(b"a\r\nb\nc", source_file="x.log")
    assert framed.lines.column("raw").to_pylist() == ["a", "b", "c"]
    assert framed.lines.column("_source_line").to_pylist() == [1, 2, 3]
    assert framed.lines.column("_source_file").to_pylist() == ["x.log"] * 3
    assert framed.skipped == 0


def test_directives_and_blank_lines_are_skipped_and_fields_header_carried():
    data = b"#Version: 1.0\n#Fields: a b\n1\t2\n\n#Fields: a b c\n3\t4\t5\n"
    framed = frame(data, source_file="cf.log")
    assert framed.lines.column("raw").to_pylist() == ["1\t2", "3\t4\t5"]
    assert framed.lines.column("header").to_pylist() == ["a b", "a b c"]
    assert framed.lines.column("_source_line").to_pylist() == [3, 6]
    assert framed.skipped == 4


def test_header_from_previous_chunk_applies():
    framed = frame(b"1\t2\n", source_file="cf.log", first_line=10, header="a b")
    assert framed.lines.column("header").to_pylist() == ["a b"]
    assert framed.lines.column("_source_line").to_pylist() == [10]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param(b"caf\xc3 ok", "invalid_utf8", id="invalid-utf8"),
        pytest.param(b"abc\x00\x01def", "binary_garbage", id="nul-bytes"),
        pytest.param(b"\x16\x03\x01\x02\x00", "binary_garbage", id="tls-handshake"),
    ],
)
def test_bad_lines_are_quarantined_with_position(line, reason):
    framed = frame(b"good one\n" + line + b"\ngood two\n", source_file="f.log")
    assert framed.lines.column("raw").to_pylist() == ["good one", "good two"]
    rejects = framed.rejects.to_pylist()
    assert len(rejects) == 1
    assert rejects[0]["reason_code"] == reason
    assert rejects[0]["stage"] == "framing"
    assert rejects[0]["_source_line"] == 2
    assert rejects[0]["raw"] == line


def test_kafka_positions_give_offset_and_line_in_message():
    data = b"m1a\nm1b\nm2a\nm3a\nm3b\n"
    positions = KafkaPositions("logs", 3, np.array([0, 8, 12]), np.array([100, 101, 102]))
    lines = frame(data, kafka=positions).lines
    assert lines.column("_source_offset").to_pylist() == [100, 100, 101, 102, 102]
    assert lines.column("_source_line").to_pylist() == [1, 2, 1, 1, 2]
    assert set(lines.column("_source_topic").to_pylist()) == {"logs"}
    assert set(lines.column("_source_partition").to_pylist()) == {3}


def test_decompress_by_magic_not_name():
    payload = b"line\n"
    assert decompress(gzip.compress(payload), "whatever.txt") == payload
    assert decompress(payload, "plain.log") == payload
    with pytest.raises(FramingError) as info:
        decompress(payload, "fake.gz")
    assert info.value.reason == "bad_compression"
    with pytest.raises(FramingError):
        decompress(gzip.compress(payload * 100)[:-12], "cut.gz")


def test_chunks_cut_on_newlines_and_lose_nothing():
    data = b"".join(b"line %d\n" % i for i in range(1000))
    chunks = list(iter_chunks(gzip.compress(data), "a.gz", 100))
    assert b"".join(chunks) == data
    assert all(c.endswith(b"\n") for c in chunks)


def test_join_lines_round_trip():
    lines = frame(b'{"a":1}\n{"a":2}\n').lines.column("raw")
    assert join_lines(lines) == b'{"a":1}\n{"a":2}\n'


def test_join_lines_accepts_large_strings():
    import pyarrow as pa

    assert join_lines(pa.array(["a", "b"], pa.large_string())) == b"a\nb\n"
