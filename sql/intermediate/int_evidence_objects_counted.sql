-- Objects (paths; the query string is not part of the object here, so a session id
-- in the query does not make a shared playlist look personal) of each scope, with
-- how many requests and distinct clients each has, summed per scope: the shared vs
-- personal evidence. Scopes: a template over all CDNs (cdn null) and per CDN.
with requests as (

    select * from int_evidence_requests_scoped

),

per_object as (

    select
        requests.path_template,
        case when grouping(requests.cdn) = 1 then null else requests.cdn end as cdn,
        requests.path,
        sum(requests.weight) as requests,
        count(requests.client_key) as rows_with_client,
        count(distinct requests.client_key) as clients
    from requests
    where requests.is_cacheable_method
    group by grouping sets (
        (requests.path_template, requests.path),
        (requests.path_template, requests.cdn, requests.path)
    )

),

per_scope as (

    select
        per_object.path_template,
        per_object.cdn,
        count(*) as objects,
        sum(per_object.requests) / count(*) as requests_per_object,
        sum(per_object.clients) / nullif(count(*) filter (where per_object.clients > 0), 0)
            as clients_per_object,
        count(*) filter (where per_object.rows_with_client >= 2) as repeat_objects,
        count(*) filter (where per_object.rows_with_client >= 2 and per_object.clients = 1)
            as single_client_repeat_objects,
        sum(per_object.requests) filter (where per_object.clients >= 2)
            / nullif(sum(per_object.requests) filter (where per_object.clients >= 1), 0)
            as multi_client_request_share
    from per_object
    group by
        per_object.path_template,
        per_object.cdn

),

shared as (

    select
        per_scope.*,
        per_scope.single_client_repeat_objects / nullif(per_scope.repeat_objects, 0)
            as single_client_repeat_share
    from per_scope

)

select * from shared
