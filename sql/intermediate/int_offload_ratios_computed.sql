-- Offload ratios and rates for every window grain. What goes into each numerator
-- and denominator is decided once, in int_minute_rollups_classified; this divides
-- (int_offload_ratios_by_minute_computed divides the same way per minute).
-- A ratio with an empty denominator is null, never 0 or 1.
with summed as (

    select * from int_offload_summed_by_grain

),

analysis_window as (

    select * from int_analysis_window_resolved

),

computed as (

    select
        summed.*,
        1 - summed.origin_requests / nullif(summed.cacheable_requests, 0) as request_offload,
        summed.offloaded_bytes / nullif(summed.cacheable_bytes, 0) as byte_offload,
        summed.cache_hits / nullif(summed.cache_lookups, 0) as cache_hit_ratio,
        summed.strict_cache_hits / nullif(summed.cache_lookups, 0) as cache_hit_ratio_strict,
        summed.revalidation_requests / nullif(summed.origin_requests, 0) as revalidation_share,
        analysis_window.window_seconds as seconds
    from summed
    cross join analysis_window

),

rated as (

    select
        computed.*,
        computed.origin_requests / nullif(computed.seconds, 0) as origin_requests_per_s,
        computed.requests / nullif(computed.seconds, 0) as requests_per_s
    from computed

)

select * from rated
