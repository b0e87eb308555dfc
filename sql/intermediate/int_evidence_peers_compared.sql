-- Each CDN's slice of a template against the other CDNs together (its peers): the
-- peers' request offload, the gap, and whether the slice is an outlier: under the
-- threshold while its peers are at or above it, by at least outlier_min_gap and by
-- more than significance_z standard errors of the difference of two proportions,
-- both sides with at least min_requests GET/HEAD requests.
with summed as (

    select * from int_evidence_requests_summed

),

params as (

    select * from run_params

),

suggestion_params as (

    select * from suggestion_params

),

totals as (

    select * from summed where summed.cdn is null

),

slices as (

    select
        summed.path_template,
        summed.cdn,
        summed.cacheable_requests,
        summed.cacheable_rows,
        summed.origin_requests,
        1 - summed.origin_requests / nullif(summed.cacheable_requests, 0) as request_offload,
        totals.cacheable_requests - summed.cacheable_requests as peer_cacheable_requests,
        totals.cacheable_rows - summed.cacheable_rows as peer_cacheable_rows,
        totals.origin_requests - summed.origin_requests as peer_origin_requests,
        count(*) over (partition by summed.path_template) - 1 as peer_cdns
    from summed
    inner join totals
        on summed.path_template = totals.path_template
    where summed.cdn is not null

),

compared as (

    select
        slices.*,
        1 - slices.peer_origin_requests / nullif(slices.peer_cacheable_requests, 0) as peer_request_offload
    from slices

),

tested as (

    select
        compared.*,
        compared.peer_request_offload - compared.request_offload as offload_gap,
        -- Logged rows, not weighted requests: sampling does not add information.
        sqrt(
            compared.request_offload * (1 - compared.request_offload) / nullif(compared.cacheable_rows, 0)
            + compared.peer_request_offload * (1 - compared.peer_request_offload)
            / nullif(compared.peer_cacheable_rows, 0)
        ) as gap_standard_error
    from compared

),

flagged as (

    select
        tested.*,
        coalesce(
            tested.cacheable_requests >= suggestion_params.min_requests
            and tested.peer_cacheable_requests >= suggestion_params.min_requests
            and tested.request_offload < params.threshold
            and tested.peer_request_offload >= params.threshold
            and tested.offload_gap >= suggestion_params.outlier_min_gap
            and tested.offload_gap > suggestion_params.significance_z * tested.gap_standard_error,
            false
        ) as is_outlier
    from tested
    cross join params
    cross join suggestion_params

)

select * from flagged
