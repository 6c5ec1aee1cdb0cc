{{ tally.orders_day_mart_config(
    unique_key=['organization_id', 'campaign_id', 'day_bucket', 'is_holdout'],
    index_sql="drop index if exists {{ this.schema }}.agg_order_daily_org_day_idx; create index if not exists agg_order_daily_org_day_key_idx on {{ this }} (organization_id, day_bucket)",
) }}
{#- The reader's org + day range path. No INCLUDE list: the reader reads every measure,
    so a covering index would have to carry the whole row; a narrow one costs a tick's
    inserts less. (`agg_order_daily_org_day_idx`, a covering index of three measures
    that no query could use index-only, is dropped where an older build left it.) -#}
-- depends_on: {{ ref('stg_orders__organizations') }}
-- depends_on: {{ ref('stg_orders__attributions') }}

with qualified as (
    select q.*
    from {{ tally.sliding_window_rows(
        ref('int_orders__attributions_qualified'), 'organization_id', 'ordered_at',
        scope_col='campaign_id', key_col='campaign_id'
    ) }} as q
),

-- one row per order, count(distinct) per bucket - full build and incremental runs alike.
-- (The full build used to roll up one row per customer and bucket first to avoid the
-- count(distinct) sort; since raw's partial covering (campaign_id, ordered_at) index
-- feeds it index-only, the single sort-based level is faster: 6.8 vs 8.2 s at scale
-- 100. Incremental: 0.31 vs 0.67 s for a late-5k tick.)
customer_rows as (
    select
        qualified.organization_id,
        qualified.campaign_id,
        qualified.day_bucket,
        qualified.is_holdout,
        qualified.customer_id,
        1 as orders,
        qualified.order_value as revenue,
        case when qualified.is_first_purchase then 1 else 0 end as first_purchase_orders,
        case when qualified.is_first_purchase then qualified.order_value end as first_purchase_revenue,
        case when qualified.is_subscription then 1 else 0 end as subscription_orders,
        case when qualified.is_subscription then qualified.order_value end as subscription_revenue,
        case when qualified.is_discount_matched then 1 else 0 end as discount_matched_orders,
        case when qualified.is_new_subscriber then 1 else 0 end as new_subscribers
    from qualified
),

final as (
    select
        customer_rows.organization_id,
        customer_rows.campaign_id,
        customer_rows.day_bucket,
        customer_rows.is_holdout,
        cast(sum(customer_rows.orders) as bigint) as total_orders,
        cast(sum(customer_rows.revenue) as numeric(16, 2)) as revenue,
        cast(sum(customer_rows.first_purchase_orders) as bigint) as first_purchase_orders,
        cast(coalesce(sum(customer_rows.first_purchase_revenue), 0) as numeric(16, 2)) as first_purchase_revenue,
        cast(sum(customer_rows.orders - customer_rows.first_purchase_orders) as bigint) as repeat_orders,
        cast(sum(customer_rows.revenue) - coalesce(sum(customer_rows.first_purchase_revenue), 0) as numeric(16, 2))
            as repeat_revenue,
        cast(sum(customer_rows.subscription_orders) as bigint) as subscription_orders,
        cast(coalesce(sum(customer_rows.subscription_revenue), 0) as numeric(16, 2)) as subscription_revenue,
        cast(sum(customer_rows.discount_matched_orders) as bigint) as discount_matched_orders,
        cast(count(distinct customer_rows.customer_id) as bigint) as unique_customers,
        cast(sum(customer_rows.new_subscribers) as bigint) as new_subscribers,
        {{ tally.lineage_columns() }}
    from customer_rows
    group by 1, 2, 3, 4
)

select * from final
