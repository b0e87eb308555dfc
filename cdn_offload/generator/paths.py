"""The object each request asks for: path, query and size hints, per template, vectorised."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from cdn_offload.generator import catalog as c
from cdn_offload.generator.population import USER_AGENTS, Population


@dataclass(frozen=True)
class Objects:
    """Per-row object selection for one chunk, in the chunk's row order."""

    path: pl.Series
    query: pl.Series  # null when the request has no query string
    cold: np.ndarray  # bool: long-tail object outside the hot set
    segment_bytes: np.ndarray  # float: body size of media segments, NaN elsewhere


@dataclass(frozen=True)
class Rows:
    """What a template builder sees: the chunk's rows of that template."""

    rng: np.random.Generator
    abs_ms: np.ndarray  # request start, epoch ms
    client: np.ndarray
    population: Population
    image_cdf: np.ndarray
    image_ids: np.ndarray


Built = tuple[pl.Series, pl.Series | None, np.ndarray | None, np.ndarray | None]


def _const(path: str) -> Callable[[Rows], Built]:
    def build(r: Rows) -> Built:
        return pl.Series([path]).gather(np.zeros(r.abs_ms.size, dtype=np.int64)), None, None, None

    return build


def _pick(values: tuple[str, ...], idx: np.ndarray) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String).gather(idx)


def _rendition(r: Rows) -> np.ndarray:
    return r.rng.choice(len(c.RENDITIONS), size=r.abs_ms.size, p=c.RENDITION_WEIGHTS)


def _variant(r: Rows) -> Built:
    prefix = tuple(f"/live/{c.EVENT_SLUG}/{x}/index.m3u8" for x in c.RENDITIONS)
    query = "sid=" + r.population.session.gather(r.client)
    return _pick(prefix, _rendition(r)), query, None, None


def _segment(r: Rows) -> Built:
    rend = _rendition(r)
    # Live edge advances one segment every SEGMENT_SECONDS; players lag 0-3 segments.
    n = r.abs_ms // (c.SEGMENT_SECONDS * 1000) % 10_000_000 - r.rng.integers(0, 4, r.abs_ms.size)
    prefix = tuple(f"/live/{c.EVENT_SLUG}/{x}/seg_" for x in c.RENDITIONS)
    path = (
        pl.DataFrame({"p": _pick(prefix, rend), "n": n})
        .select(pl.concat_str(["p", pl.col("n").cast(pl.String), pl.lit(".m4s")]))
        .to_series()
    )
    bitrate = np.asarray(c.RENDITION_BITRATE_BPS, dtype=np.float64)[rend]
    size = bitrate * c.SEGMENT_SECONDS / 8 * np.exp(r.rng.normal(0.0, 0.08, rend.size))
    return path, None, None, size


def _score(r: Rows) -> Built:
    # The cache buster: client clock in ms, so nearly every request is a new cache key.
    buster = r.abs_ms - r.rng.integers(0, 400, r.abs_ms.size)
    query = pl.Series(buster).cast(pl.String).str.replace(r"^", "_=")
    path, _, _, _ = _const(f"/api/v1/match/{c.MATCH_ID}/score")(r)
    return path, query, None, None


def _commentary(r: Rows) -> Built:
    lang = r.rng.choice(len(c.COMMENTARY_LANGS), size=r.abs_ms.size, p=c.COMMENTARY_LANG_WEIGHTS)
    path, _, _, _ = _const(f"/api/v1/match/{c.MATCH_ID}/commentary")(r)
    return path, "lang=" + _pick(c.COMMENTARY_LANGS, lang), None, None


def _player_image(r: Rows) -> Built:
    rank = np.minimum(
        np.searchsorted(r.image_cdf, r.rng.random(r.abs_ms.size)), r.image_ids.size - 1
    )
    ids = pl.Series(r.image_ids[rank]).cast(pl.String)
    return "/img/players/" + ids + ".webp", None, rank >= c.PLAYER_IMAGE_HOT, None


def _team_logo(r: Rows) -> Built:
    w = np.array([6.0, 5.0] + [1.0] * (len(c.TEAM_CODES) - 2))
    idx = r.rng.choice(len(c.TEAM_CODES), size=r.abs_ms.size, p=w / w.sum())
    return _pick(tuple(f"/img/teams/{t}.webp" for t in c.TEAM_CODES), idx), None, None, None


