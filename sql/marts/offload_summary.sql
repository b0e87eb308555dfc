-- Offload over the whole analysis window, all CDNs: one row.
with ratios as (

    select * from int_offload_ratios_computed

),

selected as (

    select
        ratios.requests,
        ratios.cacheable_requests,
        ratios.non_cacheable_requests,
        ratios.request_offload,
        ratios.byte_offload,
        ratios.cache_hit_ratio,
        ratios.cache_hit_ratio_strict,
        ratios.origin_requests,
        ratios.origin_bytes,
        ratios.origin_requests_per_s,
        ratios.revalidation_requests,
        ratios.revalidation_share,
        ratios.synthetic_requests,
        ratios.non_cacheable_origin_requests,
        ratios.cacheable_bytes,
        ratios.offloaded_bytes,
        ratios.bytes,
        ratios.requests_per_s,
        ratios.seconds
    from ratios
    where ratios.grain = 'overall'

)

select * from selected
