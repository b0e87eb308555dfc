"""Supported log formats: format name -> module that parses it.

Every module exposes the same surface: `FORMAT` (its name), `CDN` (vendor),
`DESCRIPTION`, `parse(lines: RawLines) -> ParseResult` and
`sniff(sample: list[str], header: str | None) -> bool` for auto-detection. Modules are
imported on first use so that a format's heavy imports cost nothing until needed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

from ingest.records import ParseResult, RawLines

# Detection tries formats in this order: the most specific signatures first.
FORMAT_MODULES: dict[str, str] = {
    "cloudfront_standard": "ingest.formats.cloudfront",
    "cloudfront_realtime": "ingest.formats.cloudfront_realtime",
    "cloudflare_logpush": "ingest.formats.cloudflare_logpush",
    "akamai_ds2": "ingest.formats.akamai_ds2",
    "gcp_cdn": "ingest.formats.gcp_cdn",
    "azure_front_door": "ingest.formats.azure_front_door",
    "fastly_json": "ingest.formats.fastly",
    "nginx": "ingest.formats.nginx",
    "varnish": "ingest.formats.nginx",
}


def module(name: str) -> ModuleType:
    """The module of format `name`.

    Raises:
        KeyError: `name` is not a supported format.
    """
    if name not in FORMAT_MODULES:
        raise KeyError(name)
    return importlib.import_module(FORMAT_MODULES[name])


def parser(name: str) -> Callable[[RawLines], ParseResult]:
    mod = module(name)
    fn = getattr(mod, "PARSERS", {}).get(name, mod.parse)
    return fn


def sniffer(name: str) -> Callable[[list[str], str | None], bool]:
    mod = module(name)
    fn = getattr(mod, "SNIFFERS", {}).get(name, mod.sniff)
    return fn
