"""Argument handling of `ingest kafka`, `replay` and `broker` (no broker needed)."""

from __future__ import annotations

import pytest

from cdn_offload.cli import build_parser, main
from cdn_offload.commands.broker import parse_topics
from cdn_offload.commands.ingest_kafka import _topics

pytestmark = pytest.mark.unit


def test_commands_are_registered():
    parser = build_parser()
    args = parser.parse_args(
        [
            "ingest",
            "kafka",
            "--topic",
            "a",
            "--topic",
            "b=fastly_json",
            "--out",
            "d",
            "--max-batches",
            "3",
        ]
    )
    assert args.max_batches == 3 and callable(args.func)
    assert _topics(args) == {"a": "auto", "b": "fastly_json"}
    args.format = "nginx"
    assert _topics(args) == {"a": "nginx", "b": "fastly_json"}
    replay = parser.parse_args(["replay", "x.log", "--topic", "t", "--max", "--gzip"])
    assert replay.max and replay.gzip and replay.lines_per_message == 1
    broker = parser.parse_args(["broker", "--topic", "a:6", "--topic", "b"])
    assert parse_topics(broker.topics, broker.partitions) == {"a": 6, "b": 3}


def test_replay_speed_and_max_are_exclusive():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["replay", "x.log", "--topic", "t", "--max", "--speed", "2"])


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        pytest.param(["ingest", "kafka", "--topic", "t"], "--out", id="no-out"),
        pytest.param(["ingest", "kafka", "--out", "d"], "--topic", id="no-topic"),
        pytest.param(
            ["ingest", "kafka", "--out", "d", "--topic", "t=nope"], "format 'nope'", id="bad-format"
        ),
    ],
)
def test_ingest_kafka_configuration_errors_exit_2(argv, needle, capsys, monkeypatch):
    monkeypatch.delenv("CDN_OFFLOAD_INGEST_OUT", raising=False)
    assert main(argv) == 2
    assert needle in capsys.readouterr().err


def test_bad_partition_count():
    with pytest.raises(ValueError, match="partitions must be positive"):
        parse_topics(["a:0"], 3)
