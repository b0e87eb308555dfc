"""Format settings reach the parsers through ingest: real-time field lists, sampling,
and Azure Event Hub envelopes unwrapped into one record per row."""

from pathlib import Path

import pyarrow.dataset as ds
import pytest

from ingest.config import load_settings
from ingest.errors import ConfigError
from ingest.file_source import ingest_files
from ingest.formats import cloudfront_realtime as rt

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).resolve().parents[3] / "sample_logs"


def rows_of(out: Path) -> list[dict]:
    table = ds.dataset(out / "raw", format="parquet", partitioning="hive").to_table()
    return sorted(table.to_pylist(), key=lambda r: (r["_source_line"], r["request_id"] or ""))


def test_azure_envelopes_are_unwrapped_with_the_envelope_line(tmp_path):
    src = tmp_path / "PT1H.json"
    src.write_bytes((SAMPLES / "azure_front_door" / "eventhub_records.json").read_bytes())
    summary = ingest_files([str(src)], load_settings(out=str(tmp_path / "out")))
    assert summary.rows_quarantined == 0
    assert summary.lines_read == summary.rows_written == 4  # records, from two envelope lines
    assert [r["_source_line"] for r in rows_of(tmp_path / "out")] == [1, 1, 1, 2]


def test_realtime_field_list_and_sampling_come_from_settings(tmp_path):
    fields = ["timestamp", "sc-status", "cs-method", "cs-uri-stem", "x-edge-location"]
    keep = [rt.DEFAULT_FIELDS.index(f) for f in fields]
    records = (SAMPLES / "cloudfront_realtime" / "live_match.log").read_text().splitlines()
    picked = ["\t".join(line.split("\t")[i] for i in keep) for line in records[:4]]
    src = tmp_path / "records.log"
    src.write_text("\n".join(picked) + "\n")
    settings = load_settings(
        out=str(tmp_path / "out"),
        format="cloudfront_realtime",
        cloudfront_realtime_fields=fields,
        cloudfront_realtime_sampling_pct=25,
    )
    summary = ingest_files([str(src)], settings)
    assert summary.rows_written == 4 and summary.rows_quarantined == 0
    rows = rows_of(tmp_path / "out")
    assert {r["sample_weight"] for r in rows} == {4.0}
    assert rows[0]["path"] == "/live/ind-aus-t20/master.m3u8"
    assert rows[0]["pop"] == "BOM78-P1"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        pytest.param(
            {"cloudfront_realtime_fields": ["timestamp", "c-ip"]},
            "cs-method, cs-uri-stem, sc-status",
            id="fields-lack-required",
        ),
        pytest.param(
            {"cloudfront_realtime_sampling_pct": 0},
            "ingest.cloudfront_realtime_sampling_pct",
            id="sampling-zero",
        ),
    ],
)
def test_bad_format_settings_are_named(overrides, named):
    with pytest.raises(ConfigError) as err:
        load_settings(**overrides)
    assert named in str(err.value)
