-- Every distinct path seen, the input of path templating (a template depends on the
-- path alone, so shield duplicates may stay in).
with requests as (

    select * from stg_edge_requests

),

deduplicated as (

    select distinct requests.path
    from requests

)

select * from deduplicated
