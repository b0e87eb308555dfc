-- Canonical rows ingested per source (file or Kafka topic), CDN and source format,
-- with event times inside the run_params window (an open bound leaves that side open).
with requests as (

    select * from src_edge_requests

),

params as (

    select * from run_params

),

windowed as (

    select requests.*
    from requests
    cross join params
    where (params.window_start is null or requests.event_time >= params.window_start)
        and (params.window_end is null or requests.event_time < params.window_end)

),

counted as (

    select
        coalesce(windowed._source_file, windowed._source_topic) as source,
        windowed.cdn,
        windowed.source_format,
        count(*) as rows,
        count(*) filter (where windowed.is_viewer_request) as viewer_rows,
        min(windowed.event_time) as first_event_time,
        max(windowed.event_time) as newest_event_time
    from windowed
    group by all

)

select * from counted
