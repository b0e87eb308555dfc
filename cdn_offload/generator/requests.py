"""One chunk of vendor-neutral requests: time, template, CDN, client, object, cache behaviour.

Chunk `k` of `K` covers the `k`-th slice of the cumulative traffic curve, so chunks are
contiguous in time and each is reproducible from `(seed, k)` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from cdn_offload.generator import catalog as c
from cdn_offload.generator.catalog import AltWhen, Behaviour
from cdn_offload.generator.config import CDN_SHARE, GeneratorConfig
from cdn_offload.generator.paths import Rows, build_objects, image_popularity
from cdn_offload.generator.population import (
    POPS,
    PROTOCOLS,
    REGIONS,
    TLS,
    UA_CLASSES,
    USER_AGENTS,
    Population,
    build_population,
)
from cdn_offload.generator.traffic import Sampler, Timeline, build_timeline, intensity, pick_rows

HOSTS = {
    "live": "live.cricstream.example",
    "api": "api.cricstream.example",
    "img": "img.cricstream.example",
    "www": "www.cricstream.example",
    "beacon": "beacon.cricstream.example",
}
REFERER = f"https://www.cricstream.example/watch/{c.EVENT_SLUG}"
_NB = len(Behaviour)
# Median edge time to first byte per behaviour, in ms.
_TTFB_MS = np.array([2, 18, 4, 3, 35, 70, 70, 55, 55, 1, 1500], dtype=np.float64)


@dataclass(frozen=True)
class Context:
    """Everything chunks share, computed once per run."""

    config: GeneratorConfig
    timeline: Timeline
    sampler: Sampler
    population: Population
    roles: dict[str, str | None]
    behaviour_cdf: np.ndarray  # (templates, 2, behaviours): normal / alternate tables
    image_cdf: np.ndarray
    image_ids: np.ndarray

    @staticmethod
    def of(config: GeneratorConfig) -> Context:
        rng = np.random.default_rng([config.seed, 0])
        timeline = build_timeline(config.duration_s, rng)
        population = build_population(rng, config.client_count)
        cdf = np.zeros((len(c.TEMPLATES), 2, _NB))
        for k, tpl in enumerate(c.TEMPLATES):
            for a, table in enumerate((tpl.normal, tpl.alternate or tpl.normal)):
                p = np.zeros(_NB)
                for b, share in table.items():
                    p[b] = share
                cum = np.cumsum(p)
                cdf[k, a] = cum / cum[-1]  # last column exactly 1.0 (pick_rows relies on it)
        image_cdf, image_ids = image_popularity()
        return Context(
            config,
            timeline,
            Sampler.of(intensity(timeline)),
            population,
            config.roles(),
            cdf,
            image_cdf,
            image_ids,
        )

    def chunk_sizes(self) -> list[int]:
        n, size = self.config.rows, self.config.chunk_rows
        k = max(1, -(-n // size))
        return [n // k + (1 if i < n % k else 0) for i in range(k)]


def _cdn_of(
    ctx: Context, rng: np.random.Generator, offset_ms: np.ndarray, template: np.ndarray
) -> np.ndarray:
    """CDN index per row: the multi-CDN mix drifts slowly over the match."""
    cdns = ctx.config.cdns
    base = np.array([CDN_SHARE[x] for x in cdns])
    phase = np.arange(len(cdns)) * 2.1
    x = offset_ms[:, None] / (ctx.config.duration_s * 1000.0)
    w = base * (1.0 + 0.15 * np.sin(2 * np.pi * x + phase))
    allowed = np.array([[cdn not in t.excluded_cdns for cdn in cdns] for t in c.TEMPLATES])
    w = w * allowed[template]
    cum = np.cumsum(w, axis=1)
    draw = rng.random(template.size) * cum[:, -1]
    return np.minimum((cum < draw[:, None]).sum(axis=1), len(cdns) - 1).astype(np.int8)


def _in_windows(offset_ms: np.ndarray, windows: list[tuple[float, float]]) -> np.ndarray:
    hit = np.zeros(offset_ms.size, dtype=bool)
    for lo, hi in windows:
        hit |= (offset_ms >= lo * 1000) & (offset_ms < hi * 1000)
    return hit


def _alternate(
    ctx: Context, template: np.ndarray, cdn: np.ndarray, offset_ms: np.ndarray, cold: np.ndarray
) -> np.ndarray:
    when = np.array([t.alt_when for t in c.TEMPLATES], dtype=np.int8)[template]
    cdns = ctx.config.cdns
    outlier = cdns.index(ctx.roles["outlier"]) if ctx.roles["outlier"] else -1
    midmatch = cdns.index(ctx.roles["midmatch"]) if ctx.roles["midmatch"] else -1
    return (
        ((when == AltWhen.COLD_OBJECT) & cold)
        | ((when == AltWhen.OVERLOAD) & _in_windows(offset_ms, ctx.timeline.windows("overload")))
        | ((when == AltWhen.OUTLIER_CDN) & (cdn == outlier))
        | (
            (when == AltWhen.MIDMATCH)
            & (cdn == midmatch)
            & _in_windows(offset_ms, ctx.timeline.windows("midmatch"))
        )
    )


def _gather(values: list[str] | tuple[str, ...], idx: np.ndarray) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String).gather(idx)


def build_chunk(ctx: Context, k: int, n: int) -> pl.DataFrame:
    """Chunk `k` (of `len(ctx.chunk_sizes())`) as a vendor-neutral frame, sorted by time."""
    rng = np.random.default_rng([ctx.config.seed, 1, k])
    chunks = len(ctx.chunk_sizes())
    u = np.sort(rng.uniform(k / chunks, (k + 1) / chunks, n))
    offset_ms = ctx.sampler.times_ms(u)
    template = ctx.sampler.templates(offset_ms // 1000, rng.random(n))
    cdn = _cdn_of(ctx, rng, offset_ms, template)
    client = rng.integers(0, ctx.population.size, n)
    abs_ms = ctx.config.start_ms + offset_ms
    obj = build_objects(
        Rows(rng, abs_ms, client, ctx.population, ctx.image_cdf, ctx.image_ids), template
    )
    alt = _alternate(ctx, template, cdn, offset_ms, obj.cold)
    scenario = template.astype(np.int64) * 2 + alt
    behaviour = pick_rows(ctx.behaviour_cdf.reshape(-1, _NB), scenario, rng.random(n)).astype(
        np.int8
    )

    tpl = c.TEMPLATES
    status = np.array([t.status for t in tpl], dtype=np.int16)[template]
    status = np.where(behaviour == Behaviour.REDIRECT, 301, status)
    status = np.where(
        behaviour == Behaviour.ORIGIN_ERROR, np.where(rng.random(n) < 0.8, 503, 504), status
    )
    med = np.array([t.body[0] for t in tpl])[template]
    sigma = np.array([t.body[1] for t in tpl])[template]
    body = np.where(
        np.isnan(obj.segment_bytes), med * np.exp(sigma * rng.normal(size=n)), obj.segment_bytes
    )
    body = np.where(
        behaviour == Behaviour.ORIGIN_ERROR, 180 + rng.integers(0, 200, n), body
    ).astype(np.int64)
    headers = rng.integers(280, 620, n)
    ttfb = np.maximum(1, np.round(_TTFB_MS[behaviour] * np.exp(0.5 * rng.normal(size=n)))).astype(
        np.int64
    )
    throughput = 3000.0 * np.exp(0.6 * rng.normal(size=n))  # bytes per ms (about 24 Mbit/s)
    taken = ttfb + np.round((body + headers) / throughput).astype(np.int64)
    is_post = np.array([t.method == "POST" for t in tpl])[template]
    request_bytes = np.where(is_post, rng.integers(1200, 2400, n), rng.integers(300, 900, n))

    region = ctx.population.region[client]
    ua = ctx.population.ua[client]
    ua_class = np.array([UA_CLASSES.index(u[2]) for u in USER_AGENTS])[ua]
    http = np.array([t.scheme == "http" for t in tpl])[template]
    protocol = np.where(http, 0, ctx.population.protocol[client])
    tls = ctx.population.tls[client]
    pops, pop_idx = _pops(ctx, rng, cdn, region)
    max_age = np.array([-1 if t.max_age_s is None else t.max_age_s for t in tpl])[template]
    return pl.DataFrame(
        {
            "t_ms": abs_ms,
            "template": _gather([t.name for t in tpl], template),
            "cdn": _gather(ctx.config.cdns, cdn),
            "behaviour": behaviour,
            "problem_active": alt,
            "pop": _gather(pops, pop_idx),
            "host": _gather([HOSTS[t.host] for t in tpl], template),
            "scheme": _gather([t.scheme for t in tpl], template),
            "method": _gather([t.method for t in tpl], template),
            "path": obj.path,
            "query": obj.query,
            "status": status,
            "body_bytes": body,
            "bytes_sent": body + headers,
            "request_bytes": request_bytes,
            "ttfb_ms": ttfb,
            "taken_ms": taken,
            "content_type": _gather([t.content_type for t in tpl], template),
            "max_age_s": pl.Series(max_age).replace(-1, None),
            "country": _gather([r[1] for r in REGIONS], region),
            "city": _gather([r[3] for r in REGIONS], region),
            "client_ip": ctx.population.ip.gather(client),
            "client_port": rng.integers(1024, 65536, n),
            "user_agent": _gather([u[0] for u in USER_AGENTS], ua),
            "referer": pl.Series([None, REFERER, None], dtype=pl.String).gather(ua_class),
            "protocol": _gather(PROTOCOLS, protocol),
            "tls_protocol": pl.Series([x[0] for x in TLS] + [None], dtype=pl.String).gather(
                np.where(http, 2, tls)
            ),
            "tls_cipher": pl.Series([x[1] for x in TLS] + [None], dtype=pl.String).gather(
                np.where(http, 2, tls)
            ),
        }
    )


def _pops(
    ctx: Context, rng: np.random.Generator, cdn: np.ndarray, region: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """All POP names of the chosen CDNs and each row's index into them."""
    names: list[str] = []
    table = np.zeros((len(ctx.config.cdns), len(REGIONS), 3), dtype=np.int64)
    for i, vendor in enumerate(ctx.config.cdns):
        for r, pops in enumerate(POPS[vendor]):
            for j in range(3):
                table[i, r, j] = len(names) + j % len(pops)
            names.extend(pops)
    return names, table[cdn, region, rng.integers(0, 3, cdn.size)]
