-- Minute rollups narrowed to the dashboard's filters: CDNs, POPs, hosts, a template
-- search (case-insensitive substring) and one exact template. An empty list or a
-- null text means no filter on that column. The dashboard materialises this and
-- re-reads it as `src_minute_rollups`, so every offload model downstream (window
-- totals, flags, minute series) is computed exactly as for the whole data.
with rollups as (

    select * from src_minute_rollups

),

filters as (

    select * from dashboard_params

),

filtered as (

    select rollups.*
    from rollups
    cross join filters
    where (len(filters.cdns) = 0 or list_contains(filters.cdns, rollups.cdn))
        and (len(filters.pops) = 0 or list_contains(filters.pops, rollups.pop))
        and (len(filters.hosts) = 0 or list_contains(filters.hosts, rollups.host))
        and (
            filters.template_search is null
            or contains(lower(rollups.path_template), lower(filters.template_search))
        )
        and (filters.path_template is null or rollups.path_template = filters.path_template)

)

select * from filtered
