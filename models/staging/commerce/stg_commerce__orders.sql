with source as (
    select * from {{ source('raw_commerce', 'orders') }}
),

renamed as (
    select
        source.id as order_id,
        source.shop_id,
        source.total,
        source.created_at,
        source.updated_at
    from source
)

select * from renamed
