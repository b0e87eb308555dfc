-- Viewer requests by HTTP status class per CDN (path_template null) and per CDN x
-- template over the analysis window, from the minute rollups: the error rates of
-- the CDN comparison. Every method counts; aborted requests (0xx) count apart.
with classified as (

    select * from int_minute_rollups_classified

),

summed as (

    select
        classified.cdn,
        case when grouping(classified.path_template) = 1 then null else classified.path_template end
            as path_template,
        sum(classified.requests) as requests,
        coalesce(sum(classified.requests) filter (where classified.status_class = '5xx'), 0) as server_error_requests,
        coalesce(sum(classified.requests) filter (where classified.status_class = '4xx'), 0) as client_error_requests,
        coalesce(sum(classified.requests) filter (where classified.status_class = '0xx'), 0) as aborted_requests
    from classified
    group by grouping sets (
        (classified.cdn),
        (classified.cdn, classified.path_template)
    )

)

select * from summed
