-- Distinct objects (paths), distinct (path, query) pairs and latency sums at the
-- grain of int_requests_aggregated_to_template. Stored rollups carry them; analyze
-- does not need them, so this costlier step runs only when rollups are built.
with templated as (

    select * from int_requests_templated

),

per_query as (

    select
        templated.dt,
        templated.hour,
        templated.minute_index,
        templated.cdn,
        templated.pop,
        templated.host,
        templated.path_template,
        templated.method,
        templated.status_digit,
        templated.cache_status,
        templated.path,
        templated.query,
        coalesce(sum(templated.time_taken_us), 0) as time_taken_us_sum,
        count(templated.time_taken_us) as time_taken_rows,
        coalesce(sum(templated.ttfb_us), 0) as ttfb_us_sum,
        count(templated.ttfb_us) as ttfb_rows
    from templated
    group by all

),

per_path as (

    select
        per_query.dt,
        per_query.hour,
        per_query.minute_index,
        per_query.cdn,
        per_query.pop,
        per_query.host,
        per_query.path_template,
        per_query.method,
        per_query.status_digit,
        per_query.cache_status,
        per_query.path,
        count(per_query.query) as distinct_queries,
        sum(per_query.time_taken_us_sum) as time_taken_us_sum,
        sum(per_query.time_taken_rows) as time_taken_rows,
        sum(per_query.ttfb_us_sum) as ttfb_us_sum,
        sum(per_query.ttfb_rows) as ttfb_rows
    from per_query
    group by all

),

per_template as (

    select
        per_path.dt,
        per_path.hour,
        per_path.minute_index,
        per_path.cdn,
        per_path.pop,
        per_path.host,
        per_path.path_template,
        per_path.method,
        per_path.status_digit,
        per_path.cache_status,
        count(*) as distinct_objects,
        sum(per_path.distinct_queries) as distinct_queries,
        sum(per_path.time_taken_us_sum) as time_taken_us_sum,
        sum(per_path.time_taken_rows) as time_taken_rows,
        sum(per_path.ttfb_us_sum) as ttfb_us_sum,
        sum(per_path.ttfb_rows) as ttfb_rows
    from per_path
    group by all

)

select * from per_template
