"""Markdown tables for the README generated from the code, so the docs cannot drift.

`python -m cdn_offload.docgen` rewrites the tables between `<!-- NAME -->` and
`<!-- /NAME -->` markers in README.md; a unit test checks the README holds them verbatim.
"""

from __future__ import annotations

from pathlib import Path

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


def formats_table() -> str:
    from ingest import formats

    lines = ["| `--format` | CDN | what it reads |", "|---|---|---|"]
    for name in formats.FORMAT_MODULES:
        mod = formats.module(name)
        cdn = getattr(mod, "CDNS", {}).get(name, mod.CDN)
        text = getattr(mod, "DESCRIPTIONS", {}).get(name, mod.DESCRIPTION)
        lines.append(f"| `{name}` | {cdn} | {text} |")
    return "\n".join(lines)


def bench_parse_table() -> str:
    import json

    path = Path(__file__).resolve().parents[1] / "bench" / "results" / "parse.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    lines = [
        "| format | lines | lines/s per core | target | reference on the same data |",
        "|---|---:|---:|---:|---|",
    ]
    for fmt, row in results.items():
        ref = ""
        if row.get("pyarrow_json_reader_lines_per_s"):
            ref = f"pyarrow's JSON reader alone: {row['pyarrow_json_reader_lines_per_s']:,}/s"
        if row.get("goaccess_lines_per_s"):
            ref = f"GoAccess 1.7: {row['goaccess_lines_per_s']:,}/s"
        target = f"{row['target']:,}" if row.get("target") else "-"
        lines.append(
            f"| `{fmt}` | {int(row['lines']):,} | {int(row['lines_per_s_per_core']):,} | {target} | {ref} |"
        )
    return "\n".join(lines)


TABLES = {
    "formats-table": formats_table,
    "schema-table": schema_table,
    "status-table": status_table,
    "mapping-table": mapping_table,
    "bench-parse": bench_parse_table,
}


def render(text: str) -> str:
    """`text` with every generated table between its markers brought up to date."""
    for name, build in TABLES.items():
        start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
        if start not in text:
            continue
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1] if end in rest else rest
        text = f"{head}{start}\n{build()}\n{end}{tail}"
    return text


def main() -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    readme.write_text(render(readme.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
