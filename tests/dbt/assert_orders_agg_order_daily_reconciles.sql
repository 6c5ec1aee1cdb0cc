{#- agg_order_daily equals a from-scratch aggregate of the qualifying attributions for
    the last var('reconcile_days') local days (count(distinct) on purpose: a different
    computation than the mart's two-level roll-up). Returns the differing rows. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'agg_order_daily'}}}) }}
-- depends_on: {{ ref('agg_campaign_recipient_totals') }}

with organizations as (
    select organization_id, aggregation_timezone as tz
    from {{ ref('int_orders__organizations_validated') }}
    where aggregation_timezone is not null
),

expected as (
    select
        q.organization_id,
        q.campaign_id,
        q.day_bucket,
        q.is_holdout,
        count(*) as total_orders,
        sum(q.order_value) as revenue,
        count(*) filter (where q.is_first_purchase) as first_purchase_orders,
        coalesce(sum(q.order_value) filter (where q.is_first_purchase), 0) as first_purchase_revenue,
        count(*) filter (where not q.is_first_purchase) as repeat_orders,
        coalesce(sum(q.order_value) filter (where not q.is_first_purchase), 0) as repeat_revenue,
        count(*) filter (where q.is_subscription) as subscription_orders,
        coalesce(sum(q.order_value) filter (where q.is_subscription), 0) as subscription_revenue,
        count(*) filter (where q.is_discount_matched) as discount_matched_orders,
        count(distinct q.customer_id) as unique_customers,
        count(*) filter (where q.is_new_subscriber) as new_subscribers
    from {{ ref('int_orders__attributions_qualified') }} as q
    inner join organizations on q.organization_id = organizations.organization_id
    where q.ordered_at >= now() - interval '{{ tally.run_var("reconcile_days") | int + 2 }} days'
        and q.day_bucket >= {{ tally.local_today('organizations.tz') }} - {{ tally.run_var("reconcile_days") | int }}
    group by 1, 2, 3, 4
),

actual as (
    select
        m.organization_id, m.campaign_id, m.day_bucket, m.is_holdout, m.total_orders, m.revenue,
        m.first_purchase_orders, m.first_purchase_revenue, m.repeat_orders, m.repeat_revenue,
        m.subscription_orders, m.subscription_revenue, m.discount_matched_orders,
        m.unique_customers, m.new_subscribers
    from {{ ref('agg_order_daily') }} as m
    inner join organizations on m.organization_id = organizations.organization_id
    where m.day_bucket >= {{ tally.local_today('organizations.tz') }} - {{ tally.run_var("reconcile_days") | int }}
),

missing as (
    select 'missing_or_different' as problem, * from (select * from expected except select * from actual) as d
),

extra as (
    select 'extra_or_different' as problem, * from (select * from actual except select * from expected) as d
)

select * from missing
union all
select * from extra
