-- Cache-policy suggestions for each scope in suggestion_scopes (a template over all
-- CDNs when cdn is null, else a template x CDN), ranked by the origin requests they
-- would save in the window. Rules (docs/suggestions.md) judge the template_evidence
-- row of a template and of each CDN's slice. A template scope gets the template-wide
-- codes plus the codes of its outlier CDNs (a specific cause on that CDN, else
-- CDN_OUTLIER); a template-wide code that an outlier CDN also shows is left to that
-- CDN. Every rule but the method rule needs the scope under the threshold.
with evidence as (

    select * from template_evidence

),

scopes as (

    select
        suggestion_scopes.path_template,
        suggestion_scopes.cdn,
        max(suggestion_scopes.cacheable_requests) as cacheable_requests,
        max(suggestion_scopes.origin_requests) as origin_requests
    from suggestion_scopes
    group by
        suggestion_scopes.path_template,
        suggestion_scopes.cdn

),

params as (

    select * from run_params

),

suggestion_params as (

    select * from suggestion_params

),

judged as (

    select
        evidence.*,
        suggestion_params.*,
        coalesce(
            evidence.cacheable_requests >= suggestion_params.min_requests
            and evidence.request_offload < params.threshold,
            false
        ) as has_gap,
        coalesce(
            evidence.repeat_objects >= suggestion_params.personal_min_repeat_objects
            and evidence.single_client_repeat_share >= suggestion_params.personal_min_single_client_share,
            false
        ) as is_personal,
        coalesce(
            evidence.multi_client_request_share >= suggestion_params.shared_min_multi_client_share,
            false
        ) as is_shared,
        suggestion_params.min_addressable_share * evidence.cacheable_requests as addressable_floor
    from evidence
    cross join params
    cross join suggestion_params

),

fired as (

    select judged.path_template, judged.cdn, 'QUERY_STRING_IN_CACHE_KEY' as code, 1 as code_order,
        greatest(judged.cause_fragmentation - judged.fragmentation_fetches, 0) as saved
    from judged
    where judged.has_gap
        and judged.query_request_share >= judged.query_min_request_share
        and judged.cause_fragmentation >= judged.addressable_floor
        and judged.cause_fragmentation >= judged.min_explained_share * judged.origin_requests

    union all

    select judged.path_template, judged.cdn, 'TTL_TOO_SHORT', 2,
        greatest(judged.cause_expiry - judged.expiry_refreshes, 0)
    from judged
    where judged.has_gap
        and judged.cause_expiry >= judged.addressable_floor
        and judged.cause_expiry >= judged.min_explained_share * judged.origin_requests

    union all

    select judged.path_template, judged.cdn, 'NOT_CACHEABLE', 3,
        greatest(judged.cause_bypass - judged.bypass_fetches, 0)
    from judged
    where judged.has_gap
        and not judged.is_personal
        and judged.is_shared
        and judged.cacheable_requests / nullif(judged.distinct_keys, 0)
        >= judged.not_cacheable_min_requests_per_key
        and judged.cause_bypass >= judged.addressable_floor
        and judged.cause_bypass >= judged.min_explained_share * judged.origin_requests

    union all

    select judged.path_template, judged.cdn, 'ERRORS_NOT_CACHED', 4,
        greatest(judged.cause_error - judged.error_fetches, 0)
    from judged
    where judged.has_gap
        and judged.cause_error >= judged.addressable_floor
        and judged.cause_error >= judged.errors_min_share * judged.origin_requests

    union all

    select judged.path_template, judged.cdn, 'LONG_TAIL', 5,
        greatest(judged.cause_cold - judged.cold_shield_fetches, 0)
    from judged
    where judged.has_gap
        and not judged.is_personal
        and judged.distinct_paths >= judged.long_tail_min_objects
        and judged.cause_cold >= judged.addressable_floor
        and judged.cause_cold >= judged.min_explained_share * judged.origin_requests

    union all

    select judged.path_template, judged.cdn, 'REQUEST_COLLAPSING', 6,
        greatest(judged.spike_full_misses - judged.spike_miss_fetches, 0)
    from judged
    where judged.has_gap
        and judged.spike_requests >= judged.min_requests
        and judged.normal_requests >= judged.min_requests
        and judged.normal_request_offload - judged.spike_request_offload >= judged.collapsing_min_gap
        and judged.normal_request_offload - judged.spike_request_offload > judged.significance_z * sqrt(
            judged.spike_request_offload * (1 - judged.spike_request_offload) / judged.spike_rows
            + judged.normal_request_offload * (1 - judged.normal_request_offload) / judged.normal_rows
        )
        and judged.spike_full_misses - judged.spike_miss_fetches
        >= judged.min_addressable_share * judged.spike_requests

    union all

    select judged.path_template, judged.cdn, 'UNCACHEABLE_BY_DESIGN', 7, 0
    from judged
    where (judged.has_gap and judged.is_personal)
        or (
            -- Never-cacheable methods are a property of the template, not of a CDN.
            judged.cdn is null
            and judged.non_cacheable_requests >= judged.min_requests
            and judged.non_cacheable_requests >= judged.cacheable_requests
        )

    union all

    select judged.path_template, judged.cdn, 'CDN_OUTLIER', 8,
        greatest(
            judged.origin_requests - judged.cacheable_requests * (1 - judged.peer_request_offload), 0
        )
    from judged
    where judged.is_outlier

),

