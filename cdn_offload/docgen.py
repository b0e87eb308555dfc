"""Markdown tables for the README generated from the code, so the docs cannot drift.

`python -m cdn_offload.docgen` rewrites the tables between `<!-- NAME -->` and
`<!-- /NAME -->` markers in README.md; a unit test checks the README holds them verbatim.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest import schema

BENCH_RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"
MIB = 1 << 20


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
    path = BENCH_RESULTS / "parse.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    if "machine" in results:
        lines += [_measured(results, "one core per format, gzip files to zstd Parquet"), ""]
    lines += [
        "| format | lines | lines/s per core: best (median) of runs | target | met "
        "| references on the same data, one core |",
        "|---|---:|---:|---:|---|---|",
    ]
    for fmt, row in results.get("formats", results).items():
        refs = []
        if row.get("gunzip_lines_per_s"):
            refs.append(f"gunzip alone: {row['gunzip_lines_per_s']:,}/s")
        if row.get("pyarrow_json_reader_lines_per_s"):
            refs.append(
                f"pyarrow's JSON reader alone: {row['pyarrow_json_reader_lines_per_s']:,}/s"
            )
        if row.get("goaccess_lines_per_s"):
            refs.append(f"GoAccess 1.7: {row['goaccess_lines_per_s']:,}/s")
        ref = "; ".join(refs)
        rate = f"{int(row['lines_per_s_per_core']):,}"
        if len(row.get("cpu_s_runs", [])) > 1:
            median = sorted(row["cpu_s_runs"])[len(row["cpu_s_runs"]) // 2]
            rate += f" ({round(row['lines'] / median):,})"
        target = f"{row['target']:,}" if row.get("target") else "-"
        met = "-" if not row.get("target") else _yes(row["lines_per_s_per_core"] >= row["target"])
        lines.append(f"| `{fmt}` | {int(row['lines']):,} | {rate} | {target} | {met} | {ref} |")
    return "\n".join(lines)


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def kafka_markdown(result: dict[str, Any]) -> str:
    """Kafka end to end against the raw consume rates (bench/bench_kafka.py)."""
    lines = []
    if "command" in result:
        lines += [_measured(result, "CloudFront lines, local Tansu broker, one partition"), ""]
    lines += [
        "| lines per message | lines | raw kafka-python consume | raw, block decoding "
        "| end to end | end to end / raw kafka-python | target | met | peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for r in result["scenarios"]:
        blocks = r.get("raw_blocks_lines_per_s_per_core")
        lines.append(
            f"| {r['lines_per_message']} | {r['lines']:,} | {r['raw_lines_per_s_per_core']:,} "
            f"| {f'{blocks:,}' if blocks else '-'} | {r['e2e_lines_per_s_per_core']:,} "
            f"| {r['e2e_over_raw']:.0%} | {r['target']} | {_yes(r['meets_target'])} "
            f"| {_mib(r.get('e2e_peak_rss_mib'))} |"
        )
    lines += ["", "CPU µs per line by stage, one core:", ""]
    stages = ["collect_values_us", "assemble_and_frame_us", "parse_us", "client_ip_us"]
    stages.append("parquet_write_us")
    lines += [
        "| lines per message | kafka-python fetch | block decoding fetch | collect values "
        "| assemble + frame | parse (CloudFront) | client IP truncation | Parquet write |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["scenarios"]:
        cells = " | ".join(f"{r['stage_us_per_line'][k]:.2f}" for k in stages)
        fast = r.get("raw_blocks_us_per_line")
        lines.append(
            f"| {r['lines_per_message']} | {r['raw_us_per_line']:.2f} "
            f"| {f'{fast:.2f}' if fast else '-'} | {cells} |"
        )
    return "\n".join(lines)


def _measured(result: dict[str, Any], what: str) -> str:
    m = result["machine"]
    return (
        f"Measured on {m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Python "
        f"{m['python']}; {what}. Reproduce: `{result['command']}`."
    )


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} MiB"


def dashboard_markdown(result: dict[str, Any]) -> str:
    """Latency of each page's calls (bench/bench_dashboard.py), page loads in bold."""
    lines = [
        _measured(
            result,
            f"{result['rows']:,} rows over four hours, minute rollups fresh, "
            f"{result['repeat']} warm and {result['repeat']} cached loads per page",
        ),
        "",
        "| page | call | cold | warm median | warm p95 | cached |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for page in result["pages"].values():
        for name, q in page["queries"].items():
            lines.append(
                f"| {page['page']} | `{name}` | {_duration(q['cold_s'])} "
                f"| {_duration(q['warm_median_s'])} | {_duration(q['warm_p95_s'])} "
                f"| {_duration(q['cached_median_s'])} |"
            )
        t = page["total"]
        cells = [t["cold_s"], t["warm_median_s"], t["warm_p95_s"], t["cached_median_s"]]
        lines.append(
            f"| **{page['page']}** | **page load** | "
            + " | ".join(f"**{_duration(c)}**" for c in cells)
            + " |"
        )
    return "\n".join(lines)


def backlog_markdown(result: dict[str, Any]) -> str:
    """Consumer memory against backlog and buffer profile (bench/bench_backlog.py)."""
    rows = result["results"]
    lines = [
        _measured(
            result,
            f"{result['partitions']} partitions, {result['lines_per_message']} lines per message, "
            "the whole backlog in the topic before the consumer starts",
        ),
        "",
        "| buffer profile: flush / buffer / fetch limit | backlog | peak RSS | RSS before "
        "consuming | peak RSS, 1st / 2nd half of the drain | most bytes buffered | pauses "
        "| lines/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lim = r["limits"]
        lines.append(
            f"| {r['profile']}: {lim['flush_max_bytes'] // MIB} / "
            f"{lim['buffer_max_bytes'] // MIB} / {lim['fetch_max_bytes'] // MIB} MiB "
            f"| {r['backlog_lines']:,} lines ({r['backlog_bytes'] / MIB:,.0f} MiB) "
            f"| {r['peak_rss_mib']:,} MiB | {r['baseline_rss_mib']:,} MiB "
            f"| {_mib(r['peak_rss_first_half_mib'])} / {_mib(r['peak_rss_second_half_mib'])} "
            f"| {r['max_buffered_bytes'] / MIB:,.0f} MiB | {r['pauses']} | {r['lines_per_s']:,} |"
        )
    sizes = sorted({r["backlog_lines"] for r in rows})
    growth = []
    for profile in dict.fromkeys(r["profile"] for r in rows):
        peak = {r["backlog_lines"]: r["peak_rss_mib"] for r in rows if r["profile"] == profile}
        if len(sizes) > 1 and sizes[0] in peak and sizes[-1] in peak:
            lo, hi = peak[sizes[0]], peak[sizes[-1]]
            growth.append(f"{profile} {lo:,} -> {hi:,} MiB ({hi - lo:+,} MiB)")
    if growth:
        lines += [
            "",
            f"Peak RSS from {sizes[0]:,} to {sizes[-1]:,} lines of backlog: {'; '.join(growth)}.",
        ]
    return "\n".join(lines)


def scaling_markdown(result: dict[str, Any]) -> str:
    """One consumer against a consumer group on one topic (bench/bench_scaling.py)."""
    lines = [
        _measured(
            result,
            f"one topic of {result['partitions']} partitions, {result['lines_per_message']} "
            f"lines per message, broker on the same cores, best of {result['repeat']} runs",
        ),
        "",
        "| consumers | lines | wall time | lines/s | speed-up | consumer CPU per line "
        "| broker CPU per line | cores busy |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["results"]:
        lines.append(
            f"| {r['consumers']} | {r['lines']:,} | {r['wall_s']:.1f} s | {r['lines_per_s']:,} "
            f"| {r['speedup']:.2f}x | {r['consumer_cpu_us_per_line']:.1f} µs "
            f"| {r['broker_cpu_us_per_line']:.1f} µs | {r['machine_busy_share']:.0%} |"
        )
    return "\n".join(lines)


def _from_results(name: str, render: Callable[[dict[str, Any]], str]) -> Callable[[], str]:
    """A table builder reading bench/results/<name>.json, or saying how to produce it."""

    def build() -> str:
        path = BENCH_RESULTS / f"{name}.json"
        if not path.exists():
            return f"_Not measured yet: run `python -m bench.bench_{name}`._"
        return render(json.loads(path.read_text(encoding="utf-8")))

    return build


TABLES: dict[str, Callable[[], str]] = {
    "formats-table": formats_table,
    "schema-table": schema_table,
    "status-table": status_table,
    "mapping-table": mapping_table,
    "bench-parse": bench_parse_table,
    "bench-kafka": _from_results("kafka", kafka_markdown),
    "bench-dashboard": _from_results("dashboard", dashboard_markdown),
    "bench-backlog": _from_results("backlog", backlog_markdown),
    "bench-scaling": _from_results("scaling", scaling_markdown),
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
