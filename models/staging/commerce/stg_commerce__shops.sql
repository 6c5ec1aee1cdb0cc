with source as (
    select * from {{ source('raw_commerce', 'shops') }}
),

renamed as (
    select
        source.id as shop_id,
        source.account_id,
        source.platform,
        source.integration_created_at,
        source.updated_at
    from source
)

select * from renamed
