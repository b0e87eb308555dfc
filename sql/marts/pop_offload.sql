-- Offload per CDN and POP over the analysis window.
with ratios as (

    select * from int_offload_ratios_computed

),

selected as (

    select
        ratios.cdn,
        ratios.pop,
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
    where ratios.grain = 'pop'

)

select * from selected
