-- The values the Explore filters offer: CDNs, POPs and hosts seen in the window,
-- with their requests so the busiest come first.
with windowed as (

    select * from int_minute_rollups_windowed

),

cdns as (

    select
        'cdn' as dimension,
        windowed.cdn as value,
        sum(windowed.requests) as requests
    from windowed
    where windowed.cdn is not null
    group by windowed.cdn

),

pops as (

    select
        'pop' as dimension,
        windowed.pop as value,
        sum(windowed.requests) as requests
    from windowed
    where windowed.pop is not null
    group by windowed.pop

),

hosts as (

    select
        'host' as dimension,
        windowed.host as value,
        sum(windowed.requests) as requests
    from windowed
    where windowed.host is not null
    group by windowed.host

),

options as (

    select * from cdns
    union all
    select * from pops
    union all
    select * from hosts

)

select * from options
