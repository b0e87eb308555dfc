"""What each suggestion code tells an SRE to do, and which evidence numbers it shows.

The numbers come from the `policy_suggestions` mart; this module only words them.
Query-parameter names come from viewers, so only names made of safe characters are
quoted in an action (the evidence keeps them all, as data).
"""

from __future__ import annotations

import re
from typing import Any

CODES = (
    "QUERY_STRING_IN_CACHE_KEY",
    "TTL_TOO_SHORT",
    "NOT_CACHEABLE",
    "ERRORS_NOT_CACHED",
    "LONG_TAIL",
    "REQUEST_COLLAPSING",
    "UNCACHEABLE_BY_DESIGN",
    "CDN_OUTLIER",
)
EVIDENCE_KEYS: dict[str, list[str]] = {
    "QUERY_STRING_IN_CACHE_KEY": [
        "query_request_share",
        "distinct_paths",
        "distinct_keys",
        "keys_per_request",
        "keys_per_path",
        "cause_fragmentation",
        "cause_fragmentation_share",
        "fragmentation_fetches",
        "ttl_s",
        "query_params",
    ],
    "TTL_TOO_SHORT": [
        "cause_expiry",
        "cause_expiry_share",
        "status_revalidated",
        "status_expired_miss",
        "max_age_median_s",
        "ttl_s",
        "recommended_ttl_s",
        "expiry_refreshes",
        "is_live_manifest",
        "content_type",
    ],
    "NOT_CACHEABLE": [
        "cause_bypass",
        "cause_bypass_share",
        "status_pass",
        "status_uncacheable",
        "distinct_keys",
        "requests_per_key",
        "clients_per_object",
        "multi_client_request_share",
        "max_age_median_s",
        "bypass_fetches",
    ],
    "ERRORS_NOT_CACHED": [
        "cause_error",
        "cause_error_share",
        "origin_5xx",
        "origin_4xx",
        "spike_error_requests",
        "spike_minutes",
        "spike_request_offload",
        "normal_request_offload",
        "error_fetches",
    ],
    "LONG_TAIL": [
        "distinct_paths",
        "requests_per_object",
        "clients_per_object",
        "cause_cold",
        "cause_cold_share",
        "cold_shield_fetches",
        "object_bytes_median",
    ],
    "REQUEST_COLLAPSING": [
        "spike_minutes",
        "spike_requests",
        "spike_request_offload",
        "normal_request_offload",
        "spike_full_misses",
        "spike_miss_fetches",
    ],
    "UNCACHEABLE_BY_DESIGN": [
        "non_cacheable_requests",
        "non_cacheable_methods",
        "objects",
        "repeat_objects",
        "single_client_repeat_share",
        "clients_per_object",
    ],
    "CDN_OUTLIER": [
        "peer_request_offload",
        "offload_gap",
        "gap_standard_error",
        "peer_cacheable_requests",
        "cause_uncached_repeat_share",
        "cause_expiry_share",
        "top_pops",
    ],
}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,40}$")
_QUERY_HOWTO = {
    "cloudfront": "CloudFront: cache policy, query strings 'None' or an allow-list",
    "fastly": "Fastly: strip or filter the query in vcl_recv (querystring.filter) before lookup",
    "akamai": "Akamai: Cache Key Query Parameters behavior, ignore or include only listed ones",
    "cloudflare": "Cloudflare: Cache Rule, cache key > query string > ignore or include listed",
}


def _pct(value: Any) -> str:
    return "?" if value is None else f"{value:.0%}"


def _where(cdn: str | None) -> str:
    return f" on {cdn}" if cdn else " on every CDN"


def _param_names(row: dict[str, Any]) -> str:
    names = [
        p["name"]
        for p in row.get("query_params") or []
        if (p.get("values_per_request") or 0) >= 0.05 and _SAFE_NAME.match(str(p["name"]))
    ]
    return ", ".join(f"'{n}'" for n in names) or "the varying parameters"


