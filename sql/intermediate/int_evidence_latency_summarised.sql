-- Edge latency of GET/HEAD viewer requests per CDN (path_template null) and per CDN x
-- template over the analysis window, where the vendor logs it: time to last byte and
-- time to first byte, median and 95th percentile in milliseconds (exact quantiles).
with templated as (

    select * from int_requests_templated

),

ranked as (

    select * from int_templates_ranked

),

params as (

    select * from run_params

),

windowed as (

    select
        templated.cdn,
        coalesce(ranked.kept_template, templated.path_template) as path_template,
        templated.time_taken_ms,
        templated.ttfb_ms
    from templated
    -- Folded into /{other} as in the rollups where the ranking was built; a run on
    -- stored rollups builds it only when /{other} is studied (else it is empty).
    left join ranked
        on templated.dt = ranked.dt
        and templated.hour = ranked.hour
        and templated.host is not distinct from ranked.host
        and templated.path_template = ranked.path_template
    cross join params
    where templated.method in ('GET', 'HEAD')
        and (templated.time_taken_ms is not null or templated.ttfb_ms is not null)
        and (params.window_start is null or templated.event_time >= params.window_start)
        and (params.window_end is null or templated.event_time < params.window_end)

),

summarised as (

    select
        windowed.cdn,
        case when grouping(windowed.path_template) = 1 then null else windowed.path_template end
            as path_template,
        count(windowed.time_taken_ms) as latency_rows,
        quantile_cont(windowed.time_taken_ms, 0.5) as latency_p50_ms,
        quantile_cont(windowed.time_taken_ms, 0.95) as latency_p95_ms,
        quantile_cont(windowed.ttfb_ms, 0.5) as ttfb_p50_ms,
        quantile_cont(windowed.ttfb_ms, 0.95) as ttfb_p95_ms
    from windowed
    group by grouping sets (
        (windowed.cdn),
        (windowed.cdn, windowed.path_template)
    )

)

select * from summarised
