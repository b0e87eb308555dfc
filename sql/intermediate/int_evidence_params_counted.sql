-- Query-string parameters of each scope (template over all CDNs, and per CDN): how
-- many GET/HEAD requests carry each one and how many distinct values it takes. A
-- parameter with about one value per request is a cache buster, timestamp or token.
-- The three parameters with the most distinct values are kept per scope.
with requests as (

    select * from int_evidence_requests_scoped

),

pairs as (

    select
        requests.path_template,
        requests.cdn,
        requests.weight,
        unnest(string_split(requests.query, '&')) as pair
    from requests
    where requests.is_cacheable_method
        and requests.query is not null
        and requests.query != ''

),

named as (

    select
        pairs.path_template,
        pairs.cdn,
        pairs.weight,
        left(split_part(pairs.pair, '=', 1), 100) as name,
        pairs.pair
    from pairs
    where split_part(pairs.pair, '=', 1) != ''

),

counted as (

    select
        named.path_template,
        case when grouping(named.cdn) = 1 then null else named.cdn end as cdn,
        named.name,
        sum(named.weight) as requests,
        count(*) as rows,
        count(distinct named.pair) as distinct_values
    from named
    group by grouping sets (
        (named.path_template, named.name),
        (named.path_template, named.cdn, named.name)
    )

),

listed as (

    select
        counted.path_template,
        counted.cdn,
        list(
            struct_pack(
                name := counted.name,
                requests := counted.requests,
                distinct_values := counted.distinct_values,
                values_per_request := round(counted.distinct_values / counted.rows, 4)
            )
            order by counted.distinct_values desc, counted.name
        )[1:3] as query_params
    from counted
    group by
        counted.path_template,
        counted.cdn

)

select * from listed
