-- Offload per path template over the analysis window, all CDNs together.
with ratios as (

    select * from int_offload_ratios_computed

),

selected as (

    select
        ratios.path_template,
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
    where ratios.grain = 'template'

)

select * from selected
