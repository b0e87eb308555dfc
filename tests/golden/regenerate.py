"""Golden files: canonical rows expected from each `sample_logs/<dir>/<case>.log`.

`python -m tests.golden.regenerate [DIR ...]` rewrites `tests/golden/<dir>/<case>.expected.jsonl`
from the current parsers (format auto-detected, client IPs truncated as file ingest does).
Review the diff before committing: a golden change is a behaviour change.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from ingest.framing import decompress, frame
from ingest.pipeline import parse_framed, resolve_format

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_logs"
GOLDEN = REPO / "tests" / "golden"


def expected_rows(sample: Path) -> list[dict[str, object]]:
    """Canonical rows of `sample` as JSON-ready dicts (lineage file name relative to the repo)."""
    name = str(sample.relative_to(REPO))
    framed = frame(decompress(sample.read_bytes(), sample.name), source_file=name)
    fmt = resolve_format("auto", framed, name)
    result = parse_framed(framed, fmt, client_ip_mode="truncate")
    rows = result.rows.to_pylist()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, datetime):
                row[key] = value.isoformat()
    return rows


def golden_cases() -> list[tuple[Path, Path]]:
    """(sample, expected file) pairs for every sample that has a golden file."""
    pairs = []
    for expected in sorted(GOLDEN.glob("*/*.expected.jsonl")):
        case = expected.name.removesuffix(".expected.jsonl")
        matches = sorted((SAMPLES / expected.parent.name).glob(f"{case}.*"))
        if matches:
            pairs.append((matches[0], expected))
    return pairs


def regenerate(dirs: list[str]) -> None:
    for d in dirs:
        for sample in sorted((SAMPLES / d).iterdir()):
            if sample.name.startswith("malformed") or sample.suffix in {".md", ".json"}:
                continue
            out = GOLDEN / d / (sample.name.split(".")[0] + ".expected.jsonl")
            out.parent.mkdir(parents=True, exist_ok=True)
            rows = expected_rows(sample)
            out.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
            print(f"{out.relative_to(REPO)}: {len(rows)} rows")


if __name__ == "__main__":
    regenerate(sys.argv[1:] or sorted(p.name for p in SAMPLES.iterdir() if p.is_dir()))
