-- The evidence behind the cache-policy suggestions, one row per template (cdn null:
-- all CDNs) and per template x CDN, for the templates in suggestion_scopes over the
-- analysis window. Counts are weighted GET/HEAD viewer requests unless named
-- otherwise; shares are of cacheable_requests, cause shares of origin_requests.
with summed as (

    select * from int_evidence_requests_summed

),

objects as (

    select * from int_evidence_objects_counted

),

query_params as (

    select * from int_evidence_params_counted

),

peers as (

    select * from int_evidence_peers_compared

),

pops as (

    select * from int_evidence_pops_summed

),

by_cdn as (

    select
        summed.path_template,
        list(
            struct_pack(
                cdn := summed.cdn,
                requests := summed.cacheable_requests,
                request_offload := 1 - summed.origin_requests / nullif(summed.cacheable_requests, 0),
                origin_requests := summed.origin_requests
            )
            order by summed.cacheable_requests desc, summed.cdn
        ) as by_cdn
    from summed
    where summed.cdn is not null
    group by summed.path_template

),

joined as (

    select
        summed.*,
        objects.objects,
        objects.requests_per_object,
        objects.clients_per_object,
        objects.repeat_objects,
        objects.single_client_repeat_objects,
        objects.single_client_repeat_share,
        objects.multi_client_request_share,
        query_params.query_params,
        pops.top_pops,
        case when summed.cdn is null then by_cdn.by_cdn end as by_cdn,
        peers.peer_cdns,
        peers.peer_cacheable_requests,
        peers.peer_request_offload,
        peers.offload_gap,
        peers.gap_standard_error,
        coalesce(peers.is_outlier, false) as is_outlier
    from summed
    left join objects
        on summed.path_template = objects.path_template
        and summed.cdn is not distinct from objects.cdn
    left join query_params
        on summed.path_template = query_params.path_template
        and summed.cdn is not distinct from query_params.cdn
    left join pops
        on summed.path_template = pops.path_template
        and summed.cdn is not distinct from pops.cdn
    left join by_cdn
        on summed.path_template = by_cdn.path_template
    left join peers
        on summed.path_template = peers.path_template
        and summed.cdn = peers.cdn

),

derived as (

    select
        joined.*,
        1 - joined.origin_requests / nullif(joined.cacheable_requests, 0) as request_offload,
        joined.query_requests / nullif(joined.cacheable_requests, 0) as query_request_share,
        joined.distinct_keys / nullif(joined.cacheable_requests, 0) as keys_per_request,
        joined.distinct_keys / nullif(joined.distinct_paths, 0) as keys_per_path,
        joined.rows_with_max_age / nullif(joined.cacheable_rows, 0) as max_age_logged_share,
        (joined.origin_5xx + joined.origin_4xx) / nullif(joined.origin_requests, 0) as origin_error_share,
        joined.cause_error / nullif(joined.origin_requests, 0) as cause_error_share,
        joined.cause_bypass / nullif(joined.origin_requests, 0) as cause_bypass_share,
        joined.cause_expiry / nullif(joined.origin_requests, 0) as cause_expiry_share,
        joined.cause_uncached_repeat / nullif(joined.origin_requests, 0) as cause_uncached_repeat_share,
        joined.cause_fragmentation / nullif(joined.origin_requests, 0) as cause_fragmentation_share,
        joined.cause_cold / nullif(joined.origin_requests, 0) as cause_cold_share,
        joined.cause_other / nullif(joined.origin_requests, 0) as cause_other_share,
        joined.cacheable_requests / nullif(joined.distinct_keys, 0) as requests_per_key,
        1 - joined.spike_origin_requests / nullif(joined.spike_requests, 0) as spike_request_offload,
        1 - joined.normal_origin_requests / nullif(joined.normal_requests, 0) as normal_request_offload,
        coalesce(
            joined.content_type in (
                'application/vnd.apple.mpegurl', 'application/x-mpegurl', 'audio/mpegurl',
                'application/dash+xml'
            )
            or joined.path_template like '%.m3u8'
            or joined.path_template like '%.mpd',
            false
        ) as is_live_manifest
    from joined

)

select * from derived
