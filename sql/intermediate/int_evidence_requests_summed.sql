-- The evidence of each scope (template over all CDNs, cdn null, and template x CDN)
-- summed from its viewer requests: cache-status mix, origin requests by cause and
-- by status class, query and key cardinality, max-age, content type and size, spike
-- vs normal minutes, and the distinct cache-key x TTL-window buckets the estimates
-- count as the origin fetches left after a fix. Counts are weighted GET/HEAD
-- requests unless named otherwise. Measures are first summed at a coarse grain (a
-- few thousand rows), then per scope, so each request is read once.
with requests as (

    select * from int_evidence_requests_sequenced

),

minutes as (

    select * from int_evidence_minutes_flagged

),

suggestion_params as (

    select * from suggestion_params

),

marked as (

    select
        requests.*,
        coalesce(minutes.is_spike, false) as is_spike,
        requests.is_cacheable_method and requests.is_origin as is_cacheable_origin
    from requests
    left join minutes
        on requests.path_template = minutes.path_template
        and requests.minute_index = minutes.minute_index

),

grouped as (

    select
        marked.path_template,
        marked.cdn,
        marked.method,
        marked.is_cacheable_method,
        marked.is_cacheable_origin,
        marked.origin_request = 'full' as is_full_fetch,
        marked.cache_status,
        marked.cache_status = 'MISS' and marked.cache_status_detail = 'EXPIRED' as is_expired_miss,
        marked.origin_cause,
        marked.status_digit,
        marked.query is not null as has_query,
        marked.is_spike,
        marked.is_full_miss,
        sum(marked.weight) as requests,
        sum(marked.bytes) as bytes,
        count(*) as rows
    from marked
    group by all

),

summed as (

    select
        grouped.path_template,
        case when grouping(grouped.cdn) = 1 then null else grouped.cdn end as cdn,
        sum(grouped.requests) as requests,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method), 0) as cacheable_requests,
        -- Logged rows: the sample sizes behind the significance tests.
        coalesce(sum(grouped.rows) filter (where grouped.is_cacheable_method), 0) as cacheable_rows,
        coalesce(sum(grouped.rows) filter (where grouped.is_cacheable_method and grouped.is_spike), 0) as spike_rows,
        coalesce(sum(grouped.rows) filter (where grouped.is_cacheable_method and not grouped.is_spike), 0) as normal_rows,
        coalesce(sum(grouped.requests) filter (where not grouped.is_cacheable_method), 0) as non_cacheable_requests,
        string_agg(distinct grouped.method, ',' order by grouped.method)
            filter (where not grouped.is_cacheable_method) as non_cacheable_methods,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin), 0) as origin_requests,
        coalesce(sum(grouped.bytes) filter (where grouped.is_cacheable_method and grouped.is_full_fetch), 0) as origin_bytes,
        coalesce(sum(grouped.bytes) filter (where grouped.is_cacheable_method), 0) as bytes,
        -- Cache-status mix of GET/HEAD requests (expired misses also counted apart).
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.cache_status = 'HIT'), 0) as status_hit,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.cache_status = 'HIT_STALE'), 0) as status_hit_stale,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.cache_status = 'HIT_UPDATING'), 0) as status_hit_updating,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.cache_status = 'REVALIDATED'), 0) as status_revalidated,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.cache_status = 'PARTIAL_HIT'), 0) as status_partial_hit,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.cache_status = 'MISS'), 0) as status_miss,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.is_expired_miss), 0) as status_expired_miss,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.cache_status = 'PASS'), 0) as status_pass,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.cache_status = 'UNCACHEABLE'), 0) as status_uncacheable,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.cache_status = 'SYNTHETIC'), 0) as status_synthetic,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.cache_status = 'ERROR'), 0) as status_error,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.cache_status = 'UNKNOWN'), 0) as status_unknown,
        -- Origin requests by cause (exclusive; see int_evidence_requests_sequenced).
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.origin_cause = 'error'), 0) as cause_error,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.origin_cause = 'bypass'), 0) as cause_bypass,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.origin_cause = 'expiry'), 0) as cause_expiry,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.origin_cause = 'uncached_repeat'), 0) as cause_uncached_repeat,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.origin_cause = 'fragmentation'), 0) as cause_fragmentation,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.origin_cause = 'cold'), 0) as cause_cold,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.origin_cause = 'other'), 0) as cause_other,
        -- Status classes of the requests that reached the origin.
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.status_digit = 2), 0) as origin_2xx,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.status_digit = 3), 0) as origin_3xx,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.status_digit = 4), 0) as origin_4xx,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.status_digit = 5), 0) as origin_5xx,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.has_query), 0) as query_requests,
        -- Spike minutes (of the template) against the others.
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and grouped.is_spike), 0) as spike_requests,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and grouped.is_spike), 0) as spike_origin_requests,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_method and not grouped.is_spike), 0) as normal_requests,
        coalesce(sum(grouped.requests) filter (where grouped.is_cacheable_origin and not grouped.is_spike), 0) as normal_origin_requests,
        coalesce(sum(grouped.requests) filter (
            where grouped.is_cacheable_origin and grouped.is_spike and grouped.origin_cause = 'error'
        ), 0) as spike_error_requests,
        coalesce(sum(grouped.requests) filter (
            where grouped.is_cacheable_method and grouped.is_spike and grouped.is_full_miss
        ), 0) as spike_full_misses
    from grouped
    group by grouping sets (
        (grouped.path_template),
        (grouped.path_template, grouped.cdn)
    )

),

