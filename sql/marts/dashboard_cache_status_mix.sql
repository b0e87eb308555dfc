-- Requests per canonical cache status over the window, for all CDNs (cdn is null)
-- and per CDN, with each status's share of the scope's GET/HEAD requests.
with classified as (

    select * from int_minute_rollups_classified

),

counted as (

    select
        classified.cdn,
        classified.cache_status,
        sum(classified.requests) as requests,
        sum(classified.cacheable_requests) as cacheable_requests,
        sum(classified.cacheable_origin_requests) as origin_requests
    from classified
    group by grouping sets (
        (classified.cache_status),
        (classified.cdn, classified.cache_status)
    )

),

shared as (

    select
        counted.*,
        counted.cacheable_requests
        / nullif(sum(counted.cacheable_requests) over (partition by counted.cdn), 0)
            as cacheable_share
    from counted

)

select * from shared
