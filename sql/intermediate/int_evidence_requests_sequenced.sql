-- Each scoped request with whether it is the first request of its cache key (path
-- and query) and of its path at its POP in the window, and the cause of its origin
-- request. Causes are exclusive and tried in order: error, bypass, expiry (304,
-- expired, or a repeat miss of a short-TTL object), uncached repeat (a repeat miss
-- otherwise), fragmentation (a new query for a path the POP already had), cold
-- (first request of the path at the POP), other.
with scoped as (

    select * from int_evidence_requests_scoped

),

suggestion_params as (

    select * from suggestion_params

),

-- First request of each key: the earliest event time per hashed key, joined back.
-- Aggregating 64-bit hashes is several times cheaper than a window sorting whole
-- rows; a collision would only merge two keys, and requests tied on the first
-- millisecond all count as first.
key_firsts as (

    select
        hash(scoped.is_cacheable_method, scoped.cdn, scoped.pop, scoped.path, scoped.query) as key_hash,
        min(scoped.event_time) as first_time
    from scoped
    group by key_hash

),

path_firsts as (

    select
        hash(scoped.is_cacheable_method, scoped.cdn, scoped.pop, scoped.path) as path_hash,
        min(scoped.event_time) as first_time
    from scoped
    group by path_hash

),

sequenced as (

    select
        scoped.*,
        scoped.event_time = key_firsts.first_time as is_first_key,
        scoped.event_time = path_firsts.first_time as is_first_path
    from scoped
    inner join key_firsts
        on hash(scoped.is_cacheable_method, scoped.cdn, scoped.pop, scoped.path, scoped.query)
        = key_firsts.key_hash
    inner join path_firsts
        on hash(scoped.is_cacheable_method, scoped.cdn, scoped.pop, scoped.path)
        = path_firsts.path_hash

),

classified as (

    select
        sequenced.*,
        sequenced.cache_status in ('MISS', 'PARTIAL_HIT')
        and sequenced.origin_request = 'full'
        and sequenced.status < 400 as is_full_miss,
        case
            when not sequenced.is_origin then null
            when sequenced.served_from_cache != 'yes'
                and (sequenced.status >= 500 or sequenced.status in (404, 410)) then 'error'
            when sequenced.cache_status in ('PASS', 'UNCACHEABLE') then 'bypass'
            when sequenced.cache_status = 'REVALIDATED'
                or (sequenced.cache_status = 'MISS' and sequenced.cache_status_detail = 'EXPIRED')
                then 'expiry'
            when sequenced.cache_status not in ('MISS', 'PARTIAL_HIT') then 'other'
            when not sequenced.is_first_key and sequenced.effective_ttl_s = 0 then 'bypass'
            when not sequenced.is_first_key
                and sequenced.effective_ttl_s <= suggestion_params.short_ttl_s then 'expiry'
            when not sequenced.is_first_key then 'uncached_repeat'
            when not sequenced.is_first_path then 'fragmentation'
            else 'cold'
        end as origin_cause,
        -- TTL the estimates use: logged or template max-age, at least one second.
        greatest(coalesce(sequenced.effective_ttl_s, suggestion_params.assumed_ttl_s), 1) as estimate_ttl_s,
        -- Edge TTL TTL_TOO_SHORT recommends: about half a segment for live manifests,
        -- else ten times the current TTL, at least suggested_s_maxage_s.
        cast(ceil(case
            when sequenced.content_type in (
                'application/vnd.apple.mpegurl', 'application/x-mpegurl', 'audio/mpegurl',
                'application/dash+xml'
            )
            or sequenced.path like '%.m3u8'
            or sequenced.path like '%.mpd'
                then suggestion_params.live_manifest_ttl_s
            else greatest(
                suggestion_params.suggested_s_maxage_s,
                10 * coalesce(sequenced.effective_ttl_s, suggestion_params.assumed_ttl_s)
            )
        end) as bigint) as recommended_ttl_s
    from sequenced
    cross join suggestion_params

)

select * from classified
