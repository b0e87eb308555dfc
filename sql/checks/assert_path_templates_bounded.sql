-- No host has more than max_templates_per_host templates in an hour, plus the
-- overflow template.
with rollups as (

    select * from stg_minute_rollups

),

params as (

    select * from run_params

),

counted as (

    select
        rollups.dt,
        rollups.hour,
        rollups.host,
        count(distinct rollups.path_template) as templates
    from rollups
    group by all

),

unbounded as (

    select counted.*
    from counted
    cross join params
    where counted.templates > params.max_templates_per_host + 1

)

select * from unbounded
