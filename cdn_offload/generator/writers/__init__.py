"""One writer module per vendor log format.

Every module exposes `CDN`, `FORMAT` (the ingest format that parses its output),
`enrich(df, rng)` (adds the vendor fields and the intended canonical columns
`event_ms`, `request_id`, `cache_status`, `canonical_pop`), `render(df) -> bytes`
(newline-terminated lines), `header(hour_ms) -> bytes` and `file_name(hour_ms, token)`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

WRITER_MODULES = {
    "cloudfront": "cdn_offload.generator.writers.cloudfront",
    "fastly": "cdn_offload.generator.writers.fastly",
    "akamai": "cdn_offload.generator.writers.akamai",
    "cloudflare": "cdn_offload.generator.writers.cloudflare",
    "gcp": "cdn_offload.generator.writers.gcp",
    "azure": "cdn_offload.generator.writers.azure",
}


def writer(cdn: str) -> ModuleType:
    """The writer module of `cdn`.

    Raises:
        KeyError: no writer for `cdn`.
    """
    return importlib.import_module(WRITER_MODULES[cdn])
