"""What the synthetic match serves: path templates, their cache behaviour, planted problems.

Each `Template` says how often viewers request it, how traffic surges around match
events, and the *behaviour* of the CDN cache for it (hit, revalidation, pass, origin
error...) as a probability table. Vendor modules later turn a behaviour into the
vendor's own cache fields, so one behaviour table drives every CDN. Problems are
planted by giving a template an `alternate` table that applies under a condition
(cold object, overload window, outlier CDN, mid-match window); every problem has a
healthy look-alike next to it that must never be flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Behaviour(IntEnum):
    """What the simulated cache did for one request (vendor-neutral, before logging)."""

    HIT = 0
    HIT_SHIELD = 1  # hit in the parent / origin-shield tier
    HIT_STALE = 2  # stale served because the origin failed
    HIT_UPDATING = 3  # stale served while a background refresh runs
    REVALIDATED = 4  # conditional origin request answered 304
    MISS = 5
    MISS_EXPIRED = 6  # object was cached but expired: full refetch
    PASS = 7  # cache deliberately skipped (rule, method)
    UNCACHEABLE = 8  # origin said private / no-store
    REDIRECT = 9  # edge-generated HTTP->HTTPS redirect
    ORIGIN_ERROR = 10  # origin answered 5xx and the edge did not cache it


class AltWhen(IntEnum):
    """Condition under which a template's `alternate` table replaces `normal`."""

    NEVER = 0
    COLD_OBJECT = 1  # object outside the hot set (long tail)
    OVERLOAD = 2  # inside an origin-overload window (wicket spikes of innings 2)
    OUTLIER_CDN = 3  # served by the outlier CDN, whole match
    MIDMATCH = 4  # served by the mid-match CDN between config push and rollback


@dataclass(frozen=True)
class Template:
    """One path template of the match and how the CDNs cache it."""

    name: str
    template: str  # expected path template, placeholders in braces
    path_regex: str  # matches every generated path of this template
    host: str  # host kind: live, api, img, www, beacon
    method: str
    content_type: str
    max_age_s: int | None  # Cache-Control max-age the origin sends
    rate: float  # relative requests per viewer
    body: tuple[float, float]  # lognormal body size: median bytes, sigma
    normal: dict[Behaviour, float]
    alternate: dict[Behaviour, float] = field(default_factory=dict)
    alt_when: AltWhen = AltWhen.NEVER
    surge: dict[str, float] = field(default_factory=dict)  # event kind -> peak multiplier
    status: int = 200
    scheme: str = "https"
    excluded_cdns: tuple[str, ...] = ()


B = Behaviour
T = Template
_HEALTHY_API = {B.HIT: 0.95, B.REVALIDATED: 0.02, B.MISS: 0.03}

