-- Templates x CDN over the analysis window: each CDN's share of the template's
-- traffic, its offload against the best CDN for that template, origin load, error
-- rate and latency. template_rank orders templates by requests (1 = busiest).
with template_cdns as (

    select * from path_template_cdn_offload

),

templates as (

    select * from path_template_offload

),

statuses as (

    select * from int_evidence_status_classes_summed where path_template is not null

),

latency as (

    select * from int_evidence_latency_summarised where path_template is not null

),

ranked as (

    select
        templates.path_template,
        templates.requests as template_requests,
        row_number() over (order by templates.requests desc, templates.path_template) as template_rank
    from templates

),

compared as (

    select
        ranked.template_rank,
        template_cdns.path_template,
        template_cdns.cdn,
        template_cdns.requests,
        template_cdns.cacheable_requests,
        template_cdns.requests / nullif(ranked.template_requests, 0) as traffic_share,
        template_cdns.request_offload,
        max(template_cdns.request_offload) over (partition by template_cdns.path_template)
        - template_cdns.request_offload as offload_gap_to_best,
        template_cdns.origin_requests,
        template_cdns.origin_requests_per_s,
        template_cdns.origin_bytes,
        statuses.server_error_requests / nullif(statuses.requests, 0) as error_rate,
        latency.latency_p50_ms,
        latency.latency_p95_ms
    from template_cdns
    inner join ranked
        on template_cdns.path_template = ranked.path_template
    left join statuses
        on template_cdns.path_template = statuses.path_template
        and template_cdns.cdn = statuses.cdn
    left join latency
        on template_cdns.path_template = latency.path_template
        and template_cdns.cdn = latency.cdn

)

select * from compared
