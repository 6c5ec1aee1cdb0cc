{#- agg_integration_usage_daily equals a from-scratch, zero-filled count of raw orders
    per shop per UTC day (last `reconcile_days` days, through yesterday). Returns the
    (shop, day) pairs that differ, missing or extra. -#}
{{ config(tags=['commerce', 'reconcile'], meta={'dagster': {'ref': {'name': 'agg_integration_usage_daily'}}}) }}

with bounds as (
    select
        cast(now() at time zone 'UTC' as date) - 1 as last_day,
        cast(now() at time zone 'UTC' as date) - {{ tally.run_var('reconcile_days') }} as first_day
),

expected_days as (
    select
        shops.id as shop_id,
        cast(d as date) as day
    from {{ source('raw_commerce', 'shops') }} as shops
    cross join bounds
    cross join lateral generate_series(
        greatest(cast(shops.integration_created_at at time zone 'UTC' as date), bounds.first_day),
        bounds.last_day,
        interval '1 day'
    ) as d
),

expected as (
    select
        expected_days.shop_id,
        expected_days.day,
        (
            select count(*)
            from {{ source('raw_commerce', 'orders') }} as o
            where o.shop_id = expected_days.shop_id
                and o.created_at >= cast(expected_days.day as timestamp) at time zone 'UTC'
                and o.created_at < cast(expected_days.day + 1 as timestamp) at time zone 'UTC'
        ) as orders_count
    from expected_days
),

actual as (
    select mart.shop_id, mart.day, mart.orders_count
    from {{ ref('agg_integration_usage_daily') }} as mart
    cross join bounds
    where mart.day >= bounds.first_day
)

select
    coalesce(expected.shop_id, actual.shop_id) as shop_id,
    coalesce(expected.day, actual.day) as day,
    expected.orders_count as expected_orders,
    actual.orders_count as actual_orders
from expected
full outer join actual
    on expected.shop_id = actual.shop_id
    and expected.day = actual.day
where expected.orders_count is distinct from actual.orders_count
