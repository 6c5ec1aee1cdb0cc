{#- agg_order_customer_daily equals a from-scratch aggregate of the qualifying
    attributions for the last var('reconcile_days') local days. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'agg_order_customer_daily'}}}) }}
-- depends_on: {{ ref('agg_campaign_recipient_totals') }}

with organizations as (
    select organization_id, aggregation_timezone as tz
    from {{ ref('int_orders__organizations_validated') }}
    where aggregation_timezone is not null
),

expected as (
    select
        q.organization_id, q.campaign_id, q.day_bucket, q.is_holdout, q.customer_id,
        count(*) as orders,
        sum(q.order_value) as revenue
    from {{ ref('int_orders__attributions_qualified') }} as q
    inner join organizations on q.organization_id = organizations.organization_id
    where q.customer_id is not null
        and q.ordered_at >= now() - interval '{{ tally.run_var("reconcile_days") | int + 2 }} days'
        and q.day_bucket >= {{ tally.local_today('organizations.tz') }} - {{ tally.run_var("reconcile_days") | int }}
    group by 1, 2, 3, 4, 5
),

actual as (
    select m.organization_id, m.campaign_id, m.day_bucket, m.is_holdout, m.customer_id, m.orders, m.revenue
    from {{ ref('agg_order_customer_daily') }} as m
    inner join organizations on m.organization_id = organizations.organization_id
    where m.day_bucket >= {{ tally.local_today('organizations.tz') }} - {{ tally.run_var("reconcile_days") | int }}
)

select 'missing_or_different' as problem, * from (select * from expected except select * from actual) as d
union all
select 'extra_or_different' as problem, * from (select * from actual except select * from expected) as d
