-- Metric components summed over the analysis window at every grain the window
-- marts serve, in one pass: the whole window, per CDN, per POP, per template, per
-- template x CDN and per method. `grain` names it.
with classified as (

    select * from int_minute_rollups_classified

),

summed as (

    select
        case grouping(classified.cdn, classified.pop, classified.path_template, classified.method)
            when 15 then 'overall'
            when 7 then 'cdn'
            when 3 then 'pop'
            when 13 then 'template'
            when 5 then 'template_cdn'
            when 14 then 'method'
        end as grain,
        classified.cdn,
        classified.pop,
        classified.path_template,
        classified.method,
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
        (),
        (classified.cdn),
        (classified.cdn, classified.pop),
        (classified.path_template),
        (classified.path_template, classified.cdn),
        (classified.method)
    )

)

select * from summed
