"""Flat exports of an offload report: CSV safe to open in a spreadsheet.

Paths, hosts and POP names come from viewers and may be crafted. A spreadsheet
treats a cell starting with = + - @ (or a tab or carriage return, which some strip
first) as a formula, so such cells get a leading single quote (OWASP's CSV
injection advice).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = [
    "section",
    "scope",
    "cdn",
    "pop",
    "path_template",
    "method",
    "severity",
    "flagged",
    "requests",
    "cacheable_requests",
    "request_offload",
    "byte_offload",
    "origin_requests",
    "origin_bytes",
    "revalidation_share",
    "cache_hit_ratio",
    "cache_hit_ratio_strict",
    "origin_requests_per_s",
    "origin_load_share",
    "synthetic_requests",
    "non_cacheable_requests",
]


def safe_cell(value: Any) -> Any:
    """`value`, with a leading quote when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def report_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per overall, CDN, POP, flag, template and non-cacheable-method entry."""
    rows: list[dict[str, Any]] = [{"section": "overall", **report["overall"]}]
    rows += [{"section": "cdn", **r} for r in report["by_cdn"]]
    rows += [{"section": "pop", **r} for r in report.get("by_pop", [])]
    rows += [
        {"section": "flagged", **{k: v for k, v in r.items() if k != "suggestions"}}
        for r in report["flagged"]
    ]
    rows += [{"section": "template", **r} for r in report["templates"]]
    rows += [{"section": "non_cacheable", **r} for r in report.get("non_cacheable", [])]
    return rows


def write_csv(
    rows: Iterable[dict[str, Any]], out: IO[str], columns: list[str] = CSV_COLUMNS
) -> None:
    """Write `rows` as CSV with a header; unknown keys are dropped, every text cell made safe."""
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(row.get(k)) for k in columns})
