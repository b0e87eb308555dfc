-- Static API snapshot candidates: busy GET APIs whose responses are shared across
-- viewers (not per-user), ranked by the origin load a snapshot served from the CDN
-- would remove (all their origin requests in the window). snapshot_bytes is the size
-- of one copy of every object (path) at the median object size.
with evidence as (

    select * from template_evidence where cdn is null

),

described as (

    select * from int_evidence_templates_described

),

analysis_window as (

    select * from int_analysis_window_resolved

),

summary as (

    select * from offload_summary

),

suggestion_params as (

    select * from suggestion_params

),

candidates as (

    select
        evidence.path_template,
        evidence.cacheable_requests as requests,
        evidence.request_offload,
        evidence.origin_requests,
        evidence.origin_requests / nullif(analysis_window.window_seconds, 0) as origin_requests_per_s,
        evidence.origin_requests / nullif(summary.origin_requests, 0) as origin_load_share,
        evidence.origin_bytes,
        evidence.origin_bytes / nullif(analysis_window.window_seconds, 0) as origin_bytes_per_s,
        evidence.distinct_paths,
        evidence.distinct_keys,
        evidence.query_request_share,
        evidence.clients_per_object,
        evidence.multi_client_request_share,
        evidence.content_type,
        evidence.max_age_median_s,
        evidence.object_bytes_median,
        evidence.distinct_paths * evidence.object_bytes_median as snapshot_bytes
    from evidence
    inner join described
        on evidence.path_template = described.path_template
    cross join analysis_window
    cross join summary
    cross join suggestion_params
    where described.is_api
        and evidence.cacheable_requests >= suggestion_params.snapshot_min_requests
        and evidence.origin_requests > 0
        and evidence.multi_client_request_share >= suggestion_params.shared_min_multi_client_share
        and not coalesce(
            evidence.repeat_objects >= suggestion_params.personal_min_repeat_objects
            and evidence.single_client_repeat_share >= suggestion_params.personal_min_single_client_share,
            false
        )

),

ranked as (

    select
        candidates.*,
        row_number() over (
            order by candidates.origin_requests desc, candidates.origin_bytes desc, candidates.path_template
        ) as snapshot_rank
    from candidates

)

select * from ranked
