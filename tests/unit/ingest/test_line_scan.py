import random

import numpy as np
import pytest

from ingest import line_scan
from ingest.framing import frame

pytestmark = pytest.mark.unit

# Valid and broken UTF-8 pieces: truncated sequences, overlongs, surrogates, > U+10FFFF.
_PIECES = [
    b"a", b"\n", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\x80", b"\xbf",
    b"\xc0\xaf", b"\xc1", b"\xc2", b"\xe0\xa0", b"\xe0\x9f\x80", b"\xed\xa0\x80",
    b"\xed\x9f\xbf", b"\xf0\x8f\xbf\xbf", b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5",
    b"\xff", b"\xf1\x80\x80",
]  # fmt: skip


def _python_bad_lines(data: bytes) -> list[int]:
    bad = []
    for i, line in enumerate(data.split(b"\n")[:-1]):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(i)
    return bad


def test_invalid_utf8_lines_agree_with_pythons_decoder():
    rnd = random.Random(1)
    for _ in range(3000):
        data = b"".join(rnd.choice(_PIECES) for _ in range(rnd.randrange(1, 25))) + b"\n"
        buf = np.frombuffer(data, dtype=np.uint8)
        starts, _, _ = line_scan.line_bounds(buf)
        expected = _python_bad_lines(data)
        assert line_scan.invalid_utf8_lines(buf, starts).tolist() == expected, data
        assert line_scan.is_utf8(buf) == (not expected)


def test_a_sequence_never_spans_two_values():
    # "\xe2\x82" ends value 0, "\xac" starts value 1: together they would be a valid euro sign.
    buf = np.frombuffer(b"ab\xe2\x82\xaccd", dtype=np.uint8)
    assert line_scan.invalid_utf8_lines(buf, np.array([0, 4])).tolist() == [0, 1]


@pytest.mark.parametrize(
    ("data", "raw"),
    [
        pytest.param(b"a\nbb\nccc\n", ["a", "bb", "ccc"], id="lf"),
        pytest.param(b"a\r\nbb\nc\r\r\n", ["a", "bb", "c\r"], id="crlf-mixed"),
        pytest.param(b"#Fields: x\na\n\n  \nb", ["a", "b"], id="skipped-and-unterminated"),
        pytest.param(b"\xff\nok\n\x01x\n", ["ok"], id="rejects-in-between"),
    ],
)
def test_compaction_keeps_exactly_the_good_lines(data, raw):
    assert frame(data).lines.column("raw").to_pylist() == raw


def test_control_bytes_other_than_tab_and_cr_mark_their_line():
    data = b"a\tb\nc\rd\ne\x0bf\ng\n"
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, ends, _ = line_scan.line_bounds(buf)
    assert line_scan.control_lines(buf, starts, ends, starts.size).tolist() == [2]


def _random_blob(rnd: random.Random) -> tuple[bytes, list[str], np.ndarray, np.ndarray]:
    lengths = [0, 1, 3, 4, 7, 8, 11, 12, 13, 15, 16, 17, 40, 300]
    lines = [
        "".join(rnd.choice('ab é€😀 x,{}"\t') for _ in range(rnd.choice(lengths)))
        for _ in range(rnd.randrange(1, 40))
    ]
    sep = rnd.choice(["\n", "\r\n"])
    blob = "".join(line + sep for line in lines).encode()
    buf = np.frombuffer(blob, dtype=np.uint8)
    starts, ends, _ = line_scan.line_bounds(buf)
    return blob, lines, starts, ends


def test_string_views_and_the_large_copy_give_every_kept_line():
    """Views cover short (inline) and long values, both terminators, lines at the very
    end of the blob and blobs under 8 bytes; the >2 GiB fallback gives the same."""
    import pyarrow as pa

    rnd = random.Random(4)
    for _ in range(300):
        blob, lines, starts, ends = _random_blob(rnd)
        keep = np.array([rnd.random() > 0.2 for _ in lines])
        want = [line for line, k in zip(lines, keep, strict=True) if k]
        views = line_scan.string_views(pa.py_buffer(blob), starts[keep], (ends - starts)[keep])
        views.validate(full=True)
        assert views.to_pylist() == want
        buf = np.frombuffer(blob, dtype=np.uint8)
        copied = line_scan._copy_lines(buf, starts[keep], (ends - starts)[keep])
        assert copied.to_pylist() == want
