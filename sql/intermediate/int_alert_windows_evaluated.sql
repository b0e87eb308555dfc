-- Each template (all CDNs) and template x CDN of every alert window with its
-- offload, its share of the window's origin load, whether it breaches and whether
-- it is healthy. A series is eligible with at least min_requests GET/HEAD requests
-- in the window. A template breaches when eligible and under the threshold. A
-- template x CDN breaches when eligible and under the threshold while another
-- eligible CDN is healthy for the same template: a problem every CDN shares is the
-- template's. Healthy means at or over the threshold, or no GET/HEAD traffic at
-- all: a firing alert needs healthy windows to resolve, and a dip in traffic under
-- min_requests alone does not resolve it (no flapping with the audience).
with summed as (

    select * from int_alert_windows_summed

),

params as (

    select * from alert_params

),

totals as (

    select
        summed.window_end,
        summed.origin_requests as total_origin_requests,
        summed.origin_bytes as total_origin_bytes
    from summed
    where summed.grain = 'minute'

),

series as (

    select
        summed.*,
        1 - summed.origin_requests / nullif(summed.cacheable_requests, 0) as request_offload,
        summed.offloaded_bytes / nullif(summed.cacheable_bytes, 0) as byte_offload,
        summed.origin_requests / summed.window_seconds as origin_requests_per_s,
        summed.cacheable_requests >= params.min_requests as eligible
    from summed
    cross join params
    where summed.grain in ('minute_template', 'minute_template_cdn')

),

judged as (

    select
        series.*,
        series.eligible and series.request_offload < params.threshold as under_threshold,
        params.threshold,
        count(*) filter (
            where series.grain = 'minute_template_cdn'
                and series.eligible
                and series.request_offload >= params.threshold
        ) over (partition by series.window_end, series.path_template) as healthy_cdns
    from series
    cross join params

),

evaluated as (

    select
        judged.window_start,
        judged.window_end,
        judged.path_template,
        judged.cdn,
        case when judged.grain = 'minute_template' then 'template' else 'template_cdn' end as scope,
        judged.requests,
        judged.cacheable_requests,
        judged.request_offload,
        judged.byte_offload,
        judged.origin_requests,
        judged.origin_bytes,
        judged.origin_requests_per_s,
        judged.threshold,
        judged.eligible,
        coalesce(judged.request_offload >= judged.threshold, true) as healthy,
        case
            when judged.grain = 'minute_template' then judged.under_threshold
            else judged.under_threshold and judged.healthy_cdns >= 1
        end as breaching,
        greatest(
            coalesce(judged.origin_requests / nullif(totals.total_origin_requests, 0), 0),
            coalesce(judged.origin_bytes / nullif(totals.total_origin_bytes, 0), 0)
        ) as origin_load_share
    from judged
    inner join totals
        on judged.window_end = totals.window_end

)

select * from evaluated
