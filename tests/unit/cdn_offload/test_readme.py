"""The README's generated tables match the code (`python -m cdn_offload.docgen` fixes them)."""

from pathlib import Path

from cdn_offload.docgen import TABLES, render

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_tables_are_current():
    text = README.read_text(encoding="utf-8")
    for name in TABLES:
        assert f"<!-- {name} -->" in text, f"README lost the {name} marker"
    assert render(text) == text, "README tables are stale: run python -m cdn_offload.docgen"
