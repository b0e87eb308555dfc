-- One rollup row per partition, minute, CDN, POP, host, template, method, status
-- class and cache status.
with rollups as (

    select * from stg_minute_rollups

),

duplicated as (

    select
        rollups.dt,
        rollups.hour,
        rollups.minute,
        rollups.cdn,
        rollups.pop,
        rollups.host,
        rollups.path_template,
        rollups.method,
        rollups.status_class,
        rollups.cache_status,
        count(*) as copies
    from rollups
    group by all
    having count(*) > 1

)

select * from duplicated
