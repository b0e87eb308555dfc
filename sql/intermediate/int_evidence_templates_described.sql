-- GET/HEAD viewer requests of every template in the analysis window with its most
-- common content type, and whether it is an API (JSON or XML that is not a streaming
-- manifest, or a path under /api/): the static-snapshot candidates are chosen among
-- these before the costlier evidence is computed for them.
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
        coalesce(ranked.kept_template, templated.path_template) as path_template,
        templated.sample_weight,
        templated.content_type
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
        and (params.window_start is null or templated.event_time >= params.window_start)
        and (params.window_end is null or templated.event_time < params.window_end)

),

described as (

    select
        windowed.path_template,
        sum(windowed.sample_weight) as requests,
        mode(windowed.content_type) as content_type
    from windowed
    group by windowed.path_template

),

classified as (

    select
        described.*,
        coalesce(
            (
                described.content_type like '%json%'
                or described.content_type in ('application/xml', 'text/xml')
                or described.path_template like '%/api/%'
            )
            and described.content_type not in (
                'application/dash+xml', 'application/vnd.apple.mpegurl', 'application/x-mpegurl'
            ),
            false
        ) as is_api
    from described

)

select * from classified
