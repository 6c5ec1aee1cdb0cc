{#- agg_order_customer_day_pairs against identities computed straight from the
    qualifying attributions, per (campaign, arm) of the campaigns created in the last
    var('reconcile_days') days: sum(new_customers) = distinct customers,
    sum(returning_customers) = customer days - customers, sum(revenue_product) = sum
    over customers of (their revenue)^2 (all pairs of their order days). -#}
{{ config(severity='error', tags=['sliding_window'], meta={'dagster': {'ref': {'name': 'agg_order_customer_day_pairs'}}}) }}

with campaigns as (
    {{ tally.orders_recent_campaigns() }}
),

customer_days as (
    select q.organization_id, q.campaign_id, q.is_holdout, q.customer_id, q.day_bucket,
        sum(q.order_value) as revenue
    from {{ ref('int_orders__attributions_qualified') }} as q
    inner join campaigns on q.campaign_id = campaigns.campaign_id and q.organization_id = campaigns.organization_id
    where q.customer_id is not null
    group by 1, 2, 3, 4, 5
),

per_customer as (
    select organization_id, campaign_id, is_holdout, customer_id,
        count(*) as days, sum(revenue) as revenue
    from customer_days
    group by 1, 2, 3, 4
),

expected as (
    select organization_id, campaign_id, is_holdout,
        count(*) as customers,
        sum(days) - count(*) as returns,
        sum(revenue * revenue) as revenue_product
    from per_customer
    group by 1, 2, 3
),

actual as (
    select p.organization_id, p.campaign_id, p.is_holdout,
        sum(p.new_customers) as customers,
        sum(p.returning_customers) as returns,
        sum(p.revenue_product) as revenue_product
    from {{ ref('agg_order_customer_day_pairs') }} as p
    inner join campaigns on p.campaign_id = campaigns.campaign_id and p.organization_id = campaigns.organization_id
    group by 1, 2, 3
)

select 'missing_or_different' as problem, * from (select * from expected except select * from actual) as d
union all
select 'extra_or_different' as problem, * from (select * from actual except select * from expected) as d
