"""Altair charts of the dashboard, each readable at a glance.

Every offload chart carries the target line (90% unless configured), each CDN keeps
one colour everywhere (the HTML report's palette), times are UTC, and spike minutes
are shaded. Charts take frames from `dashboards.data` and only reshape them for
drawing; they compute no figure.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

import altair as alt
import polars as pl

TARGET_COLOUR = "#c62828"
SPIKE_COLOUR = "#ffb74d"
METRIC_COLOURS = {"request offload": "#1a237e", "byte offload": "#00897b"}
TRAFFIC_COLOURS = {"viewer requests/s": "#90a4ae", "origin requests/s": "#c62828"}
_FALLBACK_COLOURS = {
    "cloudfront": "#e8871e",
    "fastly": "#d7263d",
    "akamai": "#1b6ca8",
    "cloudflare": "#f4b400",
    "gcp": "#34a853",
    "azure": "#0078d4",
    "nginx": "#6a994e",
    "varnish": "#7b2cbf",
}
AnyChart = alt.Chart | alt.LayerChart | alt.FacetChart
_SPARE = ("#5f6b7a", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def _palette() -> dict[str, str]:
    try:
        module = importlib.import_module("transforms.report_charts")
    except ImportError:
        return _FALLBACK_COLOURS
    found = getattr(module, "CDN_COLOURS", None)
    return dict(found) if isinstance(found, dict) else _FALLBACK_COLOURS


def cdn_scale(cdns: Iterable[str | None]) -> alt.Scale:
    """A colour scale giving every known CDN its fixed colour, spare colours to others."""
    palette = _palette()
    domain = sorted({c for c in cdns if c is not None})
    others = [c for c in domain if c not in palette]
    colours = [palette.get(c) or _SPARE[others.index(c) % len(_SPARE)] for c in domain]
    return alt.Scale(domain=domain, range=colours)


def _time(title: str = "time (UTC)") -> alt.X:
    return alt.X(
        "minute:T", title=title, scale=alt.Scale(type="utc"), axis=alt.Axis(format="%H:%M")
    )


def _target(threshold: float, axis: str = "y") -> list[alt.Chart]:
    rule_data = pl.DataFrame({"target": [threshold], "label": [f"{threshold:.0%} target"]})
    base = alt.Chart(rule_data)
    enc = {axis: alt.Y("target:Q") if axis == "y" else alt.X("target:Q")}
    rule = base.mark_rule(color=TARGET_COLOUR, strokeDash=[6, 4], size=2).encode(**enc)
    text = base.mark_text(
        color=TARGET_COLOUR, align="left", dx=4, dy=-8 if axis == "y" else 0, fontWeight="bold"
    ).encode(**enc, text="label:N")
    return [rule, text]


def _spikes(minutes: pl.DataFrame) -> alt.Chart | None:
    if "spike" not in minutes.columns:
        return None
    spiky = minutes.filter(pl.col("spike").fill_null(False)).select(
        "minute", end=pl.col("minute") + pl.duration(minutes=1)
    )
    if spiky.is_empty():
        return None
    return (
        alt.Chart(spiky)
        .mark_rect(color=SPIKE_COLOUR, opacity=0.35)
        .encode(x=alt.X("minute:T", scale=alt.Scale(type="utc")), x2="end:T")
    )


def _offload_domain(values: pl.Series, threshold: float) -> list[float]:
    low = values.drop_nulls().min()
    floor = min(float(low) if low is not None else 1.0, threshold) - 0.05  # type: ignore[arg-type]
    return [max(0.0, round(floor, 2)), 1.0]


def offload_timeline(minutes: pl.DataFrame, threshold: float, height: int = 300) -> AnyChart:
    """Request and byte offload per minute against the target, spike minutes shaded."""
    long = minutes.select(
        "minute",
        pl.col("request_offload").alias("request offload"),
        pl.col("byte_offload").alias("byte offload"),
    ).unpivot(index="minute", variable_name="figure", value_name="offload")
    colours = alt.Scale(domain=list(METRIC_COLOURS), range=list(METRIC_COLOURS.values()))
    domain = _offload_domain(long["offload"], threshold)
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=3)
        .encode(
            x=_time(),
            y=alt.Y(
                "offload:Q",
                title="offload",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=domain, clamp=True),
            ),
            color=alt.Color("figure:N", scale=colours, legend=alt.Legend(orient="top", title=None)),
            tooltip=[
                alt.Tooltip("minute:T", format="%H:%M"),
                "figure:N",
                alt.Tooltip("offload:Q", format=".1%"),
            ],
        )
    )
    return _layer(minutes, [lines, *_target(threshold)], height)


def traffic_timeline(minutes: pl.DataFrame, height: int = 240) -> AnyChart:
    """Viewer and origin requests per second, spike minutes shaded."""
    long = minutes.select(
        "minute",
        pl.col("requests_per_s").alias("viewer requests/s"),
        pl.col("origin_requests_per_s").alias("origin requests/s"),
    ).unpivot(index="minute", variable_name="figure", value_name="per_s")
    colours = alt.Scale(domain=list(TRAFFIC_COLOURS), range=list(TRAFFIC_COLOURS.values()))
    area = (
        alt.Chart(long)
        .mark_area(opacity=0.75, line=True)
        .encode(
            x=_time(),
            y=alt.Y("per_s:Q", title="requests/s", stack=None),
            color=alt.Color("figure:N", scale=colours, legend=alt.Legend(orient="top", title=None)),
            tooltip=[
                alt.Tooltip("minute:T", format="%H:%M"),
                "figure:N",
                alt.Tooltip("per_s:Q", format=",.1f"),
            ],
        )
    )
    return _layer(minutes, [area], height)


def _layer(minutes: pl.DataFrame, layers: list[alt.Chart], height: int) -> AnyChart:
    """`layers` over the shaded spike minutes; each layer keeps its own data."""
    spikes = _spikes(minutes)
    return alt.layer(*([spikes] if spikes is not None else []), *layers).properties(height=height)


def cdn_offload_bars(cdn_share: pl.DataFrame, threshold: float, height: int = 200) -> AnyChart:
    """Request offload per CDN as bars in the CDN's colour, against the target."""
    bars = (
        alt.Chart(cdn_share)
        .mark_bar()
        .encode(
            y=alt.Y("cdn:N", title=None, sort="-x"),
            x=alt.X(
                "request_offload:Q",
                title="request offload",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("cdn:N", scale=cdn_scale(cdn_share["cdn"]), legend=None),
            tooltip=[
                "cdn:N",
                alt.Tooltip("request_offload:Q", format=".1%"),
                alt.Tooltip("traffic_share:Q", format=".1%"),
            ],
        )
    )
    return alt.layer(bars, *_target(threshold, axis="x")).properties(height=height)


def cdn_share_area(cdn_minutes: pl.DataFrame, height: int = 200) -> AnyChart:
    """Each CDN's share of viewer requests per minute (stacked to 100%)."""
    return (
        alt.Chart(cdn_minutes)
        .mark_area()
        .encode(
            x=_time(),
            y=alt.Y(
                "requests:Q", stack="normalize", title="traffic share", axis=alt.Axis(format="%")
            ),
            color=alt.Color(
                "cdn:N",
                scale=cdn_scale(cdn_minutes["cdn"]),
                legend=alt.Legend(orient="top", title=None),
            ),
            tooltip=[
                alt.Tooltip("minute:T", format="%H:%M"),
                "cdn:N",
                alt.Tooltip("traffic_share:Q", format=".1%"),
            ],
        )
        .properties(height=height)
    )


def cdn_offload_lines(cdn_minutes: pl.DataFrame, threshold: float, height: int = 260) -> AnyChart:
    """Request offload per minute for each CDN, against the target."""
    domain = _offload_domain(cdn_minutes["request_offload"], threshold)
    lines = (
        alt.Chart(cdn_minutes)
        .mark_line(strokeWidth=2, point=False)
        .encode(
            x=_time(),
            y=alt.Y(
                "request_offload:Q",
                title="request offload",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=domain, clamp=True),
            ),
            color=alt.Color(
                "cdn:N",
                scale=cdn_scale(cdn_minutes["cdn"]),
                legend=alt.Legend(orient="top", title=None),
            ),
            tooltip=[
                alt.Tooltip("minute:T", format="%H:%M"),
                "cdn:N",
                alt.Tooltip("request_offload:Q", format=".1%"),
            ],
        )
    )
    return alt.layer(lines, *_target(threshold)).properties(height=height)


def cache_mix_bars(mix: pl.DataFrame) -> AnyChart:
    """Share of GET/HEAD requests per cache status, all CDNs and each CDN."""
    scoped = mix.with_columns(scope=pl.col("cdn").fill_null("all CDNs"))
    height = 60 + 34 * scoped["scope"].n_unique()  # one readable bar per scope
    return (
        alt.Chart(scoped)
        .mark_bar()
        .encode(
            y=alt.Y("scope:N", title=None, sort=["all CDNs"], axis=alt.Axis(labelOverlap=False)),
            x=alt.X(
                "cacheable_share:Q",
                stack="normalize",
                title="share of GET/HEAD requests",
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color(
                "cache_status:N", title="cache status", legend=alt.Legend(orient="top")
            ),
            tooltip=[
                "scope:N",
                "cache_status:N",
                alt.Tooltip("cacheable_share:Q", format=".1%"),
                alt.Tooltip("cacheable_requests:Q", format=",.0f"),
            ],
        )
        .properties(height=height)
    )