def _ad(r: Rows) -> Built:
    ids = pl.Series(7000 + r.rng.integers(0, c.AD_CREATIVES, r.abs_ms.size)).cast(pl.String)
    return "/img/ads/" + ids + ".jpg", None, None, None


def _prefs(r: Rows) -> Built:
    return "/api/v1/users/" + r.population.user_id.gather(r.client) + "/prefs", None, None, None


_PLATFORM_OF_UA = np.array(
    [
        3 if cls == "tv" else 2 if cls == "web" else 1 if ("iPhone" in ua) else 0
        for ua, _, cls in USER_AGENTS
    ]
)


def _app_config(r: Rows) -> Built:
    platform = _PLATFORM_OF_UA[r.population.ua[r.client]]
    return _pick(tuple(f"/api/v1/config/{p}" for p in c.APP_PLATFORMS), platform), None, None, None


def _static(kind: str, files: tuple[tuple[str, str], ...]) -> Callable[[Rows], Built]:
    def build(r: Rows) -> Built:
        idx = r.rng.integers(0, len(files), r.abs_ms.size)
        return (
            _pick(tuple(f"/static/{kind}/{n}.{h}.{kind}" for n, h in files), idx),
            None,
            None,
            None,
        )

    return build


BUILDERS: dict[str, Callable[[Rows], Built]] = {
    "hls_master": _const(f"/live/{c.EVENT_SLUG}/master.m3u8"),
    "dash_manifest": _const(f"/live/{c.EVENT_SLUG}/manifest.mpd"),
    "hls_variant": _variant,
    "media_segment": _segment,
    "score_api": _score,
    "commentary_api": _commentary,
    "live_stats_api": _const(f"/api/v1/match/{c.MATCH_ID}/live-stats"),
    "scorecard_api": _const(f"/api/v1/match/{c.MATCH_ID}/scorecard"),
    "player_image": _player_image,
    "team_logo": _team_logo,
    "ad_creative": _ad,
    "user_prefs_api": _prefs,
    "app_config_api": _app_config,
    "qos_beacon": _const("/beacon/qos"),
    "static_js": _static("js", c.STATIC_JS),
    "static_css": _static("css", c.STATIC_CSS),
    "watch_page": _const(f"/watch/{c.EVENT_SLUG}"),
    "http_redirect": _const(f"/watch/{c.EVENT_SLUG}"),
}


def build_objects(rows: Rows, template: np.ndarray) -> Objects:
    """Path, query and size hints of every row, in row order."""
    n = template.size
    order = np.argsort(template, kind="stable")
    bounds = np.searchsorted(template[order], np.arange(len(c.TEMPLATES) + 1))
    paths: list[pl.Series] = []
    queries: list[pl.Series] = []
    cold = np.zeros(n, dtype=bool)
    seg = np.full(n, np.nan)
    for k, tpl in enumerate(c.TEMPLATES):
        idx = order[bounds[k] : bounds[k + 1]]
        if idx.size == 0:
            continue
        sub = Rows(
            rows.rng,
            rows.abs_ms[idx],
            rows.client[idx],
            rows.population,
            rows.image_cdf,
            rows.image_ids,
        )
        path, query, is_cold, size = BUILDERS[tpl.name](sub)
        paths.append(path.alias("path"))
        queries.append(
            (query if query is not None else pl.Series([None] * idx.size, dtype=pl.String)).alias(
                "query"
            )
        )
        if is_cold is not None:
            cold[idx] = is_cold
        if size is not None:
            seg[idx] = size
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    path_all = pl.concat(paths) if paths else pl.Series("path", [], dtype=pl.String)
    query_all = pl.concat(queries) if queries else pl.Series("query", [], dtype=pl.String)
    return Objects(path_all.gather(inverse), query_all.gather(inverse), cold, seg)


def image_popularity() -> tuple[np.ndarray, np.ndarray]:
    """Zipf CDF over player-image ranks and the (fixed) player id of each rank."""
    ranks = np.arange(1, c.PLAYER_IMAGES + 1, dtype=np.float64)
    weights = ranks**-c.PLAYER_IMAGE_ZIPF
    cdf = np.cumsum(weights) / weights.sum()
    ids = np.random.default_rng(7).permutation(c.PLAYER_IMAGES) + 100_000
    return cdf, ids
