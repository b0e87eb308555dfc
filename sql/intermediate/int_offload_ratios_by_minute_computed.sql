-- Offload ratios and rates per minute, divided exactly as in
-- int_offload_ratios_computed (the window grains).
with summed as (

    select * from int_offload_summed_by_minute

),

computed as (

    select
        summed.*,
        1 - summed.origin_requests / nullif(summed.cacheable_requests, 0) as request_offload,
        summed.offloaded_bytes / nullif(summed.cacheable_bytes, 0) as byte_offload,
        summed.cache_hits / nullif(summed.cache_lookups, 0) as cache_hit_ratio,
        summed.strict_cache_hits / nullif(summed.cache_lookups, 0) as cache_hit_ratio_strict,
        summed.revalidation_requests / nullif(summed.origin_requests, 0) as revalidation_share,
        cast(60 as double) as seconds
    from summed

),

rated as (

    select
        computed.*,
        computed.origin_requests / nullif(computed.seconds, 0) as origin_requests_per_s,
        computed.requests / nullif(computed.seconds, 0) as requests_per_s
    from computed

)

select * from rated
