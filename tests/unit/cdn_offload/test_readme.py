"""The README's generated tables match the code (`python -m cdn_offload.docgen` fixes them)."""

from pathlib import Path

import pytest

from cdn_offload import docgen
from cdn_offload.docgen import TABLES, render

README = Path(__file__).resolve().parents[3] / "README.md"
MACHINE = {"cpu": "AMD EPYC", "cores": 2, "ram_gib": 23.5, "python": "3.11.7"}
MIB = 1 << 20


def test_readme_tables_are_current():
    text = README.read_text(encoding="utf-8")
    for name in TABLES:
        assert f"<!-- {name} -->" in text, f"README lost the {name} marker"
    assert render(text) == text, "README tables are stale: run python -m cdn_offload.docgen"


def _query(cold: float, median: float, p95: float, cached: float, toggle: bool = False) -> dict:
    return {
        "cold_s": cold,
        "warm_median_s": median,
        "warm_p95_s": p95,
        "cached_median_s": cached,
        "on_demand": toggle,
    }


def test_dashboard_table_has_every_call_and_the_page_load():
    result = {
        "machine": MACHINE,
        "command": "python -m bench.bench_dashboard --rows 1000",
        "rows": 1000,
        "repeat": 5,
        "pages": {
            "live": {
                "page": "Live",
                "queries": {
                    "data_status": _query(0.04, 0.02, 0.03, 0.0001),
                    "window_view, last 15 min": _query(1.5, 1.25, 1.4, 0.0005),
                },
                "total": _query(1.54, 1.27, 1.43, 0.0006),
            }
        },
    }

    lines = docgen.dashboard_markdown(result).splitlines()

    assert lines[0].startswith("Measured on 2 cores (AMD EPYC), 23.5 GiB RAM, Python 3.11.7;")
    assert "1,000 rows" in lines[0]
    assert lines[0].endswith("Reproduce: `python -m bench.bench_dashboard --rows 1000`.")
    assert lines[4:] == [
        "| Live | `data_status` | 40.0 ms | 20.0 ms | 30.0 ms | 0.1 ms |",
        "| Live | `window_view, last 15 min` | 1.50 s | 1.25 s | 1.40 s | 0.5 ms |",
        "| **Live** | **page load** | **1.54 s** | **1.27 s** | **1.43 s** | **0.6 ms** |",
    ]


def _backlog_row(profile: str, flush_mib: int, backlog: int, peak: int) -> dict:
    return {
        "profile": profile,
        "limits": {
            "flush_max_bytes": flush_mib * MIB,
            "buffer_max_bytes": 8 * flush_mib * MIB,
            "fetch_max_bytes": 2 * flush_mib * MIB,
            "max_partition_fetch_bytes": flush_mib * MIB // 2,
        },
        "backlog_lines": backlog,
        "backlog_bytes": backlog * 448,
        "peak_rss_mib": peak,
        "baseline_rss_mib": 209,
        "peak_rss_first_half_mib": peak - 20,
        "peak_rss_second_half_mib": None,
        "max_buffered_bytes": 4 * flush_mib * MIB,
        "pauses": 0,
        "lines_per_s": 120_000,
    }


def test_backlog_table_states_the_limits_and_the_growth_with_backlog():
    result = {
        "machine": MACHINE,
        "command": "python -m bench.bench_backlog --backlogs 500000 2000000",
        "partitions": 4,
        "lines_per_message": 100,
        "results": [
            _backlog_row("default", 32, 500_000, 944),
            _backlog_row("small", 4, 500_000, 420),
            _backlog_row("default", 32, 2_000_000, 987),
            _backlog_row("small", 4, 2_000_000, 428),
        ],
    }

    lines = docgen.backlog_markdown(result).splitlines()

    assert "4 partitions, 100 lines per message" in lines[0]
    assert lines[4] == (
        "| default: 32 / 256 / 64 MiB | 500,000 lines (214 MiB) | 944 MiB | 209 MiB "
        "| 924 MiB / - | 128 MiB | 0 | 120,000 |"
    )
    assert lines[-1] == (
        "Peak RSS from 500,000 to 2,000,000 lines of backlog: "
        "default 944 -> 987 MiB (+43 MiB); small 420 -> 428 MiB (+8 MiB)."
    )


