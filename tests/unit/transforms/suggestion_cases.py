"""Shared data for the suggestion, evidence, comparison, snapshot and capacity tests.

`generated_match()` generates one synthetic match with every planted cache-policy
problem (cdn_offload.generator), ingests it through the real file pipeline, and
memoises the result for the whole test session, so the test modules that use it
pay for it once. `planted_for` maps our path templates onto the ground truth of
`match.json`, whose templates use their own placeholder names.
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdn_offload.generator import GeneratorConfig, generate
from ingest.config import load_settings as load_ingest_settings
from ingest.file_source import ingest_files

CONFIG = GeneratorConfig(rows=250_000, seed=42)
# Placeholder values that satisfy the generator's path regexes.
_SAMPLES = {
    "{id}": "90210",
    "{uuid}": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "{hash}": "3f9c2a71",
    "{n}": "17",
}


@dataclass(frozen=True)
class Match:
    """A generated, ingested match: the data directory and its ground truth."""

    data: Path
    doc: dict[str, Any]

    @property
    def problems(self) -> list[dict[str, Any]]:
        return list(self.doc["planted_problems"])

    def regex_of(self, name: str) -> str:
        return next(t["path_regex"] for t in self.doc["templates"] if t["name"] == name)


_CACHE: dict[str, Match] = {}


def generated_match() -> Match:
    """The session's generated match (generated and ingested on first use)."""
    if "match" not in _CACHE:
        root = Path(tempfile.mkdtemp(prefix="cdn-offload-suggestions-"))
        atexit.register(shutil.rmtree, root, True)
        generate(CONFIG, root / "logs")
        settings = load_ingest_settings(None, out=str(root / "data"))
        inputs = [str(root / "logs" / cdn) for cdn in CONFIG.cdns]
        summary = ingest_files(inputs, settings)
        assert summary.rows_quarantined == 0, summary.as_json()
        doc = json.loads((root / "logs" / "match.json").read_text())
        _CACHE["match"] = Match(root / "data", doc)
    return _CACHE["match"]


def copy_of(match: Match, target: Path) -> Path:
    """A copy of the match's data directory (for tests that write rollups)."""
    shutil.copytree(match.data, target)
    return target


def template_matches(path_template: str, regex: str) -> bool:
    """Whether our template stands for paths the generator's `regex` matches."""
    sample = path_template
    for placeholder, value in _SAMPLES.items():
        sample = sample.replace(placeholder, value)
    return re.fullmatch(regex.lstrip("^").rstrip("$"), sample) is not None


def planted_for(match: Match, path_template: str) -> list[dict[str, Any]]:
    """The planted problems whose template `path_template` is."""
    return [p for p in match.problems if template_matches(path_template, p["path_regex"])]


def expected_cdn(match: Match, problem: dict[str, Any]) -> str | None:
    """The CDN a suggestion for `problem` names: None when every CDN has it."""
    return None if set(problem["cdns"]) == set(match.doc["cdns"]) else problem["cdns"][0]
