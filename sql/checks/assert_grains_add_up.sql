-- Per-CDN, per-POP, per-template, per-method and per-minute requests each add up
-- to the window total.
with window_ratios as (

    select * from int_offload_ratios_computed

),

minute_ratios as (

    select * from int_offload_ratios_by_minute_computed

),

ratios as (

    select
        window_ratios.grain,
        window_ratios.requests,
        window_ratios.origin_requests,
        window_ratios.bytes
    from window_ratios
    union all
    select
        minute_ratios.grain,
        minute_ratios.requests,
        minute_ratios.origin_requests,
        minute_ratios.bytes
    from minute_ratios

),

totals as (

    select
        ratios.grain,
        sum(ratios.requests) as requests,
        sum(ratios.origin_requests) as origin_requests,
        sum(ratios.bytes) as bytes
    from ratios
    where ratios.grain in ('overall', 'cdn', 'pop', 'template', 'method', 'minute')
    group by ratios.grain

),

overall as (

    select * from totals
    where totals.grain = 'overall'

),

mismatched as (

    select totals.*
    from totals
    cross join overall
    where abs(totals.requests - overall.requests) > 1e-6 * greatest(overall.requests, 1)
        or abs(totals.origin_requests - overall.origin_requests) > 1e-6 * greatest(overall.origin_requests, 1)
        or totals.bytes != overall.bytes

)

select * from mismatched
