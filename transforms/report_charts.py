"""Inline SVG charts for the HTML report: no JavaScript, no external files, readable offline.

Every text that reaches the SVG passes through `_t` (html.escape), because template
names, CDN and event names come from logs and input files. Functions return
`markupsafe.Markup`, so the template embeds them as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from markupsafe import Markup

WIDTH = 960
LEFT, RIGHT = 64, 76
MAX_POINTS = 720
"""Longer series are summed into buckets of whole minutes before drawing."""
CDN_COLOURS = {
    "cloudfront": "#e8871e",
    "fastly": "#d7263d",
    "akamai": "#1b6ca8",
    "cloudflare": "#f4b400",
    "gcp": "#34a853",
    "azure": "#0078d4",
    "nginx": "#6a994e",
    "varnish": "#7b2cbf",
}
_SPARE = ("#5f6b7a", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
_NICE_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)


def _t(value: Any) -> str:
    return escape(str(value), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}"


def cdn_colour(cdn: str, order: Sequence[str] = ()) -> str:
    """A fixed colour per known CDN (the same in every report), a spare one otherwise."""
    if cdn in CDN_COLOURS:
        return CDN_COLOURS[cdn]
    others = [c for c in order if c not in CDN_COLOURS]
    return _SPARE[others.index(cdn) % len(_SPARE)] if cdn in others else _SPARE[0]


def _nice_step(span: float, ticks: int = 5) -> float:
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _svg(height: int, body: list[str], label: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{_t(label)}" class="chart">'
    )
    # Every text in `body` went through _t and numbers are formatted here: safe markup.
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def bucket(minutes: list[dict[str, Any]], keys: Sequence[str]) -> tuple[list[dict[str, Any]], int]:
    """`minutes` summed into buckets so that at most MAX_POINTS remain; (rows, minutes each)."""
    size = max(1, math.ceil(len(minutes) / MAX_POINTS))
    if size == 1:
        return minutes, 1
    out = []
    for i in range(0, len(minutes), size):
        chunk = minutes[i : i + size]
        row: dict[str, Any] = {"minute": chunk[0]["minute"]}
        for k in keys:
            row[k] = sum(r.get(k) or 0 for r in chunk)
        row["request_offload"] = (
            1 - row["origin_requests"] / row["cacheable_requests"]
            if row.get("cacheable_requests")
            else None
        )
        out.append(row)
    return out, size


def _time_axis(first: datetime, point_s: float, n: int, y: float, height: float) -> list[str]:
    """Vertical grid lines and HH:MM labels at round times across `n` points of `point_s`."""
    span_min = n * point_s / 60
    step = next((s for s in _NICE_MINUTES if span_min / s <= 10), _NICE_MINUTES[-1]) * 60
    t0 = first.timestamp()
    tick = math.ceil(t0 / step) * step
    out = []
    while tick < t0 + n * point_s:
        x = LEFT + (tick - t0) / (n * point_s) * (WIDTH - LEFT - RIGHT)
        label = datetime.fromtimestamp(tick, tz=first.tzinfo)
        text = f"{label:%H:%M}" if step < 86400 else f"{label:%m-%d}"
        out.append(
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(y - height)}" y2="{_n(y)}" class="grid"/>'
        )
        out.append(
            f'<text x="{_n(x)}" y="{_n(y + 14)}" class="tick" text-anchor="middle">{text}</text>'
        )
        tick += step
    return out


def _y_axis(lo: float, hi: float, top: float, height: float, fmt: str) -> list[str]:
    out, step = [], _nice_step(hi - lo)
    value = math.ceil(lo / step) * step
    while value <= hi + 1e-9:
        y = top + height - (value - lo) / (hi - lo) * height
        text = f"{value:.0%}" if fmt == "pct" else f"{value:,.4g}"
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(y)}" y2="{_n(y)}" class="grid"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{_n(y + 4)}" class="tick" text-anchor="end">{text}</text>'
        )
        value += step
    return out


def _path(points: Sequence[tuple[float, float] | None]) -> str:
    parts, pen = [], "M"
    for p in points:
        if p is None:
            pen = "M"
            continue
        parts.append(f"{pen}{_n(p[0])},{_n(p[1])}")
        pen = "L"
    return " ".join(parts)


def timeline_chart(
    minutes: list[dict[str, Any]],
    spikes: list[dict[str, Any]],
    events: list[dict[str, Any]],
    threshold: float,
) -> Markup:
    """Requests/s and origin requests/s (top), request offload with the threshold (bottom).

    Spikes are shaded; events are numbered markers (the numbers of the events table).
    """
    rows, size = bucket(minutes, ["requests", "origin_requests", "cacheable_requests"])
    if not rows:
        return Markup("")
    times = [datetime.fromisoformat(r["minute"].replace("Z", "+00:00")) for r in rows]
    n, plot_w = len(rows), WIDTH - LEFT - RIGHT
    seconds = 60.0 * size

    def x(i: float) -> float:
        return LEFT + i / n * plot_w

    def x_at(iso: str) -> float:
        t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        return x((t - times[0]).total_seconds() / seconds)

    top, h1, gap, h2 = 30, 190, 46, 120
    body: list[str] = []
    peak = max(max(r["requests"] for r in rows) / seconds, 1e-9)
    hi = _nice_step(peak) * math.ceil(peak / _nice_step(peak))
    for s in spikes:
        x0, x1 = x_at(s["start"]), x_at(s["end"])
        for y0, hh in ((top, h1), (top + h1 + gap, h2)):
            body.append(
                f'<rect x="{_n(x0)}" y="{y0}" width="{_n(max(x1 - x0, 1.5))}" height="{hh}" '
                f'class="spike"><title>spike {_t(s["start"])} to {_t(s["end"])}</title></rect>'
            )
    body += _y_axis(0, hi, top, h1, "num")

    def y1(v: float) -> float:
        return top + h1 - v / hi * h1

    req = [(x(i + 0.5), y1(r["requests"] / seconds)) for i, r in enumerate(rows)]
    area = (
        f"M{_n(x(0.5))},{_n(y1(0))} "
        + _path(req)[1:].replace("M", "L")
        + f" L{_n(x(n - 0.5))},{_n(y1(0))} Z"
    )
    body.append(f'<path d="{area}" class="area"/>')
    body.append(f'<path d="{_path(req)}" class="line requests"/>')
    origin = [(x(i + 0.5), y1(r["origin_requests"] / seconds)) for i, r in enumerate(rows)]
    body.append(f'<path d="{_path(origin)}" class="line origin"/>')
    body.append(
        f'<text x="{LEFT}" y="{top - 10}" class="title">Viewer requests/s (blue) and origin requests/s (red)</text>'
    )
    for k, e in enumerate(events, start=1):
        ex = max(x_at(e["time"]), LEFT + 4.0)
        body.append(f'<line x1="{_n(ex)}" x2="{_n(ex)}" y1="{top}" y2="{top + h1}" class="event"/>')
        body.append(
            f'<text x="{_n(ex)}" y="{top + 10 + 11 * (k % 3)}" class="marker" text-anchor="middle">'
            f"{k}<title>{_t(e['name'])} {_t(e['time'])}</title></text>"
        )
    y2top = top + h1 + gap
    values = [r["request_offload"] for r in rows if r["request_offload"] is not None]
    lo = min([threshold, *values]) if values else threshold
    lo = max(0.0, math.floor((lo - 0.02) * 10) / 10)

    def y2(v: float) -> float:
        return y2top + h2 - (v - lo) / (1 - lo) * h2

    body += _y_axis(lo, 1.0, y2top, h2, "pct")
    body.append(
        f'<text x="{LEFT}" y="{y2top - 10}" class="title">Request offload per {"minute" if size == 1 else f"{size} minutes"}</text>'
    )
    pts = [
        None if r["request_offload"] is None else (x(i + 0.5), y2(r["request_offload"]))
        for i, r in enumerate(rows)
    ]
    body.append(f'<path d="{_path(pts)}" class="line offload"/>')
    ty = y2(threshold)
    body.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(ty)}" y2="{_n(ty)}" class="threshold"/>'
    )
    body.append(
        f'<text x="{WIDTH - RIGHT + 6}" y="{_n(ty + 4)}" class="tick threshold-label">target {threshold:.0%}</text>'
    )
    bottom = y2top + h2
    body += _time_axis(times[0], seconds, n, bottom, h2 + gap + h1)
    return _svg(bottom + 24, body, "timeline of requests, origin requests and offload")


def share_chart(share: list[dict[str, Any]], cdns: Sequence[str], grid: list[str]) -> Markup:
    """Each CDN's share of viewer requests per minute of `grid`, stacked to 100 %."""
    if not share or not cdns or not grid:
        return Markup("")
    by_minute: dict[str, dict[str, float]] = {}
    for r in share:
        by_minute.setdefault(r["minute"], {})[r["cdn"]] = r["requests"] or 0.0
    size = max(1, math.ceil(len(grid) / MAX_POINTS))
    groups = [grid[i : i + size] for i in range(0, len(grid), size)]
    totals = [{c: sum(by_minute.get(m, {}).get(c, 0.0) for m in g) for c in cdns} for g in groups]
    top, h, n = 30, 150, len(groups)
    plot_w = WIDTH - LEFT - RIGHT
    body = _y_axis(0, 1, top, h, "pct")
    xs = [LEFT + (i + 0.5) / n * plot_w for i in range(n)]
    base = [0.0] * n
    for cdn in cdns:
        upper = [
            b + (t[cdn] / sum(t.values()) if sum(t.values()) else 0.0)
            for b, t in zip(base, totals, strict=True)
        ]
        pts = [f"{_n(x)},{_n(top + h - u * h)}" for x, u in zip(xs, upper, strict=True)]
        back = [f"{_n(x)},{_n(top + h - b * h)}" for x, b in zip(xs[::-1], base[::-1], strict=True)]
        body.append(
            f'<polygon points="{" ".join(pts + back)}" fill="{cdn_colour(cdn, cdns)}" '
            f'opacity="0.85"><title>{_t(cdn)}</title></polygon>'
        )
        base = upper
    first = datetime.fromisoformat(grid[0].replace("Z", "+00:00"))
    body += _time_axis(first, 60.0 * size, n, top + h, h)
    body.append(
        f'<text x="{LEFT}" y="{top - 10}" class="title">Share of viewer requests per CDN</text>'
    )
    # Legend below the axis, wrapping: CDN names are log data and can be long.
    x, y = float(LEFT), top + h + 40
    for cdn in cdns:
        name = str(cdn) if len(str(cdn)) <= 24 else str(cdn)[:23] + "…"
        width = 30 + 7 * len(name)
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = float(LEFT), y + 18
        colour = cdn_colour(cdn, cdns)
        body.append(f'<rect x="{_n(x)}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        body.append(
            f'<text x="{_n(x + 16)}" y="{y}" class="tick">{_t(name)}<title>{_t(cdn)}</title></text>'
        )
        x += width
    return _svg(y + 8, body, "traffic share per CDN over time")


