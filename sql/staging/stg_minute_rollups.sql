-- Minute rollups, stored (Parquet under rollups/offload_minute) or computed from raw
-- files for this run, with the partition keys as text whatever type they were read as.
with source as (

    select * from src_minute_rollups

),

renamed as (

    select
        strftime(cast(source.dt as date), '%Y-%m-%d') as dt,
        lpad(cast(cast(source.hour as integer) as varchar), 2, '0') as hour,
        source.minute,
        source.cdn,
        source.pop,
        source.host,
        source.path_template,
        source.method,
        source.status_class,
        source.cache_status,
        source.rows,
        source.requests,
        source.bytes,
        source.cache_requests,
        source.cache_bytes,
        source.origin_requests,
        source.origin_bytes,
        source.revalidation_requests,
        source.incomplete_requests
    from source

)

select * from renamed
