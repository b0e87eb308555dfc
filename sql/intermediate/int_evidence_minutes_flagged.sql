-- Per template and minute: GET/HEAD requests, and whether the minute is a traffic
-- spike for that template: at least spike_factor times the rolling median of the
-- minutes around it (spike_window_min on each side) and at least three Poisson
-- standard deviations above it, so that a quiet template's noise is no spike.
with requests as (

    select * from int_evidence_requests_scoped

),

suggestion_params as (

    select * from suggestion_params

),

per_minute as (

    select
        requests.path_template,
        requests.minute_index,
        sum(requests.weight) as requests
    from requests
    where requests.is_cacheable_method
    group by
        requests.path_template,
        requests.minute_index

),

baselined as (

    select
        per_minute.*,
        median(per_minute.requests) over (
            partition by per_minute.path_template
            order by per_minute.minute_index
            range between suggestion_params.spike_window_min preceding
            and suggestion_params.spike_window_min following
        ) as baseline_requests,
        suggestion_params.spike_factor
    from per_minute
    cross join suggestion_params

),

flagged as (

    select
        baselined.path_template,
        baselined.minute_index,
        baselined.requests,
        baselined.baseline_requests,
        baselined.requests >= baselined.spike_factor * baselined.baseline_requests
        and baselined.requests - baselined.baseline_requests
        >= 3 * sqrt(baselined.baseline_requests) as is_spike
    from baselined

)

select * from flagged
