-- Origin load per template at a target concurrency (capacity_params), now and after
-- the suggested changes. Per-viewer rates come from the busiest minutes of the
-- window by concurrent viewers (int_evidence_viewers_by_minute): a template's
-- requests in those minutes over the viewer-seconds in them. After the changes, a
-- template's cacheable origin requests and egress shrink by the share of its window
-- origin requests the suggestions would save; never-cacheable origin requests (POST
-- beacons) stay. The row with path_template null is the total.
with viewers as (

    select * from int_evidence_viewers_by_minute

),

classified as (

    select * from int_minute_rollups_classified

),

templates as (

    select * from path_template_offload

),

savings as (

    select * from int_evidence_savings_by_template

),

capacity_params as (

    select * from capacity_params

),

peak_minutes as (

    select
        viewers.minute,
        viewers.viewers
    from viewers
    cross join capacity_params
    where viewers.viewers > 0
    qualify row_number() over (
        order by viewers.viewers desc, viewers.requests desc, viewers.minute
    ) <= capacity_params.peak_minutes

),

peak as (

    select
        sum(peak_minutes.viewers) * 60 as viewer_seconds,
        avg(peak_minutes.viewers) as viewers,
        count(*) as minutes
    from peak_minutes

),

per_template as (

    select
        classified.path_template,
        sum(classified.requests) as requests,
        sum(classified.cacheable_requests) as cacheable_requests,
        sum(classified.cacheable_origin_requests) as cacheable_origin_requests,
        sum(classified.non_cacheable_origin_requests) as non_cacheable_origin_requests,
        sum(classified.cacheable_origin_bytes) as origin_bytes
    from classified
    inner join peak_minutes
        on classified.minute = peak_minutes.minute
    group by classified.path_template

),

factored as (

    select
        per_template.*,
        coalesce(
            -- least() skips nulls in DuckDB: a template without savings must keep 1.
            1 - least(coalesce(savings.origin_requests_saved, 0), templates.origin_requests)
            / nullif(templates.origin_requests, 0),
            1
        ) as remaining_origin_share
    from per_template
    left join templates
        on per_template.path_template = templates.path_template
    left join savings
        on per_template.path_template = savings.path_template

),

counted as (

    select
        case when grouping(factored.path_template) = 1 then null else factored.path_template end
            as path_template,
        sum(factored.requests) as requests,
        sum(factored.cacheable_requests) as cacheable_requests,
        sum(factored.cacheable_origin_requests) as cacheable_origin_requests,
        sum(factored.cacheable_origin_requests * factored.remaining_origin_share)
            as cacheable_origin_requests_after,
        sum(factored.non_cacheable_origin_requests) as non_cacheable_origin_requests,
        sum(factored.origin_bytes) as origin_bytes,
        sum(factored.origin_bytes * factored.remaining_origin_share) as origin_bytes_after
    from factored
    group by grouping sets ((factored.path_template), ())

),

projected as (

    select
        counted.path_template,
        peak.minutes as peak_minutes,
        peak.viewers as peak_viewers,
        counted.requests / nullif(peak.viewer_seconds, 0) as requests_per_viewer_s,
        capacity_params.peak_concurrency * counted.requests / nullif(peak.viewer_seconds, 0)
            as edge_requests_per_s,
        1 - counted.cacheable_origin_requests / nullif(counted.cacheable_requests, 0)
            as request_offload_now,
        1 - counted.cacheable_origin_requests_after / nullif(counted.cacheable_requests, 0)
            as request_offload_after,
        capacity_params.peak_concurrency
        * (counted.cacheable_origin_requests + counted.non_cacheable_origin_requests)
        / nullif(peak.viewer_seconds, 0) as origin_requests_per_s_now,
        capacity_params.peak_concurrency
        * (counted.cacheable_origin_requests_after + counted.non_cacheable_origin_requests)
        / nullif(peak.viewer_seconds, 0) as origin_requests_per_s_after,
        capacity_params.peak_concurrency * counted.origin_bytes / nullif(peak.viewer_seconds, 0)
            as origin_egress_bytes_per_s_now,
        capacity_params.peak_concurrency * counted.origin_bytes_after / nullif(peak.viewer_seconds, 0)
            as origin_egress_bytes_per_s_after
    from counted
    cross join peak
    cross join capacity_params

)

select * from projected
