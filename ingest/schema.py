"""The canonical edge-request schema and the vendor cache-status vocabulary.

This module is the single definition of both. Vendor modules import it and never
restate a field or a mapping; `README.md` documents the same table for users.
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa


class CacheStatus(StrEnum):
    """Canonical cache status (section 11.2 of the format notes)."""

    HIT = "HIT"
    HIT_STALE = "HIT_STALE"
    HIT_UPDATING = "HIT_UPDATING"
    REVALIDATED = "REVALIDATED"
    PARTIAL_HIT = "PARTIAL_HIT"
    MISS = "MISS"
    PASS = "PASS"  # noqa: S105
    UNCACHEABLE = "UNCACHEABLE"
    SYNTHETIC = "SYNTHETIC"
    ERROR = "ERROR"
    UNKNOWN = "UNKNOWN"


class OriginRequest(StrEnum):
    """What one viewer request caused at the customer origin."""

    NONE = "none"
    FULL = "full"
    CONDITIONAL = "conditional"
    FAILED = "failed"
    BACKGROUND = "background"
    UNKNOWN = "unknown"


class ServedFromCache(StrEnum):
    """Whether the response body came from a CDN cache."""

    YES = "yes"
    NO = "no"
    PARTIAL = "partial"
    UNKNOWN = "unknown"


class CacheTier(StrEnum):
    EDGE = "edge"
    PARENT = "parent"
    UNKNOWN = "unknown"


class EventTimeKind(StrEnum):
    """Which moment of the request `event_time` marks (ambiguity A10)."""

    REQUEST_START = "request_start"
    RESPONSE_END = "response_end"
    LOG_ENTRY = "log_entry"


# Default flags implied by each canonical status. A vendor module overrides a flag
# only where its own evidence says more (for example a Cloudflare `dynamic` request
# with no origin response, or nginx `STALE`, which always contacted the origin).
STATUS_FLAGS: dict[CacheStatus, tuple[ServedFromCache, OriginRequest]] = {
    CacheStatus.HIT: (ServedFromCache.YES, OriginRequest.NONE),
    CacheStatus.HIT_STALE: (ServedFromCache.YES, OriginRequest.FAILED),
    CacheStatus.HIT_UPDATING: (ServedFromCache.YES, OriginRequest.BACKGROUND),
    CacheStatus.REVALIDATED: (ServedFromCache.YES, OriginRequest.CONDITIONAL),
    CacheStatus.PARTIAL_HIT: (ServedFromCache.PARTIAL, OriginRequest.FULL),
    CacheStatus.MISS: (ServedFromCache.NO, OriginRequest.FULL),
    CacheStatus.PASS: (ServedFromCache.NO, OriginRequest.FULL),
    CacheStatus.UNCACHEABLE: (ServedFromCache.NO, OriginRequest.FULL),
    CacheStatus.SYNTHETIC: (ServedFromCache.NO, OriginRequest.NONE),
    CacheStatus.ERROR: (ServedFromCache.NO, OriginRequest.UNKNOWN),
    CacheStatus.UNKNOWN: (ServedFromCache.UNKNOWN, OriginRequest.UNKNOWN),
}

UTC_MS = pa.timestamp("ms", tz="UTC")

# (name, type, nullable, description). README's schema table is generated from this.
CANONICAL_FIELDS: list[tuple[str, pa.DataType, bool, str]] = [
    ("event_time", UTC_MS, False, "When the request happened, UTC, millisecond precision."),
    (
        "event_time_kind",
        pa.string(),
        False,
        "Which moment event_time marks: request_start, response_end or log_entry.",
    ),
    (
        "cdn",
        pa.string(),
        False,
        "CDN vendor: cloudfront, fastly, akamai, cloudflare, gcp, azure, nginx, varnish.",
    ),
    (
        "source_format",
        pa.string(),
        False,
        "Log format the row was parsed from (see `cdn-offload formats`).",
    ),
    (
        "pop",
        pa.string(),
        True,
        "Edge location / POP code as the vendor logs it (CloudFront FRA56-C1, Fastly cache-fra-etou8220, Cloudflare ColoCode).",
    ),
    ("host", pa.string(), True, "Viewer Host header, lower-cased."),
    ("method", pa.string(), False, "HTTP method, upper-cased."),
    (
        "path",
        pa.string(),
        False,
        "Request path: starts with '/', percent-decoded once from the wire form (a vendor's own log-level encoding undone first), no query string.",
    ),
    ("query", pa.string(), True, "Raw query string without '?', null when absent."),
    (
        "status",
        pa.int16(),
        False,
        "HTTP status sent to the viewer; 0 when none was sent: the client aborted first, "
        "or the origin failed and the edge answered nothing (Azure).",
    ),
    (
        "cache_status",
        pa.string(),
        False,
        "Canonical cache status (HIT, HIT_STALE, HIT_UPDATING, REVALIDATED, PARTIAL_HIT, MISS, PASS, UNCACHEABLE, SYNTHETIC, ERROR, UNKNOWN).",
    ),
    (
        "cache_status_raw",
        pa.string(),
        True,
        "Vendor cache value(s) verbatim, '/'-joined when the vendor logs several.",
    ),
    (
        "cache_status_detail",
        pa.string(),
        True,
        "Sub-reason: EXPIRED, CLUSTER, OriginShieldHit, an error subtype, ...",
    ),
    ("cache_tier", pa.string(), False, "Cache tier that produced a hit: edge, parent or unknown."),
    (
        "served_from_cache",
        pa.string(),
        False,
        "Body delivered from a CDN cache: yes, no, partial or unknown.",
    ),
    (
        "origin_request",
        pa.string(),
        False,
        "What the request caused at the origin: none, full, conditional, failed, background or unknown.",
    ),
    (
        "is_viewer_request",
        pa.bool_(),
        False,
        "False for shield/parent duplicates and non-eyeball sub-requests.",
    ),
    (
        "incomplete",
        pa.bool_(),
        False,
        "The client aborted (status 0/000/499 or CloudFront result Error with a non-error response).",
    ),
    (
        "bytes_sent",
        pa.int64(),
        True,
        "Bytes sent to the viewer including headers (CloudFront sc-bytes, Cloudflare EdgeResponseBytes).",
    ),
    ("body_bytes", pa.int64(), True, "Body bytes sent to the viewer, where the vendor logs them."),
    ("request_bytes", pa.int64(), True, "Bytes received from the viewer, where logged."),
    ("time_taken_ms", pa.float64(), True, "Edge time to last byte in milliseconds, where logged."),
    ("ttfb_ms", pa.float64(), True, "Edge time to first byte in milliseconds, where logged."),
    ("content_type", pa.string(), True, "Response Content-Type without parameters, lower-cased."),
    ("max_age_s", pa.int64(), True, "Cache max-age / TTL in seconds, where the vendor logs it."),
    (
        "client_country",
        pa.string(),
        True,
        "Viewer country, ISO 3166-1 alpha-2 upper-case, where logged.",
    ),
    (
        "client_key",
        pa.string(),
        True,
        "Viewer identity: IP truncated (/24, /48) or keyed hash by default; raw IP only on opt-in.",
    ),
    (
        "user_agent",
        pa.string(),
        True,
        "User-Agent header, percent-decoded where the vendor encodes it.",
    ),
    (
        "protocol",
        pa.string(),
        True,
        "HTTP protocol version (HTTP/1.1, HTTP/2.0, HTTP/3.0), where logged.",
    ),
    ("request_id", pa.string(), True, "Vendor request id (x-edge-request-id, RayID, reqId, ...)."),
    (
        "sample_weight",
        pa.float64(),
        False,
        "How many requests this row stands for (1 / sampling rate).",
    ),
    ("_source_file", pa.string(), True, "Lineage: file the row came from."),
    (
        "_source_line",
        pa.int64(),
        True,
        "Lineage: 1-based line number in the file, or in the Kafka message.",
    ),
    ("_source_topic", pa.string(), True, "Lineage: Kafka topic."),
    ("_source_partition", pa.int32(), True, "Lineage: Kafka partition."),
    ("_source_offset", pa.int64(), True, "Lineage: Kafka offset."),
]

CANONICAL_SCHEMA = pa.schema(
    [pa.field(name, typ, nullable=nullable) for name, typ, nullable, _ in CANONICAL_FIELDS]
)

LINEAGE_COLUMNS = [
    "_source_file",
    "_source_line",
    "_source_topic",
    "_source_partition",
    "_source_offset",
]

# Vendor names used in the `cdn` column.
VENDORS = ("cloudfront", "fastly", "akamai", "cloudflare", "gcp", "azure", "nginx", "varnish")

CACHEABLE_METHODS = ("GET", "HEAD")

# Vendor value -> canonical cache status (section 11.4 of the format notes). Keys are
# the values as the vendor logs them; vendor modules look up case as documented here
# and map anything missing to UNKNOWN (vendors add values without notice). Values
# whose meaning depends on another field (CloudFront `Error` + detailed type,
# Cloudflare `unknown` + origin status, nginx `-` + upstream address, Varnish `synth`
# + status) are resolved in the vendor module, which documents the rule.
CLOUDFRONT_RESULT_TYPES: dict[str, CacheStatus] = {
    "Hit": CacheStatus.HIT,
    "OriginShieldHit": CacheStatus.HIT,
    "RefreshHit": CacheStatus.REVALIDATED,
    "Miss": CacheStatus.MISS,
    "Redirect": CacheStatus.SYNTHETIC,
    "FunctionGeneratedResponse": CacheStatus.SYNTHETIC,
    "LambdaGeneratedResponse": CacheStatus.SYNTHETIC,
    "MissGeneratedResponse": CacheStatus.UNKNOWN,
    "LimitExceeded": CacheStatus.ERROR,
    "CapacityExceeded": CacheStatus.ERROR,
    "Error": CacheStatus.ERROR,
}
# CloudFront detailed error subtypes that mean the origin was attempted.
CLOUDFRONT_ORIGIN_ERRORS = frozenset(
    {
        "AbortedOrigin",
        "OriginCommError",
        "OriginConnectError",
        "OriginContentRangeLengthError",
        "OriginDnsError",
        "OriginError",
        "OriginHeaderTooBigError",
        "OriginInvalidResponseError",
        "OriginReadError",
        "OriginWriteError",
        "OriginZeroSizeObjectError",
        "SlowReaderOriginError",
    }
)
# CloudFront detailed error subtypes raised at the edge without contacting the origin.
CLOUDFRONT_EDGE_ERRORS = frozenset(
    {
        "ClientGeoBlocked",
        "ClientHungUpRequest",
        "InvalidRequest",
        "InvalidRequestBlocked",
        "InvalidRequestCertificate",
        "InvalidRequestHeader",
        "InvalidRequestMethod",
    }
)

# Fastly `fastly_info.state` base values, after known suffixes (-CLUSTER, -WAIT,
# -REFRESH) are stripped; any state carrying -REFRESH is REVALIDATED. `SYNTH` is the
# value Fastly's default regex-collapsed `cache_status` produces for HIT-SYNTH.
FASTLY_STATES: dict[str, CacheStatus] = {
    "HIT": CacheStatus.HIT,
    "HIT-STALE": CacheStatus.HIT_STALE,
    "HIT-SYNTH": CacheStatus.SYNTHETIC,
    "SYNTH": CacheStatus.SYNTHETIC,
    "HITPASS": CacheStatus.UNCACHEABLE,
    "MISS": CacheStatus.MISS,
    "PASS": CacheStatus.PASS,
    "UPGRADE": CacheStatus.PASS,
    "PIPE": CacheStatus.PASS,
    "ERROR": CacheStatus.ERROR,
    "ERROR-LOSTHDR": CacheStatus.ERROR,
    "NONE": CacheStatus.UNKNOWN,
}
FASTLY_SUFFIXES = ("-CLUSTER", "-WAIT", "-REFRESH")

# Akamai DataStream 2 `cacheStatus` (binary). `0` with `cacheable` = `0` is UNCACHEABLE.
AKAMAI_CACHE_STATUS: dict[str, CacheStatus] = {
    "1": CacheStatus.HIT,
    "0": CacheStatus.MISS,
}

# Cloudflare Logpush `CacheCacheStatus`. `unknown` is SYNTHETIC when no origin
# response was received (OriginResponseStatus 0), else UNKNOWN; `expired` is a MISS
# with detail EXPIRED.
CLOUDFLARE_CACHE_STATUS: dict[str, CacheStatus] = {
    "hit": CacheStatus.HIT,
    "stream_hit": CacheStatus.HIT,
    "miss": CacheStatus.MISS,
    "expired": CacheStatus.MISS,
    "revalidated": CacheStatus.REVALIDATED,
    "updating": CacheStatus.HIT_UPDATING,
    "stale": CacheStatus.HIT_STALE,
    "bypass": CacheStatus.UNCACHEABLE,
    "dynamic": CacheStatus.PASS,
    "unknown": CacheStatus.UNKNOWN,
    "ignored": CacheStatus.UNKNOWN,
    "deferred": CacheStatus.UNKNOWN,
}

# Azure Front Door / Azure CDN `CacheStatus` (upper-cased before lookup).
AZURE_CACHE_STATUS: dict[str, CacheStatus] = {
    "HIT": CacheStatus.HIT,
    "TCP_HIT": CacheStatus.HIT,
    "REMOTE_HIT": CacheStatus.HIT,
    "TCP_REMOTE_HIT": CacheStatus.HIT,
    "MISS": CacheStatus.MISS,
    "TCP_MISS": CacheStatus.MISS,
    "TCP_EXPIRED_MISS": CacheStatus.MISS,
    "TCP_CLIENT_REFRESH_MISS": CacheStatus.MISS,
    "PARTIAL_HIT": CacheStatus.PARTIAL_HIT,
    "TCP_PARTIAL_HIT": CacheStatus.PARTIAL_HIT,
    "CACHE_NOCONFIG": CacheStatus.PASS,
    "CONFIG_NOCACHE": CacheStatus.PASS,
    "PRIVATE_NOSTORE": CacheStatus.UNCACHEABLE,
    "UNCACHEABLE": CacheStatus.UNCACHEABLE,
    "TCP_EXPIRED_HIT": CacheStatus.REVALIDATED,
    "N/A": CacheStatus.SYNTHETIC,
    "NONE": CacheStatus.UNKNOWN,
}
AZURE_PARENT_HITS = frozenset({"REMOTE_HIT", "TCP_REMOTE_HIT"})

# nginx `$upstream_cache_status`. `-` is PASS when an upstream was contacted, else
# SYNTHETIC. STALE always contacted the origin (failed attempt or a background
# update this request triggered, ambiguity A6), so it carries origin_request=failed.
NGINX_CACHE_STATUS: dict[str, CacheStatus] = {
    "HIT": CacheStatus.HIT,
    "MISS": CacheStatus.MISS,
    "EXPIRED": CacheStatus.MISS,
    "STALE": CacheStatus.HIT_STALE,
    "UPDATING": CacheStatus.HIT_UPDATING,
    "REVALIDATED": CacheStatus.REVALIDATED,
    "BYPASS": CacheStatus.PASS,
}

# Varnish `%{Varnish:handling}x`. `synth`/`error` is ERROR when status >= 500.
VARNISH_HANDLING: dict[str, CacheStatus] = {
    "hit": CacheStatus.HIT,
    "miss": CacheStatus.MISS,
    "hitmiss": CacheStatus.MISS,
    "hitpass": CacheStatus.UNCACHEABLE,
    "pass": CacheStatus.PASS,
    "pipe": CacheStatus.PASS,
    "synth": CacheStatus.SYNTHETIC,
    "error": CacheStatus.SYNTHETIC,
}
