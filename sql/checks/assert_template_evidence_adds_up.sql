-- Evidence rows whose parts do not add up: origin requests split by cause must sum to
-- the origin requests, the cache-status mix to the GET/HEAD requests, and every
-- share must lie within 0..1. An empty result means the check passed.
with evidence as (

    select * from template_evidence

),

broken as (

    select
        evidence.path_template,
        evidence.cdn,
        evidence.origin_requests,
        evidence.cause_error + evidence.cause_bypass + evidence.cause_expiry
        + evidence.cause_uncached_repeat + evidence.cause_fragmentation + evidence.cause_cold
        + evidence.cause_other as causes,
        evidence.cacheable_requests,
        evidence.status_hit + evidence.status_hit_stale + evidence.status_hit_updating
        + evidence.status_revalidated + evidence.status_partial_hit + evidence.status_miss
        + evidence.status_pass + evidence.status_uncacheable + evidence.status_synthetic
        + evidence.status_error + evidence.status_unknown as statuses
    from evidence
    where abs(
            evidence.cause_error + evidence.cause_bypass + evidence.cause_expiry
            + evidence.cause_uncached_repeat + evidence.cause_fragmentation + evidence.cause_cold
            + evidence.cause_other - evidence.origin_requests
        ) > 1e-6
        or abs(
            evidence.status_hit + evidence.status_hit_stale + evidence.status_hit_updating
            + evidence.status_revalidated + evidence.status_partial_hit + evidence.status_miss
            + evidence.status_pass + evidence.status_uncacheable + evidence.status_synthetic
            + evidence.status_error + evidence.status_unknown - evidence.cacheable_requests
        ) > 1e-6
        or evidence.request_offload not between 0 and 1
        or evidence.query_request_share not between 0 and 1
        or evidence.single_client_repeat_share not between 0 and 1
        or evidence.multi_client_request_share not between 0 and 1

)

select * from broken
