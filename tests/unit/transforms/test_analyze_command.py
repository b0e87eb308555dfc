"""`cdn-offload analyze`: the JSON contract, CSV and table output, errors."""

from __future__ import annotations

import csv
import io
import json

import pytest

from cdn_offload.cli import main
from tests.unit.transforms.offload_builders import hits_and_misses, row, write_raw

pytestmark = pytest.mark.unit
METRICS = {
    "requests",
    "cacheable_requests",
    "request_offload",
    "byte_offload",
    "origin_requests",
    "origin_bytes",
    "revalidation_share",
}
FLAG_FIELDS = {
    "path_template",
    "cdn",
    "requests",
    "request_offload",
    "byte_offload",
    "origin_requests",
    "origin_bytes",
    "severity",
    "suggestions",
}
EVIL_POP = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("cli")
    rows = hits_and_misses("/api/v1/match/1/score", "cloudfront", 100, 900)
    rows += hits_and_misses("/live/final/master.m3u8", "fastly", 990, 10, pop=EVIL_POP)
    rows += [row(path="/[bold]red[/bold]/1", cache_status="MISS", pop="+1-2", host="@evil")] * 5
    write_raw(data_dir, rows)
    return data_dir


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_follows_the_contract(data_dir, capsys) -> None:
    code, out, _ = _run(
        capsys, "--data", str(data_dir), "--format", "json", "--min-requests", "100"
    )
    result = json.loads(out)

    assert code == 0
    assert {"window", "threshold", "overall", "by_cdn", "flagged", "templates"} <= set(result)
    assert {"from", "to"} <= set(result["window"])
    assert result["threshold"] == 0.9
    assert set(result["overall"]) >= METRICS
    assert all(METRICS | {"cdn"} <= set(c) for c in result["by_cdn"])
    assert [c["cdn"] for c in result["by_cdn"]] == ["cloudfront", "fastly"]
    (flag,) = result["flagged"]
    assert set(flag) >= FLAG_FIELDS
    assert (flag["path_template"], flag["cdn"], flag["severity"], flag["suggestions"]) == (
        "/api/v1/match/{id}/score",
        None,
        "P1",
        [],
    )
    assert flag["request_offload"] == pytest.approx(0.1)
    assert all(METRICS | {"path_template", "flagged"} <= set(t) for t in result["templates"])
    assert [t["flagged"] for t in result["templates"]] == [True, False, False]


def test_threshold_and_window_options(data_dir, capsys) -> None:
    _, out, _ = _run(
        capsys,
        "--data",
        str(data_dir),
        "--format",
        "json",
        "--threshold",
        "0.05",
        "--from",
        "2024-03-10T10:00:30",
        "--to",
        "2024-03-10T10:00:30+00:00",
    )
    result = json.loads(out)

    assert result["threshold"] == 0.05
    assert result["flagged"] == []
    assert result["window"]["from"] == "2024-03-10T10:00:00Z"
    assert result["window"]["to"] == "2024-03-10T10:01:00Z"


def test_csv_output_neutralises_formulas(data_dir, capsys) -> None:
    _, out, _ = _run(capsys, "--data", str(data_dir), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))

    pops = {r["pop"] for r in rows if r["section"] == "pop"}
    assert "'" + EVIL_POP in pops
    assert "'+1-2" in pops
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values() if v)
    overall = next(r for r in rows if r["section"] == "overall")
    assert float(overall["cacheable_requests"]) == 2005


def test_table_output_prints_attacker_text_verbatim(data_dir, capsys) -> None:
    code, out, _ = _run(capsys, "--data", str(data_dir), "--min-requests", "1")

    assert code == 0
    assert "Flagged" in out
    assert "[bold]red[/bold]" in out.replace("\n", "").replace("│", "").replace(" ", "")


def test_missing_data_directory_is_a_clear_error(tmp_path, capsys) -> None:
    code, out, err = _run(capsys, "--data", str(tmp_path / "nothing"))

    assert code == 2
    assert out == ""
    assert "no data under" in err and "cdn-offload ingest" in err


def test_invalid_setting_names_it(data_dir, capsys) -> None:
    code, _, err = _run(capsys, "--data", str(data_dir), "--threshold", "1.5")

    assert code == 2
    assert "threshold" in err


def test_rollups_are_used_once_built(data_dir, capsys) -> None:
    _, raw_out, _ = _run(capsys, "--data", str(data_dir), "--format", "json", "--source", "raw")
    _, built_out, _ = _run(capsys, "--data", str(data_dir), "--format", "json", "--update-rollups")
    raw, built = json.loads(raw_out), json.loads(built_out)

    assert built["window"]["source"] == "rollups"
    assert built["overall"] == pytest.approx(raw["overall"])
    assert built["flagged"] == raw["flagged"]
