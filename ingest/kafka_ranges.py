"""The offset ranges of batches written but not yet committed, kept beside the data.

Before a batch's Parquet files are written, its offset range is recorded under
`DATA_DIR/_kafka/ranges/<topic>/<partition>/<first>-<last>.json`; once the offset
commit covering it succeeds, the record is removed. After a crash, a consumer
taking the partition finds the ranges beyond the committed offset and ends its next
batches exactly there, so it rewrites the same files (same names, same rows) instead
of writing differently cut batches beside them. Readers ignore the `_kafka` folder.
"""

from __future__ import annotations

import json
import logging
import re
import time

from ingest.kafka_batch import OffsetRange
from ingest.storage import Location, delete_file, list_names, write_bytes

log = logging.getLogger(__name__)

LEDGER_DIR = "_kafka/ranges"
_NAME = re.compile(r"^(\d{20})-(\d{20})\.json$")


class RangeLedger:
    """Records of in-flight batch ranges for every partition this data location receives."""

    def __init__(self, data: Location) -> None:
        self.root = data.join(LEDGER_DIR)
        self._open: dict[tuple[str, int], list[OffsetRange]] = {}

    def _folder(self, topic: str, partition: int) -> Location:
        return self.root.join(topic, f"{partition:05d}")

    def _file(self, topic: str, partition: int, rng: OffsetRange) -> Location:
        return self._folder(topic, partition).join(f"{rng.first:020d}-{rng.last:020d}.json")

    def record(self, topic: str, partition: int, rng: OffsetRange) -> None:
        """Durably note that a batch of `rng` is about to be written.

        Raises:
            OSError: the record could not be written; the batch must not be written either.
        """
        body = {
            "topic": topic,
            "partition": partition,
            "first_offset": rng.first,
            "last_offset": rng.last,
            "recorded_at_ms": int(time.time() * 1000),
        }
        write_bytes(self._file(topic, partition, rng), json.dumps(body).encode())
        ranges = self._open.setdefault((topic, partition), [])
        if rng not in ranges:
            ranges.append(rng)

    def pending(self, topic: str, partition: int, committed: int | None) -> list[OffsetRange]:
        """Ranges recorded for the partition that end at or after `committed`, by first offset.

        Records wholly below `committed` are stale (their commit succeeded) and are removed.
        """
        folder = self._folder(topic, partition)
        ranges = []
        for name in list_names(folder):
            match = _NAME.match(name)
            if not match:
                continue
            rng = OffsetRange(int(match.group(1)), int(match.group(2)))
            if committed is not None and rng.last < committed:
                self._forget(folder.join(name))
            else:
                ranges.append(rng)
        ranges.sort(key=lambda r: (r.first, r.last))
        self._open[(topic, partition)] = list(ranges)
        return _non_overlapping(ranges, topic, partition)

    def release(self, topic: str, partition: int, committed: int) -> None:
        """Remove the records of ranges below the committed offset `committed` (best effort)."""
        ranges = self._open.get((topic, partition), [])
        done = [r for r in ranges if r.last < committed]
        for rng in done:
            self._forget(self._file(topic, partition, rng))
        self._open[(topic, partition)] = [r for r in ranges if r.last >= committed]

    def _forget(self, target: Location) -> None:
        try:
            delete_file(target)
        except OSError as exc:
            # A leftover record is harmless: the next assignment removes it.
            log.warning(
                "Could not remove a batch range record.",
                extra={"uri": target.uri, "error": str(exc)},
            )


def _non_overlapping(ranges: list[OffsetRange], topic: str, partition: int) -> list[OffsetRange]:
    kept: list[OffsetRange] = []
    for rng in ranges:
        if kept and rng.first <= kept[-1].last:
            # Only a fenced-out consumer writing concurrently can leave overlaps; the
            # first range wins and the other's rows may appear twice.
            log.error(
                "Overlapping batch ranges found; rows of the later range may be duplicated.",
                extra={"topic": topic, "partition": partition, "first": rng.first},
            )
            continue
        kept.append(rng)
    return kept