described as (

    select
        marked.path_template,
        case when grouping(marked.cdn) = 1 then null else marked.cdn end as cdn,
        count(distinct marked.path) as distinct_paths,
        count(distinct hash(marked.path, marked.query)) as distinct_keys,
        count(marked.max_age_s) as rows_with_max_age,
        min(marked.max_age_s) as max_age_min_s,
        median(marked.max_age_s) as max_age_median_s,
        max(marked.max_age_s) as max_age_max_s,
        median(marked.effective_ttl_s) as ttl_s,
        max(marked.recommended_ttl_s) as recommended_ttl_s,
        mode(marked.content_type) as content_type,
        median(marked.object_bytes) as object_bytes_median,
        count(distinct marked.minute_index) filter (where marked.is_spike) as spike_minutes,
        count(distinct marked.minute_index) as active_minutes
    from marked
    where marked.is_cacheable_method
    group by grouping sets (
        (marked.path_template),
        (marked.path_template, marked.cdn)
    )

),

-- Origin fetches left after each fix, one per cache key (and POP) per TTL window,
-- counted per CDN (every key holds its CDN, so CDN counts add up to the template's):
-- fragmentation: path without query per POP and current TTL; cold: path per CDN (a
-- shield) and current TTL; bypass: key per POP and suggested s-maxage; error: key per
-- POP and negative TTL; expiry: key per POP and recommended TTL (background refreshes).
fetch_keys as (

    select
        marked.path_template,
        marked.cdn,
        marked.origin_cause,
        hash(
            marked.cdn,
            case when marked.origin_cause = 'cold' then null else marked.pop end,
            marked.path,
            case when marked.origin_cause in ('fragmentation', 'cold') then null else marked.query end,
            floor(marked.epoch_s / case marked.origin_cause
                when 'bypass' then suggestion_params.suggested_s_maxage_s
                when 'error' then suggestion_params.negative_ttl_s
                when 'expiry' then marked.recommended_ttl_s
                else marked.estimate_ttl_s
            end)
        ) as fetch_key
    from marked
    cross join suggestion_params
    where marked.is_cacheable_origin
        and marked.origin_cause in ('fragmentation', 'cold', 'bypass', 'error', 'expiry')

    union all

    -- Concurrent misses at spikes: one fetch per key, POP and second when collapsed.
    select
        marked.path_template,
        marked.cdn,
        'spike_miss',
        hash(marked.cdn, marked.pop, marked.path, marked.query, floor(marked.epoch_s))
    from marked
    where marked.is_cacheable_method
        and marked.is_spike
        and marked.is_full_miss

),

fetches_per_cause as (

    select
        fetch_keys.path_template,
        fetch_keys.cdn,
        fetch_keys.origin_cause,
        count(distinct fetch_keys.fetch_key) as fetches
    from fetch_keys
    group by
        fetch_keys.path_template,
        fetch_keys.cdn,
        fetch_keys.origin_cause

),

fetches_per_cdn as (

    select
        fetches_per_cause.path_template,
        fetches_per_cause.cdn,
        coalesce(sum(fetches_per_cause.fetches) filter (where fetches_per_cause.origin_cause = 'fragmentation'), 0) as fragmentation_fetches,
        coalesce(sum(fetches_per_cause.fetches) filter (where fetches_per_cause.origin_cause = 'cold'), 0) as cold_shield_fetches,
        coalesce(sum(fetches_per_cause.fetches) filter (where fetches_per_cause.origin_cause = 'bypass'), 0) as bypass_fetches,
        coalesce(sum(fetches_per_cause.fetches) filter (where fetches_per_cause.origin_cause = 'error'), 0) as error_fetches,
        coalesce(sum(fetches_per_cause.fetches) filter (where fetches_per_cause.origin_cause = 'expiry'), 0) as expiry_refreshes,
        coalesce(sum(fetches_per_cause.fetches) filter (where fetches_per_cause.origin_cause = 'spike_miss'), 0) as spike_miss_fetches
    from fetches_per_cause
    group by
        fetches_per_cause.path_template,
        fetches_per_cause.cdn

),

fetches as (

    select
        fetches_per_cdn.path_template,
        case when grouping(fetches_per_cdn.cdn) = 1 then null else fetches_per_cdn.cdn end as cdn,
        sum(fetches_per_cdn.fragmentation_fetches) as fragmentation_fetches,
        sum(fetches_per_cdn.cold_shield_fetches) as cold_shield_fetches,
        sum(fetches_per_cdn.bypass_fetches) as bypass_fetches,
        sum(fetches_per_cdn.error_fetches) as error_fetches,
        sum(fetches_per_cdn.expiry_refreshes) as expiry_refreshes,
        sum(fetches_per_cdn.spike_miss_fetches) as spike_miss_fetches
    from fetches_per_cdn
    group by grouping sets (
        (fetches_per_cdn.path_template),
        (fetches_per_cdn.path_template, fetches_per_cdn.cdn)
    )

),

joined as (

    select
        summed.*,
        coalesce(described.distinct_paths, 0) as distinct_paths,
        coalesce(described.distinct_keys, 0) as distinct_keys,
        coalesce(described.rows_with_max_age, 0) as rows_with_max_age,
        described.max_age_min_s,
        described.max_age_median_s,
        described.max_age_max_s,
        described.ttl_s,
        described.recommended_ttl_s,
        described.content_type,
        described.object_bytes_median,
        coalesce(described.spike_minutes, 0) as spike_minutes,
        coalesce(described.active_minutes, 0) as active_minutes,
        -- Fetch buckets are far shorter than a sampled block: scale them like requests.
        coalesce(fetches.fragmentation_fetches, 0) / suggestion_params.evidence_sample_share as fragmentation_fetches,
        coalesce(fetches.cold_shield_fetches, 0) / suggestion_params.evidence_sample_share as cold_shield_fetches,
        coalesce(fetches.bypass_fetches, 0) / suggestion_params.evidence_sample_share as bypass_fetches,
        coalesce(fetches.error_fetches, 0) / suggestion_params.evidence_sample_share as error_fetches,
        coalesce(fetches.expiry_refreshes, 0) / suggestion_params.evidence_sample_share as expiry_refreshes,
        coalesce(fetches.spike_miss_fetches, 0) / suggestion_params.evidence_sample_share as spike_miss_fetches,
        suggestion_params.evidence_sample_share
    from summed
    cross join suggestion_params
    left join described
        on summed.path_template = described.path_template
        and summed.cdn is not distinct from described.cdn
    left join fetches
        on summed.path_template = fetches.path_template
        and summed.cdn is not distinct from fetches.cdn

)

select * from joined
