"""Match timeline and traffic curve: when requests happen and for which template.

The timeline is laid out in fractions of the match duration (a T20 shape: pre-match
show, toss, two innings with wickets, innings break, final-overs hockey stick,
post-match drop), so `--duration-min` stretches or squeezes the whole match.
Intensities live on a one-second grid; request times are drawn by inverting the
cumulative curve, which lets each chunk cover a contiguous slice of the match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cdn_offload.generator.catalog import TEMPLATES

# Phase boundaries as fractions of the duration.
_TOSS = 0.06
_INN1 = (0.10, 0.44)
_INN2 = (0.52, 0.86)
_FINAL_OVERS = 0.78
_CONFIG_PUSH, _CONFIG_ROLLBACK = 0.58, 0.68
_WICKETS = (6, 7)  # per innings
_REFERENCE_S = 240 * 60  # pulse widths are tuned for a 4-hour broadcast


@dataclass(frozen=True)
class Event:
    name: str
    kind: str  # stream_start, toss, innings_start, wicket, innings_break, ...
    offset_s: float


@dataclass(frozen=True)
class Timeline:
    """Match events and derived windows, in seconds from the stream start."""

    duration_s: int
    events: tuple[Event, ...]

    def at(self, name: str) -> float:
        return next(e.offset_s for e in self.events if e.name == name)

    def windows(self, which: str) -> list[tuple[float, float]]:
        """Planted-problem windows: `overload` (after each 2nd-innings wicket) or `midmatch`."""
        if which == "midmatch":
            return [(self.at("cdn_config_push"), self.at("cdn_config_rollback"))]
        if which == "overload":
            width = max(20.0, 180.0 * self.duration_s / _REFERENCE_S)
            return [
                (e.offset_s, e.offset_s + width)
                for e in self.events
                if e.name.startswith("wicket_2_")
            ]
        raise KeyError(which)


def build_timeline(duration_s: int, rng: np.random.Generator) -> Timeline:
    """The match timeline; wicket times are drawn from `rng`, everything else is fixed."""
    d = float(duration_s)
    events = [
        Event("stream_start", "stream_start", 0.0),
        Event("toss", "toss", _TOSS * d),
        Event("innings_1_start", "innings_start", _INN1[0] * d),
        Event("innings_break", "innings_break", _INN1[1] * d),
        Event("innings_2_start", "innings_start", _INN2[0] * d),
        Event("cdn_config_push", "config_push", _CONFIG_PUSH * d),
        Event("cdn_config_rollback", "config_rollback", _CONFIG_ROLLBACK * d),
        Event("final_overs_start", "final_overs", _FINAL_OVERS * d),
        Event("match_end", "match_end", _INN2[1] * d),
        Event("stream_end", "stream_end", d),
    ]
    for innings, (lo, hi), count in ((1, _INN1, _WICKETS[0]), (2, _INN2, _WICKETS[1])):
        # Stratified draws keep wickets apart; in the chase they bunch up towards the end.
        grid = np.linspace(0.0, 1.0, count + 1) ** (0.75 if innings == 2 else 1.0)
        edges = lo + 0.01 + grid * (hi - lo - 0.015)
        spots = edges[:-1] + rng.uniform(0.15, 0.85, count) * np.diff(edges)
        events += [
            Event(f"wicket_{innings}_{i + 1}", "wicket", float(round(s * d)))
            for i, s in enumerate(spots)
        ]
    return Timeline(duration_s, tuple(sorted(events, key=lambda e: e.offset_s)))


def _viewers(t: np.ndarray, d: float) -> np.ndarray:
    """Concurrent viewers (relative) over the broadcast, without event pulses."""
    x = t / d
    v = np.interp(
        x,
        [0.0, _TOSS, _INN1[0], _INN1[1], _INN1[1] + 0.01, _INN2[0], _INN2[0] + 0.02, _FINAL_OVERS],
        [0.15, 0.35, 0.50, 0.75, 0.50, 0.55, 0.72, 0.85],
    )
    # Final-overs hockey stick, then the post-match drop.
    final = (x >= _FINAL_OVERS) & (x < _INN2[1])
    v = np.where(
        final, 0.85 * np.exp(np.log(1.6 / 0.85) * (x - _FINAL_OVERS) / (_INN2[1] - _FINAL_OVERS)), v
    )
    post = x >= _INN2[1]
    return np.where(post, 0.08 + 1.52 * np.exp(-(x - _INN2[1]) / 0.025), v)


def intensity(timeline: Timeline) -> np.ndarray:
    """Expected requests per second per template, shape (seconds, templates)."""
    d = float(timeline.duration_s)
    t = np.arange(timeline.duration_s, dtype=np.float64) + 0.5
    viewers = _viewers(t, d)
    scale = d / _REFERENCE_S
    in_break = (t >= _INN1[1] * d) & (t < _INN2[0] * d)
    out = np.empty((t.size, len(TEMPLATES)), dtype=np.float64)
    for k, tpl in enumerate(TEMPLATES):
        mult = np.ones_like(t)
        for ev in timeline.events:
            peak = tpl.surge.get(ev.kind)
            if peak is None:
                continue
            # Sharp rise (~10 s), exponential decay (~90 s at the reference duration).
            dt = t - ev.offset_s
            rise, decay = max(2.0, 10.0 * scale), max(10.0, 90.0 * scale)
            pulse = np.where(
                dt < 0, np.exp(np.minimum(dt, 0) / rise), np.exp(-np.maximum(dt, 0) / decay)
            )
            mult += (peak - 1.0) * pulse
        if "break" in tpl.surge:
            mult = np.where(in_break, mult * tpl.surge["break"], mult)
        elif tpl.host == "live":
            mult = np.where(in_break, mult * 0.6, mult)  # viewers drop off the stream in the break
        out[:, k] = tpl.rate * viewers * mult
    return out


@dataclass(frozen=True)
class Sampler:
    """Inverse-CDF sampler over the intensity grid."""

    cdf: np.ndarray  # cumulative share of all requests at the end of each second
    per_second: np.ndarray  # share of all requests in each second
    template_cdf: np.ndarray  # (seconds, templates) cumulative template mix per second

    @staticmethod
    def of(grid: np.ndarray) -> Sampler:
        total = grid.sum(axis=1)
        per_second = total / total.sum()
        cum = np.cumsum(grid, axis=1)
        mix = cum / cum[:, -1:]  # last column exactly 1.0 (pick_rows relies on it)
        return Sampler(np.cumsum(per_second), per_second, mix)

    def times_ms(self, u: np.ndarray) -> np.ndarray:
        """Offsets in ms for sorted uniforms `u` (sorted in, sorted out)."""
        sec = np.minimum(np.searchsorted(self.cdf, u, side="right"), self.cdf.size - 1)
        before = np.where(sec > 0, self.cdf[sec - 1], 0.0)
        frac = np.clip((u - before) / np.maximum(self.per_second[sec], 1e-300), 0.0, 0.999999)
        return (sec * 1000 + np.floor(frac * 1000)).astype(np.int64)

    def templates(self, sec: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Template index of each request, given its second and a uniform draw."""
        return pick_rows(self.template_cdf, sec, v).astype(np.int16)


def pick_rows(cdf: np.ndarray, row: np.ndarray, v: np.ndarray) -> np.ndarray:
    """For each i, the first column j with `cdf[row[i], j] > v[i]` (categorical sampling).

    Adding the row number to each cumulative row makes the flattened table
    non-decreasing, so one `searchsorted` samples every row in O(n log size) time and
    O(n) memory, instead of materialising an (n, columns) matrix.
    """
    width = cdf.shape[1]
    flat = (cdf + np.arange(cdf.shape[0])[:, None]).ravel()
    pos = np.searchsorted(flat, row + np.minimum(v, 1 - 1e-12), side="right")
    return np.clip(pos - row * width, 0, width - 1)
