-- Metric components summed per minute of the analysis window: overall, per CDN,
-- per template and per template x CDN. `grain` names it. Kept apart from the window
-- grains so a window analysis does not pay for per-minute series it does not show.
with classified as (

    select * from int_minute_rollups_classified

),

summed as (

    select
        case grouping(classified.cdn, classified.path_template)
            when 3 then 'minute'
            when 1 then 'minute_cdn'
            when 2 then 'minute_template'
            when 0 then 'minute_template_cdn'
        end as grain,
        classified.minute,
        classified.cdn,
        classified.path_template,
        sum(classified.requests) as requests,
        sum(classified.cacheable_requests) as cacheable_requests,
        sum(classified.non_cacheable_requests) as non_cacheable_requests,
        cast(sum(classified.bytes) as bigint) as bytes,
        cast(sum(classified.cacheable_bytes) as bigint) as cacheable_bytes,
        cast(sum(classified.offloaded_bytes) as bigint) as offloaded_bytes,
        sum(classified.cacheable_origin_requests) as origin_requests,
        cast(sum(classified.cacheable_origin_bytes) as bigint) as origin_bytes,
        sum(classified.non_cacheable_origin_requests) as non_cacheable_origin_requests,
        sum(classified.cacheable_revalidation_requests) as revalidation_requests,
        sum(classified.synthetic_requests) as synthetic_requests,
        sum(classified.cache_lookups) as cache_lookups,
        sum(classified.cache_hits) as cache_hits,
        sum(classified.strict_cache_hits) as strict_cache_hits,
        sum(classified.incomplete_requests) as incomplete_requests
    from classified
    group by grouping sets (
        (classified.minute),
        (classified.minute, classified.cdn),
        (classified.minute, classified.path_template),
        (classified.minute, classified.path_template, classified.cdn)
    )

)

select * from summed
