"""The range ledger: recorded before writing, found after a crash, removed after commit."""

from __future__ import annotations

import json

import pytest

from ingest.kafka_batch import OffsetRange
from ingest.kafka_ranges import RangeLedger
from ingest.storage import list_names, resolve, write_bytes

pytestmark = pytest.mark.unit


def test_record_pending_release(tmp_path):
    ledger = RangeLedger(resolve(str(tmp_path)))
    ledger.record("cf", 2, OffsetRange(0, 9))
    ledger.record("cf", 2, OffsetRange(10, 19))
    ledger.record("cf", 3, OffsetRange(0, 4))
    folder = tmp_path / "_kafka" / "ranges" / "cf" / "00002"
    body = json.loads((folder / "00000000000000000010-00000000000000000019.json").read_text())
    assert (body["first_offset"], body["last_offset"], body["partition"]) == (10, 19, 2)

    # A new owner (new process) finds both ranges beyond the committed offset.
    again = RangeLedger(resolve(str(tmp_path)))
    assert again.pending("cf", 2, committed=None) == [OffsetRange(0, 9), OffsetRange(10, 19)]
    assert again.pending("cf", 2, committed=10) == [OffsetRange(10, 19)]
    assert sorted(p.name for p in folder.iterdir()) == [
        "00000000000000000010-00000000000000000019.json"
    ], "stale records are removed"
    again.release("cf", 2, committed=20)
    assert list(folder.iterdir()) == []
    assert again.pending("cf", 3, committed=0) == [OffsetRange(0, 4)]
    assert again.pending("other", 0, committed=None) == []


def test_committed_inside_a_range_keeps_it(tmp_path):
    ledger = RangeLedger(resolve(str(tmp_path)))
    ledger.record("cf", 0, OffsetRange(5, 9))
    assert ledger.pending("cf", 0, committed=7) == [OffsetRange(5, 9)]


def test_overlapping_ranges_keep_the_first(tmp_path, caplog):
    ledger = RangeLedger(resolve(str(tmp_path)))
    ledger.record("cf", 0, OffsetRange(0, 9))
    ledger.record("cf", 0, OffsetRange(5, 14))
    assert ledger.pending("cf", 0, committed=None) == [OffsetRange(0, 9)]
    assert "Overlapping" in caplog.text


def test_write_bytes_is_atomic_and_leaves_no_temporary_files(tmp_path):
    target = resolve(str(tmp_path)).join("a", "b.json")
    write_bytes(target, b"one")
    write_bytes(target, b"two")
    assert (tmp_path / "a" / "b.json").read_bytes() == b"two"
    assert list_names(resolve(str(tmp_path)).join("a")) == ["b.json"]
    assert list_names(resolve(str(tmp_path)).join("missing")) == []
