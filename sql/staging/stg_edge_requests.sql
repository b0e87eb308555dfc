-- One row per logged edge request, as ingest stored it (canonical schema), plus the
-- weighted measures as exact integers: requests in thousandths, bytes and
-- microseconds rounded per row. Integer sums do not depend on summation order, so
-- every engine gets identical rollups. dt/hour are the partition keys as read
-- (a date and an integer); they become text only in the rollup.
with source as (

    select * from src_edge_requests

),

renamed as (

    select
        source.dt,
        source.hour,
        source.event_time,
        epoch_ms(source.event_time) // 60000 as minute_index,
        source.cdn,
        source.pop,
        source.host,
        source.method,
        source.path,
        source.query,
        source.status,
        cast(source.status // 100 as integer) as status_digit,
        source.cache_status,
        source.cache_status_detail,
        source.served_from_cache,
        source.origin_request,
        source.is_viewer_request,
        source.incomplete,
        source.bytes_sent,
        source.body_bytes,
        source.time_taken_ms,
        source.ttfb_ms,
        source.content_type,
        source.max_age_s,
        source.client_key,
        source.sample_weight,
        cast(floor(source.sample_weight * 1000 + 0.5) as bigint) as weight_milli,
        cast(
            floor(coalesce(source.bytes_sent, source.body_bytes, 0) * source.sample_weight + 0.5) as bigint
        ) as weighted_bytes,
        cast(floor(source.time_taken_ms * 1000 + 0.5) as bigint) as time_taken_us,
        cast(floor(source.ttfb_ms * 1000 + 0.5) as bigint) as ttfb_us
    from source

)

select * from renamed
