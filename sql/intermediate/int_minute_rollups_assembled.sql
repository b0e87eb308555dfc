-- The stored minute rollup: request measures plus object counts and latency sums,
-- folded into the same kept templates. Paths of different templates are distinct,
-- so summing distinct counts over folded templates stays exact.
with rolled_up as (

    select * from int_requests_rolled_up_to_minute

),

objects as (

    select * from int_objects_counted_per_template

),

ranked as (

    select * from int_templates_ranked

),

objects_bounded as (

    select
        strftime(cast(objects.dt as date), '%Y-%m-%d') as dt,
        lpad(cast(cast(objects.hour as integer) as varchar), 2, '0') as hour,
        to_timestamp(objects.minute_index * 60) as minute,
        objects.cdn,
        objects.pop,
        objects.host,
        ranked.kept_template as path_template,
        objects.method,
        cast(objects.status_digit as varchar) || 'xx' as status_class,
        objects.cache_status,
        cast(sum(objects.distinct_objects) as bigint) as distinct_objects,
        cast(sum(objects.distinct_queries) as bigint) as distinct_queries,
        cast(sum(objects.time_taken_us_sum) as bigint) as time_taken_us_sum,
        cast(sum(objects.time_taken_rows) as bigint) as time_taken_rows,
        cast(sum(objects.ttfb_us_sum) as bigint) as ttfb_us_sum,
        cast(sum(objects.ttfb_rows) as bigint) as ttfb_rows
    from objects
    inner join ranked
        on objects.dt = ranked.dt
        and objects.hour = ranked.hour
        and objects.host is not distinct from ranked.host
        and objects.path_template = ranked.path_template
    group by
        objects.dt,
        objects.hour,
        objects.minute_index,
        objects.cdn,
        objects.pop,
        objects.host,
        ranked.kept_template,
        objects.method,
        objects.status_digit,
        objects.cache_status

),

assembled as (

    select
        rolled_up.*,
        objects_bounded.distinct_objects,
        objects_bounded.distinct_queries,
        objects_bounded.time_taken_us_sum,
        objects_bounded.time_taken_rows,
        objects_bounded.ttfb_us_sum,
        objects_bounded.ttfb_rows
    from rolled_up
    inner join objects_bounded
        on rolled_up.dt = objects_bounded.dt
        and rolled_up.hour = objects_bounded.hour
        and rolled_up.minute = objects_bounded.minute
        and rolled_up.cdn = objects_bounded.cdn
        and rolled_up.pop is not distinct from objects_bounded.pop
        and rolled_up.host is not distinct from objects_bounded.host
        and rolled_up.path_template = objects_bounded.path_template
        and rolled_up.method = objects_bounded.method
        and rolled_up.status_class = objects_bounded.status_class
        and rolled_up.cache_status = objects_bounded.cache_status

)

select * from assembled