# fmt: off
TEMPLATES: tuple[Template, ...] = (
    T("hls_master", "/live/{event}/master.m3u8", r"^/live/[^/]+/master\.m3u8$",
      host="live", method="GET", content_type="application/vnd.apple.mpegurl",
      max_age_s=30, rate=1.2, body=(900, 0.1),
      normal={B.HIT: 0.965, B.HIT_SHIELD: 0.015, B.REVALIDATED: 0.01, B.MISS: 0.01},
      surge={"wicket": 3.0, "toss": 2.0},
    ),
    T("dash_manifest", "/live/{event}/manifest.mpd", r"^/live/[^/]+/manifest\.mpd$",
      host="live", method="GET", content_type="application/dash+xml",
      max_age_s=1, rate=2.0, body=(3200, 0.15),
      normal={B.HIT: 0.5, B.REVALIDATED: 0.32, B.MISS_EXPIRED: 0.15, B.MISS: 0.03},
      surge={"wicket": 3.0, "toss": 2.0},
    ),
    T("hls_variant", "/live/{event}/{rendition}/index.m3u8", r"^/live/[^/]+/[0-9]+p/index\.m3u8$",
      host="live", method="GET", content_type="application/vnd.apple.mpegurl",
      max_age_s=2, rate=15.0, body=(1400, 0.1),
      normal={B.HIT: 0.92, B.HIT_UPDATING: 0.02, B.REVALIDATED: 0.03, B.MISS: 0.03},
      alternate={B.HIT: 0.35, B.MISS: 0.65}, alt_when=AltWhen.MIDMATCH,
      surge={"wicket": 1.3},
    ),
    T("media_segment", "/live/{event}/{rendition}/seg_{n}.m4s", r"^/live/[^/]+/[0-9]+p/seg_[0-9]+\.m4s$",
      host="live", method="GET", content_type="video/iso.segment",
      max_age_s=86400, rate=55.0, body=(0, 0.2),  # body: sized from the rendition bitrate instead
      normal={B.HIT: 0.975, B.HIT_SHIELD: 0.015, B.MISS: 0.01},
      surge={"wicket": 1.2},
    ),
    T("score_api", "/api/v1/match/{id}/score", r"^/api/v1/match/[0-9]+/score$",
      host="api", method="GET", content_type="application/json",
      max_age_s=1, rate=4.0, body=(1200, 0.2),
      normal={B.MISS: 0.97, B.HIT: 0.03},
      surge={"wicket": 5.0, "toss": 3.0},
    ),
    T("commentary_api", "/api/v1/match/{id}/commentary", r"^/api/v1/match/[0-9]+/commentary$",
      host="api", method="GET", content_type="application/json",
      max_age_s=5, rate=2.0, body=(4200, 0.3),
      normal=_HEALTHY_API,
      surge={"wicket": 3.0, "toss": 2.0},
    ),
    T("live_stats_api", "/api/v1/match/{id}/live-stats", r"^/api/v1/match/[0-9]+/live-stats$",
      host="api", method="GET", content_type="application/json",
      max_age_s=3, rate=2.0, body=(2600, 0.2),
      normal=_HEALTHY_API,
      alternate={B.ORIGIN_ERROR: 0.55, B.MISS: 0.1, B.HIT: 0.35}, alt_when=AltWhen.OVERLOAD,
      surge={"wicket": 4.0},
    ),
    T("scorecard_api", "/api/v1/match/{id}/scorecard", r"^/api/v1/match/[0-9]+/scorecard$",
      host="api", method="GET", content_type="application/json",
      max_age_s=3, rate=2.0, body=(6400, 0.2),
      normal=_HEALTHY_API,
      surge={"wicket": 4.0},
    ),
    T("player_image", "/img/players/{id}.webp", r"^/img/players/[0-9]+\.webp$",
      host="img", method="GET", content_type="image/webp",
      max_age_s=86400, rate=3.0, body=(24000, 0.5),
      normal={B.HIT: 0.97, B.MISS: 0.03},
      alternate={B.HIT: 0.25, B.MISS: 0.75}, alt_when=AltWhen.COLD_OBJECT,
      surge={"break": 2.5},
    ),
    T("team_logo", "/img/teams/{code}.webp", r"^/img/teams/[a-z]+\.webp$",
      host="img", method="GET", content_type="image/webp",
      max_age_s=86400, rate=1.0, body=(12000, 0.2),
      normal={B.HIT: 0.99, B.MISS: 0.01},
      surge={"break": 2.0},
    ),
    T("ad_creative", "/img/ads/{id}.jpg", r"^/img/ads/[0-9]+\.jpg$",
      host="img", method="GET", content_type="image/jpeg",
      max_age_s=3600, rate=1.0, body=(45000, 0.4),
      normal={B.HIT: 0.985, B.MISS: 0.015},
      surge={"break": 6.0},
    ),
    T("user_prefs_api", "/api/v1/users/{uuid}/prefs", r"^/api/v1/users/[0-9a-f-]{36}/prefs$",
      host="api", method="GET", content_type="application/json",
      max_age_s=0, rate=1.5, body=(600, 0.2),
      normal={B.PASS: 0.5, B.UNCACHEABLE: 0.5},
    ),
    T("app_config_api", "/api/v1/config/{platform}", r"^/api/v1/config/[a-z]+$",
      host="api", method="GET", content_type="application/json",
      max_age_s=300, rate=1.0, body=(1800, 0.1),
      normal={B.HIT: 0.97, B.REVALIDATED: 0.01, B.MISS: 0.02},
    ),
    T("qos_beacon", "/beacon/qos", r"^/beacon/qos$",
      host="beacon", method="POST", content_type="text/plain",
      max_age_s=None, rate=6.0, body=(0, 0.0),
      normal={B.PASS: 1.0},
      status=204,
    ),
    T("static_js", "/static/js/{name}.{hash}.js", r"^/static/js/[a-z]+\.[0-9a-f]{8}\.js$",
      host="www", method="GET", content_type="application/javascript",
      max_age_s=31536000, rate=1.5, body=(180000, 0.6),
      normal={B.HIT: 0.985, B.MISS: 0.015},
      alternate={B.HIT: 0.45, B.MISS: 0.55}, alt_when=AltWhen.OUTLIER_CDN,
    ),
    T("static_css", "/static/css/{name}.{hash}.css", r"^/static/css/[a-z]+\.[0-9a-f]{8}\.css$",
      host="www", method="GET", content_type="text/css",
      max_age_s=31536000, rate=1.0, body=(40000, 0.4),
      normal={B.HIT: 0.985, B.MISS: 0.015},
    ),
    T("watch_page", "/watch/{event}", r"^/watch/[^/]+$",
      host="www", method="GET", content_type="text/html",
      max_age_s=60, rate=1.0, body=(52000, 0.1),
      normal={B.HIT: 0.93, B.REVALIDATED: 0.03, B.MISS: 0.04},
      surge={"toss": 2.0},
    ),
    # Akamai DS2 cannot log an edge-generated response, so no redirects there.
    T("http_redirect", "/watch/{event}", r"^/watch/[^/]+$",
      host="www", method="GET", content_type="text/html",
      max_age_s=None, rate=0.3, body=(0, 0.0),
      normal={B.REDIRECT: 1.0},
      surge={"toss": 2.0}, status=301, scheme="http", excluded_cdns=("akamai",),
    ),
)
# fmt: on

