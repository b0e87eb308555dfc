-- Per minute and CDN: traffic, that CDN's share of the minute's requests, and offload.
with minutes as (

    select * from minute_offload

),

per_cdn as (

    select
        minutes.minute,
        minutes.cdn,
        minutes.requests,
        minutes.requests_per_s,
        minutes.requests / nullif(sum(minutes.requests) over (partition by minutes.minute), 0)
            as traffic_share,
        minutes.request_offload,
        minutes.byte_offload,
        minutes.origin_requests_per_s
    from minutes
    where minutes.cdn is not null

)

select * from per_cdn
