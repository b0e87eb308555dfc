-- Each windowed rollup row split into the components of every offload metric.
-- Ratios use GET/HEAD viewer requests only; other methods are never cacheable and
-- are counted apart. Synthetic edge responses count as offloaded (no origin
-- request) and are also counted apart. The cache hit ratio follows the vendors:
-- hits / (hits + misses), with pass, uncacheable, synthetic, error and unknown
-- left out of both sides; the strict variant counts revalidations as misses.
with windowed as (

    select * from int_minute_rollups_windowed

),

flagged as (

    select
        windowed.*,
        windowed.method in ('GET', 'HEAD') as is_cacheable_method,
        windowed.cache_status in (
            'HIT', 'HIT_STALE', 'HIT_UPDATING', 'REVALIDATED', 'PARTIAL_HIT', 'MISS'
        ) as is_cache_lookup
    from windowed

),

classified as (

    select
        flagged.*,
        case when flagged.is_cacheable_method then flagged.requests else 0 end as cacheable_requests,
        case when flagged.is_cacheable_method then flagged.bytes else 0 end as cacheable_bytes,
        case
            when not flagged.is_cacheable_method then 0
            when flagged.cache_status = 'SYNTHETIC' then flagged.bytes
            else flagged.cache_bytes
        end as offloaded_bytes,
        case when flagged.is_cacheable_method then flagged.origin_requests else 0 end as cacheable_origin_requests,
        case when flagged.is_cacheable_method then flagged.origin_bytes else 0 end as cacheable_origin_bytes,
        case
            when flagged.is_cacheable_method then flagged.revalidation_requests else 0
        end as cacheable_revalidation_requests,
        case
            when flagged.is_cacheable_method and flagged.cache_status = 'SYNTHETIC' then flagged.requests
            else 0
        end as synthetic_requests,
        case
            when flagged.is_cacheable_method and flagged.is_cache_lookup then flagged.requests else 0
        end as cache_lookups,
        case
            when flagged.is_cacheable_method and flagged.is_cache_lookup then flagged.cache_requests else 0
        end as cache_hits,
        case
            when flagged.is_cacheable_method and flagged.is_cache_lookup and flagged.cache_status != 'REVALIDATED'
                then flagged.cache_requests
            else 0
        end as strict_cache_hits,
        case when flagged.is_cacheable_method then 0 else flagged.requests end as non_cacheable_requests,
        case when flagged.is_cacheable_method then 0 else flagged.origin_requests end as non_cacheable_origin_requests
    from flagged

)

select * from classified
