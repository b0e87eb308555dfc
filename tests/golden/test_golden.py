"""Every sample with a golden file parses to exactly the expected canonical rows."""

import json

import pytest

from tests.golden.regenerate import expected_rows, golden_cases

CASES = golden_cases()


@pytest.mark.parametrize(
    ("sample", "expected"), CASES, ids=[f"{e.parent.name}/{s.name}" for s, e in CASES]
)
def test_sample_matches_golden(sample, expected):
    want = [json.loads(line) for line in expected.read_text().splitlines() if line]
    got = json.loads(json.dumps(expected_rows(sample), sort_keys=True))
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"row {i} differs"


def test_there_are_golden_cases():
    assert CASES, "no golden files found under tests/golden"
