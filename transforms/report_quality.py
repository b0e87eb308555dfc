"""The report's data-quality section: the stored validation and the ingest quarantine.

`cdn-offload validate` stores its result; the report shows the latest one and says
whether it covers the report's window. Quarantine counts come from the quarantine
Parquet files (`transforms.quality`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ingest.storage import Location
from transforms import quality
from transforms import report_timeline as tl


def data_quality(data: Location, start: datetime | None, end: datetime | None) -> dict[str, Any]:
    """The latest stored validation (and how it covers [start, end)) and quarantine counts.

    Quarantine rows are those ingested since `start` (all of them when it is None): a
    quarantined line has no trustworthy event time, so the window cannot select them.
    """
    latest = quality.latest_validation(data.uri)
    validation: dict[str, Any] | None = None
    if latest is not None:
        validation = {
            k: latest.get(k)
            for k in (
                "run_id",
                "validated_at",
                "window",
                "rows",
                "partitions",
                "success",
                "failed_checks",
                "gx_version",
            )
        }
        validation["checks"] = [
            {
                k: c.get(k)
                for k in (
                    "name",
                    "description",
                    "success",
                    "unexpected_count",
                    "unexpected_percent",
                    "sample_unexpected",
                    "errors",
                )
            }
            for c in latest.get("checks") or []
            if isinstance(c, dict)
        ]
        validation["covers_window"] = covers(latest.get("window") or {}, start, end)
    summary = quality.quarantine_summary(data.uri, start, None)
    rows = [
        {
            **r,
            "first_ingested_at": tl.iso(r["first_ingested_at"]) if r["first_ingested_at"] else None,
            "last_ingested_at": tl.iso(r["last_ingested_at"]) if r["last_ingested_at"] else None,
        }
        for r in summary.to_pylist()
    ]
    return {
        "available": True,
        "validation": validation,
        "quarantine": rows,
        "quarantine_since": tl.iso(start) if start else None,
        "quarantined_records": sum(r["records"] for r in rows),
    }


def covers(vwin: dict[str, Any], start: datetime | None, end: datetime | None) -> bool | None:
    """Whether a validation window contains [start, end); None when that cannot be told."""

    def parse(text: Any) -> datetime | None:
        try:
            return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
        except ValueError:
            return None

    lo, hi = parse(vwin.get("start")), parse(vwin.get("end"))
    if start is None or end is None:
        return None
    return (lo is None or lo <= start) and (hi is None or hi >= end)
