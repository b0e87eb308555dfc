-- Viewer requests of the templates under study (suggestion_scopes), inside the
-- analysis window, each with the template it is counted under (rare templates
-- folded as in the rollups) and its effective TTL: the logged max-age, else the
-- template's median max-age from the vendors that log it. On large windows only a
-- deterministic sample is read (evidence_sample_share, set from evidence_max_rows):
-- whole units of one path at one POP of one CDN over 5 minutes, so a path keeps its
-- history (and its queries) within a unit, and every POP and stretch of time is seen.
with templated as (

    select * from int_requests_templated

),

ranked as (

    select * from int_templates_ranked

),

scopes as (

    select distinct suggestion_scopes.path_template from suggestion_scopes

),

params as (

    select * from run_params

),

suggestion_params as (

    select * from suggestion_params

),

kept as (

    select
        coalesce(ranked.kept_template, templated.path_template) as path_template,
        templated.event_time,
        templated.minute_index,
        templated.cdn,
        templated.pop,
        templated.host,
        templated.method,
        templated.path,
        templated.query,
        templated.status,
        templated.status_digit,
        templated.cache_status,
        upper(coalesce(templated.cache_status_detail, '')) as cache_status_detail,
        templated.served_from_cache,
        templated.origin_request,
        templated.content_type,
        templated.max_age_s,
        templated.client_key,
        -- Weighted up when the evidence reads a sample (see above).
        templated.sample_weight / suggestion_params.evidence_sample_share as weight,
        templated.weighted_bytes as bytes,
        coalesce(templated.body_bytes, templated.bytes_sent) as object_bytes,
        templated.time_taken_ms,
        templated.ttfb_ms,
        epoch(templated.event_time) as epoch_s,
        templated.method in ('GET', 'HEAD') as is_cacheable_method,
        templated.origin_request in ('full', 'conditional', 'failed') as is_origin
    from templated
    -- Folded into /{other} as in the rollups where the ranking was built; a run on
    -- stored rollups builds it only when /{other} is studied (else it is empty).
    left join ranked
        on templated.dt = ranked.dt
        and templated.hour = ranked.hour
        and templated.host is not distinct from ranked.host
        and templated.path_template = ranked.path_template
    inner join scopes
        on coalesce(ranked.kept_template, templated.path_template) = scopes.path_template
    cross join params
    cross join suggestion_params
    where (params.window_start is null or templated.event_time >= params.window_start)
        and (params.window_end is null or templated.event_time < params.window_end)
        and hash(templated.cdn, templated.pop, templated.path, templated.minute_index // 5) % 10000
        < suggestion_params.evidence_sample_share * 10000

),

template_ttls as (

    select
        kept.path_template,
        median(kept.max_age_s) as template_ttl_s
    from kept
    group by kept.path_template

),

scoped as (

    select
        kept.*,
        coalesce(kept.max_age_s, template_ttls.template_ttl_s) as effective_ttl_s
    from kept
    inner join template_ttls
        on kept.path_template = template_ttls.path_template

)

select * from scoped