def test_scaling_table_reports_the_speed_up_and_where_the_cpu_goes():
    run = {
        "lines": 2_000_000,
        "wall_s": 16.0,
        "consumer_cpu_us_per_line": 7.4,
        "broker_cpu_us_per_line": 0.6,
    }
    result = {
        "machine": MACHINE,
        "command": "python -m bench.bench_scaling --lines 2000000",
        "partitions": 4,
        "lines_per_message": 100,
        "repeat": 2,
        "results": [
            {
                **run,
                "consumers": 1,
                "lines_per_s": 125_000,
                "speedup": 1.0,
                "machine_busy_share": 0.58,
            },
            {
                **run,
                "consumers": 2,
                "lines_per_s": 212_500,
                "speedup": 1.7,
                "machine_busy_share": 0.97,
            },
        ],
    }

    lines = docgen.scaling_markdown(result).splitlines()

    assert "best of 2 runs" in lines[0]
    assert lines[4:] == [
        "| 1 | 2,000,000 | 16.0 s | 125,000 | 1.00x | 7.4 µs | 0.6 µs | 58% |",
        "| 2 | 2,000,000 | 16.0 s | 212,500 | 1.70x | 7.4 µs | 0.6 µs | 97% |",
    ]


@pytest.mark.parametrize("name", ["dashboard", "backlog", "scaling", "kafka"])
def test_a_benchmark_not_run_yet_says_how_to_run_it(tmp_path, monkeypatch, name):
    monkeypatch.setattr(docgen, "BENCH_RESULTS", tmp_path)
    text = f"before\n<!-- bench-{name} -->\nold figures\n<!-- /bench-{name} -->\nafter\n"

    assert render(text) == (
        f"before\n<!-- bench-{name} -->\n"
        f"_Not measured yet: run `python -m bench.bench_{name}`._\n"
        f"<!-- /bench-{name} -->\nafter\n"
    )


def _kafka_row(per_message: int, raw: int, blocks: int, e2e: int, met: bool) -> dict:
    stages = {
        "collect_values_us": 0.5,
        "assemble_and_frame_us": 0.7,
        "parse_us": 2.0,
        "client_ip_us": 0.16,
        "parquet_write_us": 0.8,
    }
    return {
        "lines_per_message": per_message,
        "lines": 300_000,
        "raw_lines_per_s_per_core": raw,
        "raw_blocks_lines_per_s_per_core": blocks,
        "e2e_lines_per_s_per_core": e2e,
        "e2e_over_raw": e2e / raw,
        "target": ">= 70% of raw",
        "meets_target": met,
        "e2e_peak_rss_mib": 700,
        "raw_us_per_line": 1e6 / raw,
        "raw_blocks_us_per_line": 1e6 / blocks,
        "stage_us_per_line": stages,
    }


def test_kafka_table_shows_both_ceilings_and_whether_targets_are_met():
    result = {
        "machine": MACHINE,
        "command": "python -m bench.bench_kafka --lines 300000 --batched-lines 1000000",
        "scenarios": [
            _kafka_row(1, 200_000, 800_000, 160_000, True),
            _kafka_row(100, 2_000_000, 4_000_000, 100_000, False),
        ],
    }
    lines = docgen.kafka_markdown(result).splitlines()
    assert lines[0].startswith("Measured on 2 cores (AMD EPYC)")
    assert lines[4] == (
        "| 1 | 300,000 | 200,000 | 800,000 | 160,000 | 80% | >= 70% of raw | yes | 700 MiB |"
    )
    assert "| **no** |" in lines[5]
    assert lines[-1] == "| 100 | 0.50 | 0.25 | 0.50 | 0.70 | 2.00 | 0.16 | 0.80 |"


def test_parse_table_flags_formats_below_target(tmp_path, monkeypatch):
    (tmp_path / "parse.json").write_text(
        '{"machine": {"cpu": "X", "cores": 2, "ram_gib": 8, "python": "3.11"},'
        ' "command": "python -m bench.bench_parse --rows 10", "formats": {'
        '"cloudfront_standard": {"lines": 10, "lines_per_s_per_core": 310000, "target": 300000,'
        ' "cpu_s_runs": [0.00004, 0.00003, 0.00005], "gunzip_lines_per_s": 900000},'
        '"akamai_ds2": {"lines": 10, "lines_per_s_per_core": 140000, "target": 150000,'
        ' "pyarrow_json_reader_lines_per_s": 200000},'
        '"nginx": {"lines": 10, "lines_per_s_per_core": 90000, "target": null}}}'
    )
    monkeypatch.setattr(docgen, "BENCH_RESULTS", tmp_path)
    lines = docgen.bench_parse_table().splitlines()
    assert lines[0].startswith("Measured on 2 cores (X)")
    assert lines[4:] == [
        "| `cloudfront_standard` | 10 | 310,000 (250,000) | 300,000 | yes | gunzip alone: 900,000/s |",
        "| `akamai_ds2` | 10 | 140,000 | 150,000 | **no** | pyarrow's JSON reader alone: 200,000/s |",
        "| `nginx` | 10 | 90,000 | - | - |  |",
    ]
