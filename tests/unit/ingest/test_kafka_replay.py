"""Replay: event-time order across files, message grouping, pacing by time bucket."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from ingest.replay import load_lines, messages, replay

pytestmark = pytest.mark.unit

SAMPLE = Path(__file__).resolve().parents[3] / "sample_logs" / "cloudfront" / "live_match.log"


class FakeProducer:
    def __init__(self):
        self.sent: list[tuple[str, bytes]] = []
        self.flushed = False

    def send(self, topic, value):
        self.sent.append((topic, value))

    def flush(self):
        self.flushed = True


def _split_by_second(tmp_path) -> tuple[Path, Path, list[bytes]]:
    """Two files from the sample: even and odd seconds, each with the W3C header."""
    lines = SAMPLE.read_bytes().splitlines()
    header = [line for line in lines if line.startswith(b"#")]
    body = [line for line in lines if not line.startswith(b"#")]
    even = [line for line in body if int(line.split(b"\t")[1][-1:]) % 2 == 0]
    odd = [line for line in body if line not in even]
    a, b = tmp_path / "even.log", tmp_path / "odd.log"
    a.write_bytes(b"\n".join(header + even) + b"\n")
    b.write_bytes(b"\n".join(header + odd))  # no final newline
    return a, b, body


def test_lines_of_several_files_go_out_in_event_time_order(tmp_path):
    a, b, body = _split_by_second(tmp_path)
    replayed = load_lines([str(a), str(b)])
    texts = [v[:-1] for v in replayed.lines.to_pylist()]
    assert len(texts) == len(body) + 4  # the two headers of each file come along
    data = [t for t in texts if not t.startswith(b"#")]
    times = [t.split(b"\t")[1] for t in data]
    assert times == sorted(times) and sorted(data) == sorted(body)
    assert texts[0].startswith(b"#Version") and texts[1].startswith(b"#Fields")
    assert np.all(np.diff(replayed.times_ms) >= 0)
    assert replayed.times_ms[0] == np.datetime64("2025-01-15T14:00:01", "ms").astype(np.int64)


def test_messages_group_lines_within_a_time_bucket(tmp_path):
    replayed = load_lines([str(SAMPLE)])
    one_second = list(messages(replayed, lines_per_message=3, bucket_ms=1000))
    assert all(
        len(v.split(b"\n")) <= 3 and not v.endswith(b"\n") for _, vs in one_second for v in vs
    )
    assert sum(v.count(b"\n") + 1 for _, vs in one_second for v in vs) == len(replayed.lines)
    bucket_times = [t for t, _ in one_second]
    assert bucket_times == sorted(set(bucket_times))
    whole = list(messages(replayed, lines_per_message=1000, bucket_ms=1 << 62))
    assert len(whole) == 1 and len(whole[0][1]) == 1


def test_replay_as_fast_as_possible_with_gzip():
    replayed = load_lines([str(SAMPLE)])
    producer = FakeProducer()
    stats = replay(replayed, producer, "cf", lines_per_message=5, compress=True)
    assert producer.flushed and stats.lines == len(replayed.lines)
    assert (
        stats.messages == len(producer.sent) == -(-len(replayed.lines) // 5) + 0
        or stats.messages >= 6
    )
    plain = b"\n".join(gzip.decompress(v) for _, v in producer.sent)
    assert plain == SAMPLE.read_bytes().rstrip(b"\n")


def test_replay_keeps_the_traffic_shape_at_x_times_real_speed(monkeypatch):
    replayed = load_lines([str(SAMPLE)])
    span_s = (replayed.times_ms[-1] - replayed.times_ms[0]) / 1000
    assert span_s == 12
    clock = {"now": 0.0}
    monkeypatch.setattr("ingest.replay.time.monotonic", lambda: clock["now"])
    monkeypatch.setattr(
        "ingest.replay.time.sleep", lambda s: clock.__setitem__("now", clock["now"] + s)
    )
    sends: list[float] = []

    class TimedProducer(FakeProducer):
        def send(self, topic, value):
            sends.append(clock["now"])
            super().send(topic, value)

    stats = replay(replayed, TimedProducer(), "cf", speed=4.0)
    assert stats.messages == len(replayed.lines)
    assert sends[-1] == pytest.approx(span_s / 4, abs=0.11)
    # The same second of traffic leaves within one wall-clock bucket.
    assert len(set(sends)) <= 13
