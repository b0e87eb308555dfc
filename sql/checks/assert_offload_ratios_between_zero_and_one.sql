-- Every offload ratio of every grain lies in [0, 1] (a hair of float tolerance).
with ratios as (

    select * from int_offload_ratios_computed

),

broken as (

    select ratios.*
    from ratios
    where ratios.request_offload not between -1e-9 and 1 + 1e-9
        or ratios.byte_offload not between -1e-9 and 1 + 1e-9
        or ratios.cache_hit_ratio not between -1e-9 and 1 + 1e-9
        or ratios.cache_hit_ratio_strict not between -1e-9 and 1 + 1e-9
        or ratios.revalidation_share not between -1e-9 and 1 + 1e-9
        or ratios.cache_hit_ratio_strict > ratios.cache_hit_ratio + 1e-9

)

select * from broken
