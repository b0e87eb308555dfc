-- The big numbers: window offload and its distance to the target, and the origin's
-- load as rates. One row, also when the window holds no traffic (figures are then null).
with analysis_window as (

    select * from int_analysis_window_resolved

),

summary as (

    select * from offload_summary

),

params as (

    select * from run_params

),

headline as (

    select
        analysis_window.window_start,
        analysis_window.window_end,
        analysis_window.window_seconds,
        coalesce(summary.requests, 0) as requests,
        coalesce(summary.cacheable_requests, 0) as cacheable_requests,
        params.threshold,
        summary.request_offload,
        summary.request_offload - params.threshold as request_offload_vs_target,
        summary.byte_offload,
        summary.byte_offload - params.threshold as byte_offload_vs_target,
        coalesce(summary.origin_requests, 0) as origin_requests,
        summary.origin_requests_per_s,
        coalesce(summary.origin_bytes, 0) as origin_bytes,
        summary.origin_bytes / nullif(analysis_window.window_seconds, 0)
            as origin_egress_bytes_per_s,
        summary.bytes / nullif(analysis_window.window_seconds, 0) as edge_egress_bytes_per_s,
        summary.requests_per_s
    from analysis_window
    cross join params
    left join summary on true

)

select * from headline
