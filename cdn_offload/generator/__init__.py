"""Synthetic multi-CDN live-cricket match, written in each vendor's own log format.

`generate(config, out_dir)` writes hourly gzip files under `out_dir/<cdn>/` plus the
ground truth `out_dir/match.json` (timeline, planted cache-policy problems, intended
counts). `iter_intended(config)` yields the canonical rows the parsers must give back,
chunk by chunk, without writing anything. Same config and seed, same bytes.
"""

from __future__ import annotations

from cdn_offload.generator.config import DEFAULT_CDNS, SUPPORTED_CDNS, GeneratorConfig
from cdn_offload.generator.run import INTENDED_COLUMNS, Summary, generate, iter_intended

__all__ = [
    "DEFAULT_CDNS",
    "INTENDED_COLUMNS",
    "SUPPORTED_CDNS",
    "GeneratorConfig",
    "Summary",
    "generate",
    "iter_intended",
]
