-- Rollup rows inside the analysis window [window_start, window_end); a missing bound
-- leaves that side open. Windows are minute-aligned, like the rollups.
with rollups as (

    select * from stg_minute_rollups

),

params as (

    select * from run_params

),

windowed as (

    select rollups.*
    from rollups
    cross join params
    where (params.window_start is null or rollups.minute >= params.window_start)
        and (params.window_end is null or rollups.minute < params.window_end)

)

select * from windowed
