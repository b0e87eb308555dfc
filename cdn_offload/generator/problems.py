"""Planted cache-policy problems: the ground truth that later features are tested against.

Each problem names the suggestion code expected to fire, the template and CDNs it
affects, its time window, and the healthy look-alikes that must never be flagged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """A planted cache-policy problem: ground truth for analytics, suggestions and alerts."""

    id: str
    code: str  # suggestion code expected to fire
    template: str  # Template.name
    cdns: str  # "all", "outlier" or "midmatch" (resolved to CDN names at run time)
    window: str | None  # None (whole match), "overload" or "midmatch"
    lookalikes: tuple[str, ...]  # healthy templates next to it that must not be flagged
    description: str


PROBLEMS: tuple[Problem, ...] = (
    Problem(
        "score_cache_buster",
        "QUERY_STRING_IN_CACHE_KEY",
        "score_api",
        "all",
        None,
        ("commentary_api", "scorecard_api"),
        "Players append ?_=<epoch ms> to the score API: every request is a unique cache key.",
    ),
    Problem(
        "dash_manifest_ttl",
        "TTL_TOO_SHORT",
        "dash_manifest",
        "all",
        None,
        ("hls_variant", "hls_master"),
        "DASH manifest served with max-age=1: most requests expire or revalidate.",
    ),
    Problem(
        "player_image_long_tail",
        "LONG_TAIL",
        "player_image",
        "all",
        None,
        ("team_logo", "ad_creative"),
        "Tens of thousands of player images, each requested rarely: cold misses.",
    ),
    Problem(
        "user_prefs_personal",
        "UNCACHEABLE_BY_DESIGN",
        "user_prefs_api",
        "all",
        None,
        ("app_config_api",),
        "Per-user preferences, private/no-store, one client per object.",
    ),
    Problem(
        "qos_beacon_post",
        "UNCACHEABLE_BY_DESIGN",
        "qos_beacon",
        "all",
        None,
        (),
        "POST beacons: a non-cacheable method.",
    ),
    Problem(
        "live_stats_errors",
        "ERRORS_NOT_CACHED",
        "live_stats_api",
        "all",
        "overload",
        ("scorecard_api",),
        "Origin answers 5xx during the wicket spikes of the second innings; errors not cached.",
    ),
    Problem(
        "static_js_outlier",
        "CDN_OUTLIER",
        "static_js",
        "outlier",
        None,
        ("static_css",),
        "JS bundles cache well everywhere except on one CDN (cache key includes a cookie).",
    ),
    Problem(
        "variant_cache_key_midmatch",
        "QUERY_STRING_IN_CACHE_KEY",
        "hls_variant",
        "midmatch",
        "midmatch",
        ("hls_master",),
        "A config push on one CDN adds the sid query parameter to the cache key of variant "
        "playlists; rolled back later in the innings.",
    ),
)
