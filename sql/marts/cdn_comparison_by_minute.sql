-- Each CDN's share of all viewer requests, minute by minute over the analysis window.
with classified as (

    select * from int_minute_rollups_classified

),

per_cdn as (

    select
        classified.minute,
        classified.cdn,
        sum(classified.requests) as requests
    from classified
    group by
        classified.minute,
        classified.cdn

),

shared as (

    select
        per_cdn.minute,
        per_cdn.cdn,
        per_cdn.requests,
        per_cdn.requests / nullif(sum(per_cdn.requests) over (partition by per_cdn.minute), 0) as share
    from per_cdn

)

select * from shared
