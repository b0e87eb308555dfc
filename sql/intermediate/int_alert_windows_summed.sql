-- Metric components of every alert window, summed from the per-minute sums: the
-- whole window (grain minute), per template, and per template x CDN. A minute
-- belongs to every window whose [window_start, window_end) contains it.
with windows as (

    select * from int_alert_windows_enumerated

),

minutes as (

    select * from int_offload_summed_by_minute

),

summed as (

    select
        windows.window_start,
        windows.window_end,
        windows.window_seconds,
        minutes.grain,
        minutes.path_template,
        minutes.cdn,
        sum(minutes.requests) as requests,
        sum(minutes.cacheable_requests) as cacheable_requests,
        cast(sum(minutes.cacheable_bytes) as bigint) as cacheable_bytes,
        cast(sum(minutes.offloaded_bytes) as bigint) as offloaded_bytes,
        sum(minutes.origin_requests) as origin_requests,
        cast(sum(minutes.origin_bytes) as bigint) as origin_bytes
    from windows
    inner join minutes
        on minutes.minute >= windows.window_start
        and minutes.minute < windows.window_end
    where minutes.grain in ('minute', 'minute_template', 'minute_template_cdn')
    group by
        windows.window_start,
        windows.window_end,
        windows.window_seconds,
        minutes.grain,
        minutes.path_template,
        minutes.cdn

)

select * from summed