def hbar_chart(
    items: list[tuple[str, float | None, str]],
    *,
    title: str,
    maximum: float | None = None,
    threshold: float | None = None,
    percent: bool = True,
) -> Markup:
    """Horizontal bars (label, value, colour); a missing value is drawn as "n/a"."""
    if not items:
        return Markup("")
    label_w, row_h, top = 300, 24, 30
    hi = maximum or max((v or 0.0) for _, v, _ in items) or 1.0
    plot_w = WIDTH - label_w - RIGHT - 60
    body = [f'<text x="8" y="{top - 10}" class="title">{_t(title)}</text>']
    for i, (label, value, colour) in enumerate(items):
        y = top + i * row_h
        short = label if len(label) <= 44 else label[:43] + "…"
        body.append(
            f'<text x="{label_w - 8}" y="{y + 16}" class="tick" text-anchor="end">{_t(short)}<title>{_t(label)}</title></text>'
        )
        if value is None:
            body.append(f'<text x="{label_w + 4}" y="{y + 16}" class="tick">n/a</text>')
            continue
        w = max(0.0, min(value / hi, 1.0)) * plot_w
        text = f"{value:.1%}" if percent else f"{value:,.4g}"
        body.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{_n(w)}" height="{row_h - 8}" fill="{colour}"/>'
        )
        if w > 70:  # inside the bar's end, clear of a threshold line beyond it
            body.append(
                f'<text x="{_n(label_w + w - 6)}" y="{y + 16}" class="tick inside" text-anchor="end">{text}</text>'
            )
        else:
            body.append(f'<text x="{_n(label_w + w + 6)}" y="{y + 16}" class="tick">{text}</text>')
    bottom = top + len(items) * row_h
    if threshold is not None:
        tx = label_w + threshold / hi * plot_w
        body.append(
            f'<line x1="{_n(tx)}" x2="{_n(tx)}" y1="{top}" y2="{bottom}" class="threshold"/>'
        )
        body.append(
            f'<text x="{_n(tx)}" y="{bottom + 14}" class="tick threshold-label" text-anchor="middle">target {threshold:.0%}</text>'
        )
    return _svg(bottom + 22, body, title)
