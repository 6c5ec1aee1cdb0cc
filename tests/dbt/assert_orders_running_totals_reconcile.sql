{#- agg_order_running_totals against the qualifying attributions, for the campaigns
    created in the last var('reconcile_days') days: on every order day the running
    orders, revenue and customer days (block base + in-block running total) (window sums over a plain GROUP BY), and on each
    arm's last day both revenue-product totals = sum over customers of (their
    revenue)^2. -#}
{{ config(severity='error', tags=['sliding_window'], meta={'dagster': {'ref': {'name': 'agg_order_running_totals'}}}) }}

with campaigns as (
    {{ tally.orders_recent_campaigns() }}
),

qualified as (
    select q.*
    from {{ ref('int_orders__attributions_qualified') }} as q
    inner join campaigns on q.campaign_id = campaigns.campaign_id and q.organization_id = campaigns.organization_id
),

daily as (
    select organization_id, campaign_id, is_holdout, day_bucket,
        count(*) as orders,
        sum(order_value) as revenue,
        count(distinct customer_id) as customer_days
    from qualified
    group by 1, 2, 3, 4
),

per_customer as (
    select organization_id, campaign_id, is_holdout, customer_id, sum(order_value) as revenue
    from qualified
    where customer_id is not null
    group by 1, 2, 3, 4
),

products as (
    select organization_id, campaign_id, is_holdout, sum(revenue * revenue) as revenue_product
    from per_customer
    group by 1, 2, 3
),

expected as (
    select daily.organization_id, daily.campaign_id, daily.is_holdout, daily.day_bucket,
        sum(daily.orders) over arm_days as orders,
        sum(daily.revenue) over arm_days as revenue,
        sum(daily.customer_days) over arm_days as customer_days,
        case when daily.day_bucket = max(daily.day_bucket) over arm
            then coalesce(products.revenue_product, 0) end as revenue_product,
        case when daily.day_bucket = max(daily.day_bucket) over arm
            then coalesce(products.revenue_product, 0) end as revenue_product_from
    from daily
    left join products
        on daily.organization_id = products.organization_id
        and daily.campaign_id = products.campaign_id
        and daily.is_holdout = products.is_holdout
    window
        arm as (partition by daily.organization_id, daily.campaign_id, daily.is_holdout),
        arm_days as (arm order by daily.day_bucket)
),

-- cum_* restart at every block; the block's base makes them totals since the first day
actual as (
    select r.organization_id, r.campaign_id, r.is_holdout, r.day_bucket,
        k.base_total_orders + r.cum_total_orders as orders,
        k.base_revenue + r.cum_revenue as revenue,
        k.base_customer_days + r.cum_customer_days as customer_days,
        case when r.day_bucket = max(r.day_bucket) over arm
            then k.base_revenue_product + r.cum_revenue_product end as revenue_product,
        case when r.day_bucket = max(r.day_bucket) over arm
            then k.base_revenue_product_from + r.cum_revenue_product_from end as revenue_product_from
    from {{ ref('agg_order_running_totals') }} as r
    inner join campaigns on r.campaign_id = campaigns.campaign_id and r.organization_id = campaigns.organization_id
    left join {{ ref('agg_order_running_totals').schema }}.agg_order_running_totals__blocks as k
        on k.organization_id = r.organization_id and k.campaign_id = r.campaign_id
        and k.is_holdout = r.is_holdout and k.block_start = r.block_start
    window arm as (partition by r.organization_id, r.campaign_id, r.is_holdout)
)

select 'missing_or_different' as problem, * from (select * from expected except select * from actual) as d
union all
select 'extra_or_different' as problem, * from (select * from actual except select * from expected) as d
