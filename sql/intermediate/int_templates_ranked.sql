-- Templates ranked per partition hour and host by weighted requests (ties by
-- template text); those past max_templates_per_host fold into the overflow template.
-- Ranking per hour keeps the live rollup, which recomputes one hour at a time,
-- identical to the batch one.
with aggregated as (

    select * from int_requests_aggregated_to_template

),

params as (

    select * from run_params

),

template_totals as (

    select
        aggregated.dt,
        aggregated.hour,
        aggregated.host,
        aggregated.path_template,
        sum(aggregated.requests_milli) as requests_milli
    from aggregated
    group by
        aggregated.dt,
        aggregated.hour,
        aggregated.host,
        aggregated.path_template

),

ranked as (

    select
        template_totals.*,
        row_number() over (
            partition by template_totals.dt, template_totals.hour, template_totals.host
            order by template_totals.requests_milli desc, template_totals.path_template asc
        ) as template_rank
    from template_totals

),

bounded as (

    select
        ranked.dt,
        ranked.hour,
        ranked.host,
        ranked.path_template,
        ranked.template_rank,
        case
            when ranked.template_rank <= params.max_templates_per_host then ranked.path_template
            else params.other_template
        end as kept_template
    from ranked
    cross join params

)

select * from bounded
