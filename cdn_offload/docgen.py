"""Markdown tables for the README generated from the code, so the docs cannot drift.

`python -m cdn_offload.docgen` prints them; a unit test checks the README holds them
verbatim.
"""

from __future__ import annotations

from ingest import schema


def schema_table() -> str:
    lines = ["| field | type | null | meaning |", "|---|---|---|---|"]
    for name, typ, nullable, doc in schema.CANONICAL_FIELDS:
        lines.append(f"| `{name}` | {typ} | {'yes' if nullable else 'no'} | {doc} |")
    return "\n".join(lines)


def status_table() -> str:
    lines = [
        "| canonical `cache_status` | `served_from_cache` | `origin_request` |",
        "|---|---|---|",
    ]
    for status, (served, origin) in schema.STATUS_FLAGS.items():
        lines.append(f"| `{status.value}` | {served.value} | {origin.value} |")
    return "\n".join(lines)


def mapping_table() -> str:
    tables = {
        "CloudFront (`x-edge-response-result-type`, detailed type)": schema.CLOUDFRONT_RESULT_TYPES,
        "Fastly (`fastly_info.state`, suffixes stripped)": schema.FASTLY_STATES,
        "Akamai DataStream 2 (`cacheStatus`)": schema.AKAMAI_CACHE_STATUS,
        "Cloudflare (`CacheCacheStatus`)": schema.CLOUDFLARE_CACHE_STATUS,
        "Azure Front Door (`CacheStatus`)": schema.AZURE_CACHE_STATUS,
        "nginx (`$upstream_cache_status`)": schema.NGINX_CACHE_STATUS,
        "Varnish (`%{Varnish:handling}x`)": schema.VARNISH_HANDLING,
    }
    lines = ["| vendor field | vendor values -> canonical |", "|---|---|"]
    for title, mapping in tables.items():
        by_status: dict[str, list[str]] = {}
        for raw, status in mapping.items():
            by_status.setdefault(status.value, []).append(f"`{raw}`")
        cells = "; ".join(f"{', '.join(v)} -> {k}" for k, v in by_status.items())
        lines.append(f"| {title} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    for title, table in (
        ("schema", schema_table()),
        ("status flags", status_table()),
        ("vendor mapping", mapping_table()),
    ):
        print(f"<!-- {title} -->\n{table}\n")


if __name__ == "__main__":
    main()
