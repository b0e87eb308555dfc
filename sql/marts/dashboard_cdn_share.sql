-- Each CDN's offload over the window and its share of all traffic and origin load.
with cdns as (

    select * from cdn_offload

),

summary as (

    select * from offload_summary

),

shared as (

    select
        cdns.cdn,
        cdns.requests,
        cdns.requests / nullif(summary.requests, 0) as traffic_share,
        cdns.cacheable_requests,
        cdns.request_offload,
        cdns.byte_offload,
        cdns.origin_requests,
        cdns.origin_requests / nullif(summary.origin_requests, 0) as origin_share,
        cdns.origin_requests_per_s,
        cdns.origin_bytes
    from cdns
    cross join summary

)

select * from shared
