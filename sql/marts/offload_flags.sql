-- Path templates under the offload threshold with enough traffic to matter, ranked
-- by origin load, with severity from their share of the window's origin load.
-- Two scopes: a template over all CDNs (cdn is null), and a template x CDN when
-- that one CDN is under the threshold while every other CDN with enough traffic
-- for the template is healthy.
with templates as (

    select * from path_template_offload

),

template_cdns as (

    select * from path_template_cdn_offload

),

summary as (

    select * from offload_summary

),

params as (

    select * from run_params

),

template_flags as (

    select
        'template' as scope,
        templates.path_template,
        cast(null as varchar) as cdn,
        templates.requests,
        templates.cacheable_requests,
        templates.request_offload,
        templates.byte_offload,
        templates.origin_requests,
        templates.origin_bytes,
        templates.origin_requests_per_s
    from templates
    cross join params
    where templates.cacheable_requests >= params.min_requests
        and templates.request_offload < params.threshold

),

eligible_cdns as (

    select
        template_cdns.*,
        count(*) over (partition by template_cdns.path_template) as eligible_cdns,
        count(*) filter (where template_cdns.request_offload < params.threshold) over (
            partition by template_cdns.path_template
        ) as unhealthy_cdns
    from template_cdns
    cross join params
    where template_cdns.cacheable_requests >= params.min_requests

),

outlier_flags as (

    select
        'template_cdn' as scope,
        eligible_cdns.path_template,
        eligible_cdns.cdn,
        eligible_cdns.requests,
        eligible_cdns.cacheable_requests,
        eligible_cdns.request_offload,
        eligible_cdns.byte_offload,
        eligible_cdns.origin_requests,
        eligible_cdns.origin_bytes,
        eligible_cdns.origin_requests_per_s
    from eligible_cdns
    cross join params
    where eligible_cdns.request_offload < params.threshold
        and eligible_cdns.eligible_cdns >= 2
        and eligible_cdns.unhealthy_cdns = 1

),

flags as (

    select * from template_flags
    union all
    select * from outlier_flags

),

shared as (

    select
        flags.*,
        greatest(
            coalesce(flags.origin_requests / nullif(summary.origin_requests, 0), 0),
            coalesce(flags.origin_bytes / nullif(summary.origin_bytes, 0), 0)
        ) as origin_load_share
    from flags
    cross join summary

),

ranked as (

    select
        shared.*,
        case
            when shared.origin_load_share >= params.p1_min_origin_share then 'P1'
            when shared.origin_load_share >= params.p2_min_origin_share then 'P2'
            else 'P3'
        end as severity,
        row_number() over (
            order by
                shared.origin_load_share desc,
                shared.origin_requests desc,
                shared.path_template asc,
                shared.cdn asc nulls first
        ) as flag_rank
    from shared
    cross join params

)

select * from ranked
