-- Concurrent viewers per minute of the analysis window, by proxy: distinct client
-- keys with at least one viewer request in the minute (an IP truncated to /24 or /48
-- by default, so several viewers can share one key; sampled logs undercount them).
with requests as (

    select * from stg_edge_requests

),

params as (

    select * from run_params

),

per_minute as (

    select
        to_timestamp(requests.minute_index * 60) as minute,
        count(distinct requests.client_key) as viewers,
        sum(requests.sample_weight) as requests
    from requests
    cross join params
    where requests.is_viewer_request
        and (params.window_start is null or requests.event_time >= params.window_start)
        and (params.window_end is null or requests.event_time < params.window_end)
    group by requests.minute_index

)

select * from per_minute
