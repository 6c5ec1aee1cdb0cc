{{-
    config(
        materialized='incremental',
        incremental_strategy='bucket_replace',
        unique_key=['shop_id', 'day'],
        bucket_column='day',
        bucket_kind='day',
        on_schema_change='fail',
        sliding_window={
            'tenants': 'int_commerce__shops_dated',
            'tenant_id': 'shop_id',
            'timezone': 'timezone',
            'version': 'tn.integration_date',
            'window_days': 1,
            'events': [{'model': 'stg_commerce__orders', 'tenant': 'shop_id',
                        'ts': 'created_at', 'raw_table': 'orders'}],
            'rebuild_var': 'rebuild_shop_id',
            'first_day': 'tn.integration_date',
        },
        pre_hook="{{ tally.sliding_window_prepare() }}",
        post_hook="{{ tally.sliding_window_record() }}",
        **tally.spark_mart_config(['day'], ['sliding_window'])
    )
-}}

{#- Seed 003's integration usage: one row per shop per UTC day from the shop's
    integration date through yesterday, zero-filled.

    Incremental through the shared sliding window, tenants = shops: a tick recomputes
    the days since the previous run (window_days=1: today's bucket plus, after midnight,
    the day that just completed), the days holding changed or deleted orders (late
    orders for an old day) and whole shops that are new or whose integration date moved.
    Today is in the affected set but never emitted: bucket_replace deletes its bucket
    and nothing replaces it, so no partial today row can survive. A complete day is
    written once, and again only when its orders change.

    On Spark (docs/scale-out.md) the mart is partitioned by `day`: an affected day is
    recomputed for every shop, and a shop rebuilt whole gets every day from its
    integration date (spec `first_day`: idle days have no orders to find them by). -#}

{%- set today = tally.local_today("'UTC'") -%}
{%- set yesterday = today ~ ' - 1' -%}

with shops as (
    select * from {{ ref('int_commerce__shops_dated') }}
),

-- every UTC day from the earliest integration through today (dbt's own date spine;
-- its bounds are evaluated when the model compiles, one day of slack at the end)
calendar as (
    {{ dbt.date_spine(
        'day',
        "(select least(min(s.integration_date), " ~ yesterday ~ ") from " ~ ref('int_commerce__shops_dated') ~ " as s)",
        today ~ ' + 2'
    ) }}
),

shop_days as (
    select
        shops.shop_id,
        cast(calendar.date_day as date) as day,
        shops.account_id,
        shops.platform,
        shops.integration_created_at
    from shops
    inner join calendar
        on cast(calendar.date_day as date) >= shops.integration_date
        and cast(calendar.date_day as date) <= {{ yesterday }}
    where {{ tally.sliding_window_filter(
        'shops.shop_id', tally.local_day_start('cast(calendar.date_day as date)', "'UTC'"),
        bucket_expr='cast(calendar.date_day as date)'
    ) }}
),

daily_orders as (
    -- one count per affected shop-day (sliding_window_grouped: one (shop_id, created_at)
    -- index range scan per affected shop-day or whole shop, so a tick costs the changed
    -- days, not history); one aggregate over every order in a full build
    {% call(rows) tally.sliding_window_grouped(ref('stg_commerce__orders'), 'shop_id', 'created_at') -%}
    select
        orders.shop_id,
        {{ tally.day_bucket('orders.created_at', "'UTC'") }} as day,
        count(*) as orders_count
    from {{ rows }} as orders
    where orders.created_at < {{ tally.local_day_start(today, "'UTC'") }}
    group by 1, 2
    {%- endcall %}
),

final as (
    select
        shop_days.shop_id,
        shop_days.day,
        shop_days.account_id,
        shop_days.platform,
        shop_days.integration_created_at,
        cast(coalesce(daily_orders.orders_count, 0) as bigint) as orders_count,
        {{ tally.lineage_columns() }}
    from shop_days
    left join daily_orders
        on shop_days.shop_id = daily_orders.shop_id
        and shop_days.day = daily_orders.day
)

select * from final
