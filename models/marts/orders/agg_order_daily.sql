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

-- one row per customer and bucket first: the roll-up then counts unique customers
-- with count(*), no count(distinct) sort
per_customer as (
    select
        qualified.organization_id,
        qualified.campaign_id,
        qualified.day_bucket,
        qualified.is_holdout,
        qualified.customer_id,
        count(*) as orders,
        sum(qualified.order_value) as revenue,
        count(*) filter (where qualified.is_first_purchase) as first_purchase_orders,
        sum(qualified.order_value) filter (where qualified.is_first_purchase) as first_purchase_revenue,
        count(*) filter (where qualified.is_subscription) as subscription_orders,
        sum(qualified.order_value) filter (where qualified.is_subscription) as subscription_revenue,
        count(*) filter (where qualified.is_discount_matched) as discount_matched_orders,
        count(*) filter (where qualified.is_new_subscriber) as new_subscribers
    from qualified
    group by 1, 2, 3, 4, 5
),

final as (
    select
        per_customer.organization_id,
        per_customer.campaign_id,
        per_customer.day_bucket,
        per_customer.is_holdout,
        cast(sum(per_customer.orders) as bigint) as total_orders,
        cast(sum(per_customer.revenue) as numeric(16, 2)) as revenue,
        cast(sum(per_customer.first_purchase_orders) as bigint) as first_purchase_orders,
        cast(coalesce(sum(per_customer.first_purchase_revenue), 0) as numeric(16, 2)) as first_purchase_revenue,
        cast(sum(per_customer.orders - per_customer.first_purchase_orders) as bigint) as repeat_orders,
        cast(sum(per_customer.revenue) - coalesce(sum(per_customer.first_purchase_revenue), 0) as numeric(16, 2))
            as repeat_revenue,
        cast(sum(per_customer.subscription_orders) as bigint) as subscription_orders,
        cast(coalesce(sum(per_customer.subscription_revenue), 0) as numeric(16, 2)) as subscription_revenue,
        cast(sum(per_customer.discount_matched_orders) as bigint) as discount_matched_orders,
        cast(count(per_customer.customer_id) as bigint) as unique_customers,
        cast(sum(per_customer.new_subscribers) as bigint) as new_subscribers,
        {{ tally.lineage_columns() }}
    from per_customer
    group by 1, 2, 3, 4
)

select * from final