own as (

    select * from fired where fired.code != 'CDN_OUTLIER'

),

cdn_codes as (

    select * from own where own.cdn is not null

    union all

    -- CDN_OUTLIER only when no specific cause explains the CDN's slice.
    select fired.*
    from fired
    where fired.code = 'CDN_OUTLIER'
        and not exists (
            select 1
            from own
            where own.path_template = fired.path_template
                and own.cdn = fired.cdn
        )

),

outlier_codes as (

    select cdn_codes.*
    from cdn_codes
    inner join evidence
        on cdn_codes.path_template = evidence.path_template
        and cdn_codes.cdn = evidence.cdn
    where evidence.is_outlier

),

attached as (

    select
        scopes.path_template as scope_template,
        scopes.cdn as scope_cdn,
        scopes.cacheable_requests as scope_cacheable_requests,
        scopes.origin_requests as scope_origin_requests,
        cdn_codes.*
    from scopes
    inner join cdn_codes
        on scopes.path_template = cdn_codes.path_template
        and scopes.cdn = cdn_codes.cdn

    union all

    select scopes.path_template, scopes.cdn, scopes.cacheable_requests, scopes.origin_requests, own.*
    from scopes
    inner join own
        on scopes.path_template = own.path_template
    where scopes.cdn is null
        and own.cdn is null
        and not exists (
            select 1
            from outlier_codes
            where outlier_codes.path_template = own.path_template
                and outlier_codes.code = own.code
        )

    union all

    select scopes.path_template, scopes.cdn, scopes.cacheable_requests, scopes.origin_requests, outlier_codes.*
    from scopes
    inner join outlier_codes
        on scopes.path_template = outlier_codes.path_template
    where scopes.cdn is null

),

totals as (

    -- The scope's exact totals when the caller knows them (flags), else the evidence's.
    select
        attached.*,
        coalesce(attached.scope_cacheable_requests, scope_evidence.cacheable_requests) as total_cacheable,
        coalesce(attached.scope_origin_requests, scope_evidence.origin_requests) as total_origin
    from attached
    inner join evidence as scope_evidence
        on attached.scope_template = scope_evidence.path_template
        and attached.scope_cdn is not distinct from scope_evidence.cdn

),

estimated as (

    select
        totals.scope_template,
        totals.scope_cdn,
        totals.code,
        totals.cdn,
        totals.code_order,
        totals.total_cacheable as scope_cacheable_requests,
        totals.total_origin as scope_origin_requests,
        1 - totals.total_origin / nullif(totals.total_cacheable, 0) as scope_request_offload,
        least(totals.saved, totals.total_origin) as estimated_origin_requests_saved,
        1 - (totals.total_origin - least(totals.saved, totals.total_origin))
        / nullif(totals.total_cacheable, 0) as estimated_request_offload_after,
        row_number() over (
            partition by totals.scope_template, totals.scope_cdn
            order by least(totals.saved, totals.total_origin) desc, totals.code_order, totals.cdn nulls first
        ) as suggestion_rank
    from totals

),

described as (

    select
        estimated.*,
        evidence.* exclude (path_template, cdn),
        suggestion_params.* exclude (template_rules_json)
    from estimated
    inner join evidence
        on estimated.scope_template = evidence.path_template
        and estimated.cdn is not distinct from evidence.cdn
    cross join suggestion_params

)

select * from described
