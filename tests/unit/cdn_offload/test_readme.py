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


@pytest.mark.parametrize("name", ["dashboard", "backlog", "scaling"])
def test_a_benchmark_not_run_yet_says_how_to_run_it(tmp_path, monkeypatch, name):
    monkeypatch.setattr(docgen, "BENCH_RESULTS", tmp_path)
    text = f"before\n<!-- bench-{name} -->\nold figures\n<!-- /bench-{name} -->\nafter\n"

    assert render(text) == (
        f"before\n<!-- bench-{name} -->\n"
        f"_Not measured yet: run `python -m bench.bench_{name}`._\n"
        f"<!-- /bench-{name} -->\nafter\n"
    )
