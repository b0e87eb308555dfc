-- The one-row analysis window: the requested bounds, or the extent of the data
-- where a bound is open, and its length in seconds (for per-second rates).
with windowed as (

    select * from int_minute_rollups_windowed

),

params as (

    select * from run_params

),

extent as (

    select
        min(windowed.minute) as first_minute,
        max(windowed.minute) as last_minute
    from windowed

),

resolved as (

    select
        coalesce(params.window_start, extent.first_minute) as window_start,
        coalesce(params.window_end, extent.last_minute + interval 1 minute) as window_end
    from params
    cross join extent

),

measured as (

    select
        resolved.window_start,
        resolved.window_end,
        cast(epoch(resolved.window_end) - epoch(resolved.window_start) as double) as window_seconds
    from resolved

)

select * from measured
