-- Request measures of the minute rollup: one row per partition, minute, CDN, POP,
-- host, path template (rare ones folded into the overflow template), method, status
-- class and canonical cache status. This is all offload analytics needs, so analyze
-- computes it straight from raw files when stored rollups are not up to date.
with aggregated as (

    select * from int_requests_aggregated_to_template

),

ranked as (

    select * from int_templates_ranked

),

bounded as (

    select
        aggregated.*,
        ranked.kept_template
    from aggregated
    inner join ranked
        on aggregated.dt = ranked.dt
        and aggregated.hour = ranked.hour
        and aggregated.host is not distinct from ranked.host
        and aggregated.path_template = ranked.path_template

),

rolled_up as (

    select
        strftime(cast(bounded.dt as date), '%Y-%m-%d') as dt,
        lpad(cast(cast(bounded.hour as integer) as varchar), 2, '0') as hour,
        to_timestamp(bounded.minute_index * 60) as minute,
        bounded.cdn,
        bounded.pop,
        bounded.host,
        bounded.kept_template as path_template,
        bounded.method,
        cast(bounded.status_digit as varchar) || 'xx' as status_class,
        bounded.cache_status,
        cast(sum(bounded.row_count) as bigint) as rows,
        cast(sum(bounded.requests_milli) as double) / 1000 as requests,
        cast(sum(bounded.bytes) as bigint) as bytes,
        cast(sum(bounded.cache_requests_milli) as double) / 1000 as cache_requests,
        cast(sum(bounded.cache_bytes) as bigint) as cache_bytes,
        cast(sum(bounded.origin_requests_milli) as double) / 1000 as origin_requests,
        cast(sum(bounded.origin_bytes) as bigint) as origin_bytes,
        cast(sum(bounded.revalidation_requests_milli) as double) / 1000 as revalidation_requests,
        cast(sum(bounded.incomplete_requests_milli) as double) / 1000 as incomplete_requests
    from bounded
    group by
        bounded.dt,
        bounded.hour,
        bounded.minute_index,
        bounded.cdn,
        bounded.pop,
        bounded.host,
        bounded.kept_template,
        bounded.method,
        bounded.status_digit,
        bounded.cache_status

)

select * from rolled_up
