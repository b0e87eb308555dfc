-- Viewer requests summed per partition, minute, CDN, POP, host, path template,
-- method, status class and cache status, before rare templates are folded.
-- Cache, origin and revalidation measures follow the canonical flags.
with templated as (

    select * from int_requests_templated

),

aggregated as (

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
        count(*) as row_count,
        sum(templated.weight_milli) as requests_milli,
        sum(templated.weighted_bytes) as bytes,
        coalesce(sum(templated.weight_milli) filter (
            where templated.served_from_cache = 'yes'
        ), 0) as cache_requests_milli,
        coalesce(sum(templated.weighted_bytes) filter (
            where templated.served_from_cache = 'yes'
        ), 0) as cache_bytes,
        coalesce(sum(templated.weight_milli) filter (
            where templated.origin_request in ('full', 'conditional', 'failed')
        ), 0) as origin_requests_milli,
        coalesce(sum(templated.weighted_bytes) filter (
            where templated.origin_request = 'full'
        ), 0) as origin_bytes,
        coalesce(sum(templated.weight_milli) filter (
            where templated.origin_request = 'conditional'
        ), 0) as revalidation_requests_milli,
        coalesce(sum(templated.weight_milli) filter (
            where templated.incomplete
        ), 0) as incomplete_requests_milli
    from templated
    group by
        templated.dt,
        templated.hour,
        templated.minute_index,
        templated.cdn,
        templated.pop,
        templated.host,
        templated.path_template,
        templated.method,
        templated.status_digit,
        templated.cache_status

)

select * from aggregated
