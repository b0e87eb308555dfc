-- Origin requests the suggestions would save per template over the window: the
-- template's own suggestions (all CDNs) when it is flagged as a whole, else the sum
-- of its template x CDN flags'. Savings of one scope are added up and capped at its
-- origin requests (two fixes cannot save the same request twice).
with suggestions as (

    select * from policy_suggestions

),

per_scope as (

    select
        suggestions.scope_template,
        suggestions.scope_cdn,
        least(
            sum(suggestions.estimated_origin_requests_saved),
            max(suggestions.scope_origin_requests)
        ) as saved
    from suggestions
    group by
        suggestions.scope_template,
        suggestions.scope_cdn

),

per_template as (

    select
        per_scope.scope_template as path_template,
        coalesce(
            sum(per_scope.saved) filter (where per_scope.scope_cdn is null),
            sum(per_scope.saved)
        ) as origin_requests_saved,
        list(distinct per_scope.scope_cdn) filter (where per_scope.scope_cdn is not null) as cdns
    from per_scope
    group by per_scope.scope_template

)

select * from per_template
