-- Every flag is under the threshold, has the minimum traffic, carries a valid
-- severity, and appears once per template and scope.
with flags as (

    select * from offload_flags

),

params as (

    select * from run_params

),

counted as (

    select
        flags.*,
        count(*) over (partition by flags.path_template, flags.cdn) as copies
    from flags

),

broken as (

    select counted.*
    from counted
    cross join params
    where counted.request_offload >= params.threshold
        or counted.cacheable_requests < params.min_requests
        or counted.severity not in ('P1', 'P2', 'P3')
        or counted.origin_load_share not between 0 and 1 + 1e-9
        or counted.copies > 1

)

select * from broken
