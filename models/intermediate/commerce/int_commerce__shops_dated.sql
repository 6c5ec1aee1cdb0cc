{#- One row per shop with its integration date: the tenants of the integration-usage
    sliding window. Commerce days are UTC days (DESIGN.md), so every shop's timezone is
    'UTC'; the integration date is the tenant version, so a shop whose integration
    date moves is rebuilt whole (it gets its new days, or loses the dropped ones). -#}
with shops as (
    select * from {{ ref('stg_commerce__shops') }}
),

dated as (
    select
        shops.shop_id,
        shops.account_id,
        shops.platform,
        shops.integration_created_at,
        {{ tally.day_bucket('shops.integration_created_at', "'UTC'") }} as integration_date,
        cast('UTC' as {{ tally.text_type() }}) as timezone
    from shops
    where shops.integration_created_at is not null
)

select * from dated
