-- The rollup computed from raw files accounts for every viewer request of those
-- files, per partition: nothing lost, nothing counted twice.
with requests as (

    select * from stg_edge_requests

),

rollups as (

    select * from int_requests_rolled_up_to_minute

),

raw_totals as (

    select
        strftime(cast(requests.dt as date), '%Y-%m-%d') as dt,
        lpad(cast(cast(requests.hour as integer) as varchar), 2, '0') as hour,
        count(*) as rows,
        sum(requests.weight_milli) as requests_milli,
        sum(requests.weighted_bytes) as bytes
    from requests
    where requests.is_viewer_request
    group by all

),

rollup_totals as (

    select
        rollups.dt,
        rollups.hour,
        sum(rollups.rows) as rows,
        sum(rollups.bytes) as bytes
    from rollups
    group by all

),

mismatched as (

    select
        raw_totals.dt,
        raw_totals.hour,
        raw_totals.rows as raw_rows,
        rollup_totals.rows as rollup_rows,
        raw_totals.bytes as raw_bytes,
        rollup_totals.bytes as rollup_bytes
    from raw_totals
    full outer join rollup_totals
        on raw_totals.dt = rollup_totals.dt
        and raw_totals.hour = rollup_totals.hour
    where raw_totals.rows is distinct from rollup_totals.rows
        or raw_totals.bytes is distinct from rollup_totals.bytes

)

select * from mismatched
