-- Minutes whose CDN traffic shares do not add up to one (or a share outside 0..1).
-- An empty result means the check passed.
with shares as (

    select * from cdn_comparison_by_minute

),

broken as (

    select
        shares.minute,
        sum(shares.share) as total_share,
        min(shares.share) as min_share,
        max(shares.share) as max_share
    from shares
    group by shares.minute
    having abs(sum(shares.share) - 1) > 1e-9
        or min(shares.share) < 0
        or max(shares.share) > 1

)

select * from broken
