"""Path templates: identifiers become placeholders, stable words stay, user rules win."""

from __future__ import annotations

import csv

import polars as pl
import pytest

from tests.unit.transforms.offload_builders import CASES
from transforms.config import TemplateRule
from transforms.templating import template_paths

pytestmark = pytest.mark.unit


def _cases() -> list[tuple[str, str, str]]:
    with open(CASES / "templates.csv", newline="") as fh:
        return [
            (r[0], r[1], r[2]) for r in csv.reader(line for line in fh if not line.startswith("#"))
        ]


CASES_TABLE = _cases()


@pytest.mark.parametrize(
    ("path", "expected"), [(p, e) for _, p, e in CASES_TABLE], ids=[i for i, _, _ in CASES_TABLE]
)
def test_builtin_template(path: str, expected: str) -> None:
    assert template_paths(pl.Series([path]))["path_template"].to_list() == [expected]


def test_templates_do_not_depend_on_the_other_paths() -> None:
    paths = [p for _, p, _ in CASES_TABLE]
    together = template_paths(pl.Series(paths))["path_template"].to_list()
    alone = [template_paths(pl.Series([p]))["path_template"][0] for p in paths]

    assert together == alone


def test_output_keeps_input_order_and_duplicates() -> None:
    paths = ["/b/2", "/a/1", "/b/2"]

    out = template_paths(pl.Series(paths))

    assert out["path"].to_list() == paths
    assert out["path_template"].to_list() == ["/b/{id}", "/a/{id}", "/b/{id}"]


def test_user_rules_take_precedence_in_order() -> None:
    rules = [
        TemplateRule(
            pattern=r"^/api/v1/match/(\d+)/score$", template="/api/v1/match/{match}/score"
        ),
        TemplateRule(pattern=r"^/api/v1/match/", template="/api/v1/match/{anything}"),
        TemplateRule(pattern=r"^/season/(\d{4})/(.*)$", template="/season/$1/{rest}"),
    ]
    paths = pl.Series(
        ["/api/v1/match/90211/score", "/api/v1/match/7/odds", "/season/2024/x/1", "/img/7.webp"]
    )

    out = template_paths(paths, rules)["path_template"].to_list()

    # The season rule keeps the year, which the built-in numeric rule would replace.
    assert out == [
        "/api/v1/match/{match}/score",
        "/api/v1/match/{anything}7/odds",
        "/season/2024/{rest}",
        "/img/{id}.webp",
    ]


def test_empty_input() -> None:
    out = template_paths(pl.Series([], dtype=pl.String))

    assert out.height == 0
    assert out.columns == ["path", "path_template"]
