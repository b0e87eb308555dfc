-- Viewer requests with methods that are never cached (POST beacons and the like),
-- per method: excluded from the offload ratios, reported here.
with ratios as (

    select * from int_offload_ratios_computed

),

selected as (

    select
        ratios.method,
        ratios.requests,
        ratios.non_cacheable_origin_requests as origin_requests,
        ratios.bytes,
        ratios.requests_per_s
    from ratios
    where ratios.grain = 'method'
        and ratios.non_cacheable_requests > 0

)

select * from selected
