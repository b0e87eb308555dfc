"""Vendor-neutral requests: objects, planted behaviour, per-client evidence, determinism."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest

from cdn_offload.generator.catalog import TEMPLATES, Behaviour, Template
from cdn_offload.generator.config import GeneratorConfig
from cdn_offload.generator.requests import Context, build_chunk

pytestmark = pytest.mark.unit
ROWS = 300_000
CONFIG = GeneratorConfig(rows=ROWS, seed=7, clients=20_000)


@pytest.fixture(scope="module")
def ctx() -> Context:
    return Context.of(CONFIG)


@pytest.fixture(scope="module")
def chunk(ctx: Context) -> pl.DataFrame:
    return build_chunk(ctx, 0, ROWS)


def _offload(df: pl.DataFrame) -> float:
    origin = [
        int(b)
        for b in (
            Behaviour.HIT_STALE,
            Behaviour.REVALIDATED,
            Behaviour.MISS,
            Behaviour.MISS_EXPIRED,
            Behaviour.PASS,
            Behaviour.UNCACHEABLE,
            Behaviour.ORIGIN_ERROR,
        )
    ]
    return 1 - df.filter(pl.col("behaviour").is_in(origin)).height / df.height


def _offset_s(ctx: Context) -> pl.Expr:
    return (pl.col("t_ms") - ctx.config.start_ms) / 1000


def test_same_seed_same_rows_other_seed_other_rows(ctx: Context, chunk: pl.DataFrame) -> None:
    assert build_chunk(ctx, 0, 5_000).equals(build_chunk(ctx, 0, 5_000))
    other = Context.of(GeneratorConfig(rows=ROWS, seed=8, clients=20_000))
    assert not build_chunk(other, 0, 5_000).equals(build_chunk(ctx, 0, 5_000))


def test_rows_are_time_ordered_within_the_match(ctx: Context, chunk: pl.DataFrame) -> None:
    t = chunk["t_ms"].to_numpy()
    assert np.all(np.diff(t) >= 0)
    assert t.min() >= ctx.config.start_ms
    assert t.max() < ctx.config.start_ms + ctx.config.duration_s * 1000


@pytest.mark.parametrize("template", [t for t in TEMPLATES], ids=[t.name for t in TEMPLATES])
def test_every_path_matches_its_template(chunk: pl.DataFrame, template: Template) -> None:
    rows = chunk.filter(pl.col("template") == template.name)
    assert rows.height > 0
    assert rows["path"].str.contains(template.path_regex).all()
    assert (rows["method"] == template.method).all()


def test_generated_text_is_safe_for_unescaped_writers(chunk: pl.DataFrame) -> None:
    for name, dtype in chunk.schema.items():
        if dtype == pl.String:
            bad = chunk[name].drop_nulls().str.contains(r'["\\\t\n\r]')
            assert not bad.any(), name


def test_score_api_cache_buster_makes_each_request_unique(chunk: pl.DataFrame) -> None:
    score = chunk.filter(pl.col("template") == "score_api")
    assert score["query"].str.contains(r"^_=\d{13}$").all()
    assert score["query"].n_unique() > 0.95 * score.height
    assert _offload(score) < 0.1
    commentary = chunk.filter(pl.col("template") == "commentary_api")
    assert commentary["query"].n_unique() <= 7  # the healthy look-alike: a few languages
    assert _offload(commentary) > 0.9


def test_personalised_api_has_one_client_per_object(chunk: pl.DataFrame) -> None:
    prefs = chunk.filter(pl.col("template") == "user_prefs_api")
    per_object = prefs.group_by("path").agg(pl.col("client_ip").n_unique())
    assert (per_object["client_ip"] == 1).all()
    assert set(prefs["behaviour"].unique()) <= {Behaviour.PASS, Behaviour.UNCACHEABLE}


def test_player_images_are_a_long_tail_and_team_logos_are_not(chunk: pl.DataFrame) -> None:
    images = chunk.filter(pl.col("template") == "player_image")
    per_object = images.group_by("path").len()["len"]
    assert np.median(per_object.to_numpy()) <= 2  # most objects are cold
    assert images["path"].n_unique() > 0.3 * images.height
    assert _offload(images) < 0.5
    logos = chunk.filter(pl.col("template") == "team_logo")
    assert logos["path"].n_unique() <= 12 and _offload(logos) > 0.95


def test_beacons_are_posts_that_always_pass(chunk: pl.DataFrame) -> None:
    beacons = chunk.filter(pl.col("template") == "qos_beacon")
    assert (beacons["method"] == "POST").all() and (beacons["status"] == 204).all()
    assert (beacons["behaviour"] == Behaviour.PASS).all()


def test_origin_errors_only_inside_overload_windows(ctx: Context, chunk: pl.DataFrame) -> None:
    errors = chunk.filter(pl.col("behaviour") == Behaviour.ORIGIN_ERROR)
    assert errors.height > 0
    assert set(errors["template"].unique()) == {"live_stats_api"}
    assert errors["status"].is_in([503, 504]).all()
    windows = ctx.timeline.windows("overload")
    offs = errors.select(_offset_s(ctx)).to_series().to_numpy()
    inside = np.zeros(offs.size, dtype=bool)
    for lo, hi in windows:
        inside |= (offs >= lo) & (offs < hi)
    assert inside.all()
    scorecard = chunk.filter(pl.col("template") == "scorecard_api")
    assert (scorecard["behaviour"] != Behaviour.ORIGIN_ERROR).all()


def test_cdn_outlier_is_bad_on_one_cdn_only(ctx: Context, chunk: pl.DataFrame) -> None:
    js = chunk.filter(pl.col("template") == "static_js")
    outlier = ctx.roles["outlier"]
    for cdn, rows in js.partition_by("cdn", as_dict=True).items():
        if cdn[0] == outlier:
            assert _offload(rows) < 0.6 and rows["problem_active"].all()
        else:
            assert _offload(rows) > 0.95 and not rows["problem_active"].any()


def test_midmatch_problem_starts_and_stops_on_one_cdn(ctx: Context, chunk: pl.DataFrame) -> None:
    lo, hi = ctx.timeline.windows("midmatch")[0]
    variant = chunk.filter(pl.col("template") == "hls_variant").with_columns(
        _offset_s(ctx).alias("s")
    )
    on_cdn = variant.filter(pl.col("cdn") == ctx.roles["midmatch"])
    inside = on_cdn.filter((pl.col("s") >= lo) & (pl.col("s") < hi))
    before = on_cdn.filter(pl.col("s") < lo)
    after = on_cdn.filter(pl.col("s") >= hi)
    assert _offload(inside) < 0.5 and inside["problem_active"].all()
    assert _offload(before) > 0.9 and _offload(after) > 0.9
    others = variant.filter(
        (pl.col("cdn") != ctx.roles["midmatch"]) & (pl.col("s") >= lo) & (pl.col("s") < hi)
    )
    assert _offload(others) > 0.9 and not others["problem_active"].any()
    assert variant["query"].str.contains(r"^sid=[0-9a-f]{12}$").all()


def test_redirects_are_plain_http_and_never_on_akamai(chunk: pl.DataFrame) -> None:
    redirects = chunk.filter(pl.col("behaviour") == Behaviour.REDIRECT)
    assert redirects.height > 0
    assert (redirects["status"] == 301).all() and (redirects["scheme"] == "http").all()
    assert "akamai" not in redirects["cdn"].unique().to_list()


def test_pops_and_clients_look_like_each_vendor(chunk: pl.DataFrame) -> None:
    pops = {
        cdn: rows["pop"].unique().to_list()
        for (cdn,), rows in chunk.partition_by("cdn", as_dict=True).items()
    }
    assert all(re.fullmatch(r"[A-Z]{3}\d{1,3}-[A-Z]\d", p) for p in pops["cloudfront"])
    assert all(re.fullmatch(r"cache-[a-z]{3}\d+-[A-Z]{3}", p) for p in pops["fastly"])
    assert all(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", p) for p in pops["akamai"])
    assert all(re.fullmatch(r"[A-Z]{3}", p) for p in pops["cloudflare"])
    assert chunk["client_ip"].n_unique() > 10_000
    assert chunk["client_ip"].str.contains(":").any()  # some IPv6 viewers
    assert (
        chunk["user_agent"].str.contains("ExoPlayer").any()
        and chunk["user_agent"].str.contains("Tizen").any()
    )
