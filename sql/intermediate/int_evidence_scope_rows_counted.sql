-- Logged viewer requests (rows) of the templates in suggestion_scopes inside the
-- analysis window, from the minute rollups: what sets the share of the window the
-- evidence reads.
with windowed as (

    select * from int_minute_rollups_windowed

),

scopes as (

    select distinct suggestion_scopes.path_template from suggestion_scopes

),

counted as (

    select coalesce(sum(windowed.rows), 0) as scoped_rows
    from windowed
    inner join scopes
        on windowed.path_template = scopes.path_template

)

select * from counted
