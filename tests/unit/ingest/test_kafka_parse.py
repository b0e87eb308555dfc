"""Per-batch format detection survives poison lines at the head of a batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config import load_settings
from ingest.framing import frame
from ingest.kafka_parse import detect_batch, parse_batch, reject_counts

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).resolve().parents[3] / "sample_logs"


def test_detection_looks_past_poison_at_the_head():
    good = (SAMPLES / "fastly" / "recommended.log").read_bytes()
    poison = b"".join(b"not a log line %d\n" % i for i in range(30))
    framed = frame(poison + good)
    assert detect_batch(framed, "topic t") == "fastly_json"
    fmt, result = parse_batch(framed, "auto", "t", load_settings())
    assert fmt == "fastly_json"
    assert result.rows.num_rows == good.count(b"\n")
    assert result.rejects.num_rows == 30


def test_a_batch_with_no_known_format_is_quarantined_whole():
    framed = frame(b"".join(b"hello %d\n" % i for i in range(5)))
    fmt, result = parse_batch(framed, "auto", "t", load_settings())
    assert fmt is None and result.rows.num_rows == 0
    assert reject_counts(result.rejects) == {"unknown_format": 5}


def test_an_empty_batch_keeps_its_framing_rejects():
    framed = frame(b"\xff\xfe\n")
    _, result = parse_batch(framed, "auto", "t", load_settings())
    assert result.rows.num_rows == 0 and reject_counts(result.rejects) == {"invalid_utf8": 1}
