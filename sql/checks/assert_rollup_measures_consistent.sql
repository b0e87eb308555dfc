-- Parts never exceed their whole: cache and origin requests are requests,
-- revalidations are origin requests, cache and origin bytes are bytes; nothing is
-- negative.
with rollups as (

    select * from stg_minute_rollups

),

broken as (

    select rollups.*
    from rollups
    where rollups.rows <= 0
        or rollups.requests < 0
        or rollups.bytes < 0
        or rollups.cache_requests > rollups.requests
        or rollups.origin_requests > rollups.requests
        or rollups.revalidation_requests > rollups.origin_requests
        or rollups.incomplete_requests > rollups.requests
        or rollups.cache_bytes > rollups.bytes
        or rollups.origin_bytes > rollups.bytes

)

select * from broken
