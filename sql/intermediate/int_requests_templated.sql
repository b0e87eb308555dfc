-- Viewer requests (shield and sub-request duplicates left out, once, here) with
-- their path template.
with requests as (

    select * from stg_edge_requests

),

templates as (

    select * from stg_path_templates

),

templated as (

    select
        requests.*,
        templates.path_template
    from requests
    inner join templates
        on requests.path = templates.path
    where requests.is_viewer_request

)

select * from templated
