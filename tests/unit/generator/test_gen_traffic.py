"""Match timeline, traffic curve and the categorical sampler."""

from __future__ import annotations

import numpy as np
import pytest

from cdn_offload.generator.catalog import TEMPLATE_INDEX
from cdn_offload.generator.traffic import Sampler, Timeline, build_timeline, intensity, pick_rows

pytestmark = pytest.mark.unit
DURATION_S = 240 * 60


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    return build_timeline(DURATION_S, np.random.default_rng(1))


@pytest.fixture(scope="module")
def grid(timeline: Timeline) -> np.ndarray:
    return intensity(timeline)


def _rate(grid: np.ndarray, template: str, lo: float, hi: float) -> float:
    return float(grid[int(lo) : int(hi), TEMPLATE_INDEX[template]].mean())


def test_timeline_is_ordered_and_complete(timeline: Timeline) -> None:
    names = [e.name for e in timeline.events]
    offsets = [e.offset_s for e in timeline.events]
    assert offsets == sorted(offsets)
    assert names[0] == "stream_start" and names[-1] == "stream_end"
    for name in (
        "toss",
        "innings_1_start",
        "innings_break",
        "innings_2_start",
        "final_overs_start",
        "match_end",
        "cdn_config_push",
        "cdn_config_rollback",
    ):
        assert name in names
    wickets = [e for e in timeline.events if e.kind == "wicket"]
    assert len([w for w in wickets if w.name.startswith("wicket_1_")]) == 6
    assert len([w for w in wickets if w.name.startswith("wicket_2_")]) == 7
    inn1 = (timeline.at("innings_1_start"), timeline.at("innings_break"))
    inn2 = (timeline.at("innings_2_start"), timeline.at("match_end"))
    for w in wickets:
        lo, hi = inn1 if w.name.startswith("wicket_1_") else inn2
        assert lo < w.offset_s < hi


def test_timeline_scales_with_duration() -> None:
    short = build_timeline(60 * 60, np.random.default_rng(1))
    long = build_timeline(DURATION_S, np.random.default_rng(1))
    assert short.at("toss") * 4 == pytest.approx(long.at("toss"))
    assert short.windows("midmatch")[0][0] * 4 == pytest.approx(long.windows("midmatch")[0][0])


def test_overload_windows_follow_second_innings_wickets(timeline: Timeline) -> None:
    windows = timeline.windows("overload")
    second = [e.offset_s for e in timeline.events if e.name.startswith("wicket_2_")]
    assert [lo for lo, _ in windows] == second
    assert all(hi - lo == pytest.approx(180.0) for lo, hi in windows)


def test_wicket_spikes_hit_score_api_and_manifests(timeline: Timeline, grid: np.ndarray) -> None:
    times = [e.offset_s for e in timeline.events if e.kind == "wicket"]
    # The wicket furthest from the one before it, so the baseline is not another spike.
    w = max(times[1:], key=lambda t: t - max(x for x in times if x < t))
    for template in ("score_api", "hls_master", "live_stats_api"):
        before = _rate(grid, template, w - 90, w - 60)
        after = _rate(grid, template, w, w + 30)
        assert after > 2.0 * before, template
    # Segments surge only mildly: viewers join, they do not multiply requests.
    assert _rate(grid, "media_segment", w, w + 30) < 1.3 * _rate(
        grid, "media_segment", w - 90, w - 60
    )


def test_innings_break_dips_video_and_surges_ads(timeline: Timeline, grid: np.ndarray) -> None:
    brk, inn2 = timeline.at("innings_break"), timeline.at("innings_2_start")
    mid_break = (brk + 120, inn2 - 120)
    late_innings = (brk - 900, brk - 600)
    assert _rate(grid, "ad_creative", *mid_break) > 3 * _rate(grid, "ad_creative", *late_innings)
    assert _rate(grid, "media_segment", *mid_break) < 0.7 * _rate(
        grid, "media_segment", *late_innings
    )


def test_final_overs_hockey_stick_then_post_match_drop(
    timeline: Timeline, grid: np.ndarray
) -> None:
    total = grid.sum(axis=1)
    final, end = timeline.at("final_overs_start"), timeline.at("match_end")
    assert (
        total[int(end) - 60 : int(end)].mean() > 1.6 * total[int(final) - 600 : int(final)].mean()
    )
    assert total[-120:].mean() < 0.15 * total[int(end) - 60 : int(end)].mean()


def test_sampler_times_are_sorted_and_follow_the_curve(grid: np.ndarray) -> None:
    sampler = Sampler.of(grid)
    u = np.sort(np.random.default_rng(3).random(200_000))
    ms = sampler.times_ms(u)
    assert np.all(np.diff(ms) >= 0)
    assert ms[0] >= 0 and ms[-1] < DURATION_S * 1000
    counts = np.bincount(ms // 1000, minlength=DURATION_S)
    busiest = grid.sum(axis=1).argmax()
    quiet = grid.sum(axis=1).argmin()
    window = slice(max(0, busiest - 300), busiest + 1)
    assert counts[window].sum() > 5 * counts[quiet : quiet + 300].sum()


def test_pick_rows_samples_each_row_distribution_and_never_zero_categories() -> None:
    p = np.array([[0.5, 0.0, 0.5, 0.0], [0.0, 0.0, 0.0, 1.0], [0.1, 0.2, 0.3, 0.4]])
    cum = np.cumsum(p, axis=1)
    cdf = cum / cum[:, -1:]
    rng = np.random.default_rng(5)
    row = rng.integers(0, 3, 300_000)
    picked = pick_rows(cdf, row, rng.random(row.size))
    for r in range(3):
        freq = np.bincount(picked[row == r], minlength=4) / (row == r).sum()
        assert freq == pytest.approx(p[r], abs=0.01)
        assert not np.any(freq[p[r] == 0])
    assert pick_rows(cdf, np.array([0, 2]), np.array([0.0, 1.0])).tolist() == [0, 3]
