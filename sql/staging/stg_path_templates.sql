-- Template of each distinct path, computed by transforms.templating from the
-- configured and built-in rules.
with source as (

    select * from src_path_templates

),

renamed as (

    select
        source.path,
        source.path_template
    from source

)

select * from renamed
