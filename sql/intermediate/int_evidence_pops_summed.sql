-- Request offload per POP of each scope: the ten busiest POPs (with their CDN) of
-- the template over all CDNs, and of each CDN's slice.
with requests as (

    select * from int_evidence_requests_scoped

),

per_pop as (

    select
        requests.path_template,
        requests.cdn,
        requests.pop,
        sum(requests.weight) as requests,
        coalesce(sum(requests.weight) filter (where requests.is_origin), 0) as origin_requests
    from requests
    where requests.is_cacheable_method
    group by
        requests.path_template,
        requests.cdn,
        requests.pop

),

listed as (

    select
        per_pop.path_template,
        case when grouping(per_pop.cdn) = 1 then null else per_pop.cdn end as cdn,
        list(
            struct_pack(
                cdn := per_pop.cdn,
                pop := per_pop.pop,
                requests := per_pop.requests,
                request_offload := 1 - per_pop.origin_requests / per_pop.requests
            )
            order by per_pop.requests desc, per_pop.cdn, per_pop.pop
        )[1:10] as top_pops
    from per_pop
    group by grouping sets (
        (per_pop.path_template),
        (per_pop.path_template, per_pop.cdn)
    )

)

select * from listed
