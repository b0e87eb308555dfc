-- Template and template x CDN series of every alert window that matter to alert
-- state: eligible in the window, eligible in some window of the run, or tracked by
-- the alert state (src_alert_tracked_series). Severity comes from the share of the
-- window's origin load (P1/P2/P3 cut-offs as offload_flags), unless the first
-- matching severity override says otherwise; series an override marks `ignore` are
-- left out. Alert state machines read only this mart.
with evaluated as (

    select * from int_alert_windows_evaluated

),

tracked as (

    select * from src_alert_tracked_series

),

overrides as (

    select * from src_alert_severity_overrides

),

params as (

    select * from alert_params

),

relevant as (

    select
        evaluated.*,
        bool_or(evaluated.eligible) over (
            partition by evaluated.path_template, evaluated.cdn
        ) as eligible_in_run
    from evaluated

),

kept as (

    select relevant.* exclude (eligible_in_run)
    from relevant
    left join tracked
        on relevant.path_template = tracked.path_template
        and relevant.cdn is not distinct from tracked.cdn
    where relevant.eligible_in_run
        or tracked.path_template is not null

),

overridden as (

    select
        kept.window_end,
        kept.path_template,
        kept.cdn,
        arg_min(overrides.severity, overrides.override_rank) as override_severity
    from kept
    inner join overrides
        on regexp_matches(kept.path_template, overrides.pattern)
        and (overrides.cdn is null or overrides.cdn = kept.cdn)
    group by
        kept.window_end,
        kept.path_template,
        kept.cdn

),

rated as (

    select
        kept.*,
        coalesce(
            overridden.override_severity,
            case
                when kept.origin_load_share >= params.p1_min_origin_share then 'P1'
                when kept.origin_load_share >= params.p2_min_origin_share then 'P2'
                else 'P3'
            end
        ) as severity
    from kept
    cross join params
    left join overridden
        on kept.window_end = overridden.window_end
        and kept.path_template = overridden.path_template
        and kept.cdn is not distinct from overridden.cdn

),

unmuted as (

    select rated.*
    from rated
    where rated.severity != 'ignore'

)

select * from unmuted
