-- Suggestions that break their contract: an unknown code, a negative saving or one
-- larger than the scope's origin requests, an offload after the change outside
-- [offload now, 1], or two suggestions with the same rank in one scope. An empty
-- result means the check passed.
with suggestions as (

    select * from policy_suggestions

),

evidence as (

    select * from template_evidence

),

scoped as (

    select
        suggestions.scope_template,
        suggestions.scope_cdn,
        suggestions.code,
        suggestions.cdn,
        suggestions.suggestion_rank,
        suggestions.estimated_origin_requests_saved,
        suggestions.estimated_request_offload_after,
        suggestions.scope_origin_requests,
        suggestions.scope_request_offload,
        count(*) over (
            partition by suggestions.scope_template, suggestions.scope_cdn, suggestions.suggestion_rank
        ) as same_rank
    from suggestions
    inner join evidence
        on suggestions.scope_template = evidence.path_template
        and suggestions.scope_cdn is not distinct from evidence.cdn

),

broken as (

    select *
    from scoped
    where scoped.code not in (
            'QUERY_STRING_IN_CACHE_KEY', 'TTL_TOO_SHORT', 'NOT_CACHEABLE', 'ERRORS_NOT_CACHED',
            'LONG_TAIL', 'REQUEST_COLLAPSING', 'UNCACHEABLE_BY_DESIGN', 'CDN_OUTLIER'
        )
        or scoped.estimated_origin_requests_saved < 0
        or scoped.estimated_origin_requests_saved > scoped.scope_origin_requests + 1e-9
        or scoped.estimated_request_offload_after < scoped.scope_request_offload - 1e-9
        or scoped.estimated_request_offload_after > 1 + 1e-9
        or scoped.same_rank > 1

)

select * from broken
