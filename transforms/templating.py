"""Path templates: every HLS segment, user id and image collapses onto one stable template.

`template_paths` is vectorised (Polars string and regex expressions over whole
columns, no Python per path) and deterministic, so the live (Polars) and batch
(DuckDB) rollups share it and agree exactly. It runs once per distinct path, never
per request, and a template depends on the path alone (not on the host).

Order of rules, first decision wins:
1. User rules from configuration (`TemplateRule`), in their order. A path a user rule
   matches gets that rule's result and no built-in rule touches it.
2. Built-in rules, applied to each path segment (file extensions are kept):
   `{uuid}`, `{date}`, `{id}` (all digits), `{hash}` (8+ hex characters with a digit
   and a letter), `{token}` (long opaque strings); then, in the file name only,
   numbers after a separator (`seg_{n}.m4s`, `chunk-{n}.ts`) and hex content hashes
   (`main.{hash}.js`).
Cardinality is bounded later, at rollup time, by `OTHER_TEMPLATE` (see rollups).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from transforms.config import TemplateRule

OTHER_TEMPLATE = "/{other}"

_UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_DATE = r"(?:19|20)\d{2}-[01]\d-[0-3]\d"
_EXTENSION = r"\.[A-Za-z][A-Za-z0-9]{0,7}$"
# Whole-path rewrites done before splitting: a date spread over three segments.
_PATH_DATE = (r"/(?:19|20)\d{2}/[01]\d/[0-3]\d(/|$)", "/{date}${1}")
# File-name rewrites (last segment only). Numbers after a separator are sequence
# numbers; the rule runs twice because a match consumes the separator after it.
_NUMBER_IN_NAME = (r"([_.=-])\d+([^/0-9A-Za-z]|$)", "${1}{n}${2}")
# Runs after the number rule, so an all-digit run is already `{n}` by then.
_HASH_IN_NAME = (r"([._-])[0-9A-Fa-f]{8,}([._-]|$)", "${1}{hash}${2}")
# Media segments named letters+digits without a separator: seg1234.ts, chunk42.m4s.
_SEGMENT_NUMBER = (
    r"([A-Za-z])\d{3,}(\.(?:ts|m4s|m4v|m4a|aac|cmfv|cmfa|vtt|webvtt|mp3))$",
    "${1}{n}${2}",
)

TOKEN_MIN_CHARS = 20
LONG_SEGMENT_CHARS = 40


def _segment_placeholder(stem: pl.Expr) -> pl.Expr:
    """Placeholder for a path segment (without extension) that is an identifier, else null."""
    has_digit = stem.str.contains(r"\d")
    has_letter = stem.str.contains(r"[A-Za-z]")
    # Token heuristics look at what is left once embedded UUIDs and dates are gone,
    # so `avatar-<uuid>` stays `avatar-{uuid}` rather than becoming one token.
    rest = stem.str.replace_all(_UUID, "{uuid}").str.replace_all(_DATE, "{date}")
    length = rest.str.len_chars()
    # Random strings switch between letters and digits and from lower to upper case
    # far more often than words, slugs and CamelCase names do.
    switches = rest.str.count_matches(r"[0-9][A-Za-z]|[A-Za-z][0-9]|[a-z][A-Z]")
    token = (
        (length >= TOKEN_MIN_CHARS)
        & rest.str.contains(r"^[A-Za-z0-9_~+=-]+$")
        & has_digit
        & has_letter
        & (switches >= 6)
    )
    return (
        pl.when(stem.str.contains(f"^{_UUID}$"))
        .then(pl.lit("{uuid}"))
        .when(stem.str.contains(rf"^{_DATE}(?:[T_ ]?[0-2]\d(?::?[0-5]\d){{1,2}}(?:\.\d+)?Z?)?$"))
        .then(pl.lit("{date}"))
        .when(stem.str.contains(r"^\d+$"))
        .then(pl.lit("{id}"))
        .when(stem.str.contains(r"^[0-9A-Fa-f]{8,}$") & has_digit & has_letter)
        .then(pl.lit("{hash}"))
        .when(token | ((length >= LONG_SEGMENT_CHARS) & rest.str.contains(r"\d")))
        .then(pl.lit("{token}"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _file_name_rules(name: pl.Expr) -> pl.Expr:
    for pattern, replacement in (_NUMBER_IN_NAME, _NUMBER_IN_NAME, _HASH_IN_NAME, _SEGMENT_NUMBER):
        name = name.str.replace_all(pattern, replacement)
    return name


def _rewrite_segments(segments: pl.DataFrame) -> pl.DataFrame:
    """Rewritten text of distinct (segment, is_last) pairs that contain a digit."""
    segment = pl.col("segment")
    extension = segment.str.extract(f"({_EXTENSION})", 1).fill_null("")
    stem = segment.str.replace(_EXTENSION, "")
    # Plain UUIDs and numbers are most identifiers; settle them with two cheap regexes
    # and run the full rule chain on the rest only.
    quick = (
        pl.when(stem.str.contains(f"^{_UUID}$"))
        .then(pl.lit("{uuid}") + extension)
        .when(stem.str.contains(r"^\d+$"))
        .then(pl.lit("{id}") + extension)
    )
    segments = segments.with_columns(quick.alias("rewritten"))
    settled = segments.filter(pl.col("rewritten").is_not_null())
    rest = segments.filter(pl.col("rewritten").is_null())
    placeholder = _segment_placeholder(stem)
    inline = segment.str.replace_all(_UUID, "{uuid}").str.replace_all(_DATE, "{date}")
    rewritten = (
        pl.when(placeholder.is_not_null())
        .then(placeholder + extension)
        .when(pl.col("is_last"))
        .then(_file_name_rules(inline))
        .otherwise(inline)
    )
    return pl.concat([settled, rest.with_columns(rewritten.alias("rewritten"))])


def builtin_templates(paths: pl.Series) -> pl.Series:
    """Template of each path under the built-in rules only, in input order."""
    dated = paths.str.replace_all(_PATH_DATE[0], _PATH_DATE[1])
    exploded = (
        pl.DataFrame({"segment": dated.str.split("/")})
        .with_row_index("path_id")
        .explode("segment")
        .with_columns(
            (pl.col("path_id") != pl.col("path_id").shift(-1)).fill_null(True).alias("is_last")
        )
    )
    # Only segments with a digit can hold an identifier; rewrite each distinct one once.
    candidates = _rewrite_segments(
        exploded.filter(pl.col("segment").str.contains(r"\d")).select("segment", "is_last").unique()
    )
    joined = exploded.join(candidates, on=["segment", "is_last"], how="left", maintain_order="left")
    templates = (
        joined.with_columns(pl.coalesce("rewritten", "segment").alias("segment"))
        .group_by("path_id", maintain_order=True)
        .agg(pl.col("segment").str.join("/"))
        .sort("path_id")
    )
    return templates["segment"].alias("path_template")


def template_paths(paths: pl.Series, rules: Sequence[TemplateRule] = ()) -> pl.DataFrame:
    """Frame of `path` and its `path_template`, one row per input path, in input order.

    Deterministic: a path always gets the same template for the same rules, whatever
    else is in the input.
    """
    frame = pl.DataFrame({"path": paths.cast(pl.String)})
    template: pl.Expr = pl.lit(None, dtype=pl.String)
    for rule in reversed(rules):
        matches = pl.col("path").str.contains(rule.pattern)
        template = (
            pl.when(matches)
            .then(pl.col("path").str.replace_all(rule.pattern, rule.template))
            .otherwise(template)
        )
    return frame.with_columns(
        pl.coalesce(template, builtin_templates(frame["path"])).alias("path_template")
    )