def _ttl_action(row: dict[str, Any]) -> str:
    swr = row["stale_while_revalidate_s"]
    now = row.get("ttl_s")
    now_text = "unknown" if now is None else f"{now:g} s"
    revalidated = _pct((row.get("status_revalidated") or 0) / (row.get("cacheable_requests") or 1))
    if row.get("is_live_manifest"):
        return (
            f"Live manifest{_where(row.get('cdn'))}: keep the edge TTL at about half the segment "
            f"duration (s-maxage={row.get('recommended_ttl_s')}) and add "
            f"stale-while-revalidate={swr}, so an expired manifest is served while one request "
            f"refreshes it (max-age now {now_text}; {revalidated} of requests revalidated)."
        )
    target = row.get("recommended_ttl_s")
    return (
        f"Objects expire or revalidate far more often than they change ({revalidated} of "
        f"requests were answered 304 Not Modified): raise the edge TTL{_where(row.get('cdn'))} "
        f"(Cache-Control: s-maxage={target}, max-age now {now_text}) and add "
        f"stale-while-revalidate={swr}."
    )


def action(code: str, row: dict[str, Any]) -> str:
    """The concrete change an SRE can apply, worded from the suggestion's evidence row."""
    cdn = row.get("cdn")
    if code == "QUERY_STRING_IN_CACHE_KEY":
        howto = _QUERY_HOWTO.get(cdn or "", "at each CDN, in its cache-key settings")
        return (
            f"Drop {_param_names(row)} from the cache key{_where(cdn)}, or allow-list only the "
            f"query parameters that change the response ({howto}); "
            f"{_pct(row.get('cause_fragmentation_share'))} of origin requests were misses on a new "
            "query for a path the POP already had."
        )
    if code == "TTL_TOO_SHORT":
        return _ttl_action(row)
    if code == "NOT_CACHEABLE":
        return (
            f"Shared content ({row.get('clients_per_object') or 0:.0f} clients per object) is "
            f"bypassed{_where(cdn)}: add an explicit cache rule at the CDN, or send "
            f"'Cache-Control: public, s-maxage={row['suggested_s_maxage_s']}' from the origin "
            "and drop private/no-store/Set-Cookie from these responses."
        )
    if code == "ERRORS_NOT_CACHED":
        return (
            f"Origin errors pass through uncached{_where(cdn)}: cache 5xx/404 answers for "
            f"{row['negative_ttl_s']} s (negative caching) and serve stale content on error "
            f"('Cache-Control: stale-if-error={row['stale_if_error_s']}'); "
            f"{_pct(row.get('cause_error_share'))} of origin requests were errors."
        )
    if code == "LONG_TAIL":
        return (
            f"Many cold objects ({row.get('distinct_paths') or 0:,} objects, "
            f"{row.get('requests_per_object') or 0:.1f} requests each): enable tiered cache / "
            f"origin shield{_where(cdn)} so one POP's miss is served by the shield, and prewarm "
            "known-hot objects before the match."
        )
    if code == "REQUEST_COLLAPSING":
        return (
            f"Concurrent misses for the same object at traffic spikes (offload "
            f"{_pct(row.get('spike_request_offload'))} in spike minutes vs "
            f"{_pct(row.get('normal_request_offload'))} otherwise): enable request collapsing "
            f"(coalescing){_where(cdn)} and an origin shield so one fetch serves the waiting "
            "requests."
        )
    if code == "UNCACHEABLE_BY_DESIGN":
        if (row.get("non_cacheable_requests") or 0) >= (row.get("cacheable_requests") or 0):
            return (
                f"Methods {row.get('non_cacheable_methods') or '?'} are never cached: not a "
                "cache-policy bug. Exclude them from the offload target and protect the "
                "collector behind them (rate limits, batching at the edge)."
            )
        return (
            f"Per-user content ({_pct(row.get('single_client_repeat_share'))} of repeatedly "
            "requested objects had a single client): not a cache-policy bug. Exclude it from "
            "the offload target, protect the origin (rate limits, prescaling), or keep a static "
            "API snapshot as fallback."
        )
    if code == "CDN_OUTLIER":
        return (
            f"{cdn} offloads this template at {_pct(row.get('request_offload'))} against "
            f"{_pct(row.get('peer_request_offload'))} on the other CDNs: compare {cdn}'s cache "
            "key (query string, cookies, headers) and TTL settings with theirs, or shift traffic "
            f"weight away from {cdn} until it is fixed."
        )
    raise ValueError(f"unknown suggestion code {code!r}")
