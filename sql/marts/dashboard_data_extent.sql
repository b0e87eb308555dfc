-- Oldest and newest event time per CDN in the registered raw files: how fresh the
-- feed is. The dashboard registers only the newest and oldest partitions.
with requests as (

    select * from src_edge_requests

),

extent as (

    select
        requests.cdn,
        count(*) as rows,
        min(requests.event_time) as first_event_time,
        max(requests.event_time) as newest_event_time
    from requests
    group by requests.cdn

)

select * from extent
