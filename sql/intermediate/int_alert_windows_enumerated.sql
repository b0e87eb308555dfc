-- Alert evaluation windows: one per step from the first to the last window end in
-- alert_params, each covering [window_end - window_minutes, window_end).
with params as (

    select * from alert_params

),

window_ends as (

    select
        unnest(generate_series(
            params.first_window_end,
            params.last_window_end,
            to_minutes(cast(params.step_minutes as integer))
        )) as window_end,
        params.window_minutes
    from params

),

enumerated as (

    select
        window_ends.window_end - to_minutes(cast(window_ends.window_minutes as integer)) as window_start,
        window_ends.window_end,
        cast(window_ends.window_minutes * 60 as double) as window_seconds
    from window_ends

)

select * from enumerated
