-- The CDNs side by side over the analysis window: traffic share, offload, origin
-- load, error rates and edge latency (where logged).
with cdns as (

    select * from cdn_offload

),

statuses as (

    select * from int_evidence_status_classes_summed where path_template is null

),

latency as (

    select * from int_evidence_latency_summarised where path_template is null

),

compared as (

    select
        cdns.cdn,
        cdns.requests,
        cdns.cacheable_requests,
        cdns.requests / nullif(sum(cdns.requests) over (), 0) as traffic_share,
        cdns.request_offload,
        cdns.byte_offload,
        cdns.cache_hit_ratio,
        cdns.origin_requests,
        cdns.origin_requests_per_s,
        cdns.origin_bytes,
        cdns.origin_bytes / nullif(cdns.seconds, 0) as origin_bytes_per_s,
        cdns.origin_requests / nullif(sum(cdns.origin_requests) over (), 0) as origin_load_share,
        coalesce(statuses.server_error_requests, 0) as server_error_requests,
        statuses.server_error_requests / nullif(statuses.requests, 0) as error_rate,
        statuses.client_error_requests / nullif(statuses.requests, 0) as client_error_rate,
        latency.latency_p50_ms,
        latency.latency_p95_ms,
        latency.ttfb_p50_ms,
        latency.ttfb_p95_ms
    from cdns
    left join statuses
        on cdns.cdn = statuses.cdn
    left join latency
        on cdns.cdn = latency.cdn

)

select * from compared