TEMPLATE_INDEX = {t.name: i for i, t in enumerate(TEMPLATES)}
EVENT_SLUG = "t20-final-2025"
MATCH_ID = 90210

RENDITIONS = ("1080p", "720p", "480p", "360p", "240p")
RENDITION_WEIGHTS = (0.22, 0.38, 0.22, 0.12, 0.06)
RENDITION_BITRATE_BPS = (5_000_000, 3_000_000, 1_400_000, 800_000, 400_000)
SEGMENT_SECONDS = 4
COMMENTARY_LANGS = ("en", "hi", "ta", "te", "bn", "mr", "kn")
COMMENTARY_LANG_WEIGHTS = (0.45, 0.30, 0.08, 0.06, 0.05, 0.03, 0.03)
TEAM_CODES = ("ind", "aus", "eng", "nz", "pak", "sa", "sl", "ban", "afg", "wi", "ire", "zim")
APP_PLATFORMS = ("android", "ios", "web", "tv")
STATIC_JS = (
    ("app", "3f9c2a71"),
    ("player", "8be41d0c"),
    ("vendor", "c0ffee42"),
    ("analytics", "5d1e7b90"),
)
STATIC_CSS = (("app", "a17c3e55"), ("player", "0b9d44f2"))
PLAYER_IMAGES = 60_000  # long tail: the whole player database, not just the 22 on the field
PLAYER_IMAGE_ZIPF = 0.6
PLAYER_IMAGE_HOT = 300  # ranks served from the hot set
AD_CREATIVES = 40
