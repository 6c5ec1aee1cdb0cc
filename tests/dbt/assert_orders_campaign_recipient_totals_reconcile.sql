{#- agg_campaign_recipient_totals equals a from-scratch computation (count(distinct)
    over the qualifying attributions; converted recipients: recipient rows of the arm as
    sent with a qualifying order of the campaign) for campaigns created in the last
    var('reconcile_days') days. -#}
{{ config(severity='error', tags=['sliding_window'], meta={'dagster': {'ref': {'name': 'agg_campaign_recipient_totals'}}}) }}

with campaigns as (
    {{ tally.orders_recent_campaigns() }}
),

recipients as (
    select r.organization_id, r.campaign_id, r.is_holdout, count(*) as recipients
    from {{ ref('stg_orders__campaign_recipients') }} as r
    inner join campaigns on r.campaign_id = campaigns.campaign_id and r.organization_id = campaigns.organization_id
    where r.is_holdout is not null
    group by 1, 2, 3
),

converted as (
    select r.organization_id, r.campaign_id, r.is_holdout, count(distinct r.recipient_id) as converted_recipients
    from {{ ref('stg_orders__campaign_recipients') }} as r
    inner join campaigns on r.campaign_id = campaigns.campaign_id and r.organization_id = campaigns.organization_id
    where r.is_holdout is not null
        and exists (
            select 1 from {{ ref('int_orders__attributions_qualified') }} as q
            where q.organization_id = r.organization_id
                and q.campaign_id = r.campaign_id
                and q.recipient_id = r.recipient_id
        )
    group by 1, 2, 3
),

orders as (
    select
        q.organization_id, q.campaign_id, q.is_holdout,
        count(*) as total_orders,
        sum(q.order_value) as revenue,
        count(distinct q.customer_id) as unique_customers
    from {{ ref('int_orders__attributions_qualified') }} as q
    inner join campaigns on q.campaign_id = campaigns.campaign_id and q.organization_id = campaigns.organization_id
    group by 1, 2, 3
),

expected as (
    select
        coalesce(recipients.organization_id, orders.organization_id) as organization_id,
        coalesce(recipients.campaign_id, orders.campaign_id) as campaign_id,
        coalesce(recipients.is_holdout, orders.is_holdout) as is_holdout,
        coalesce(recipients.recipients, 0) as recipients,
        coalesce(converted.converted_recipients, 0) as converted_recipients,
        coalesce(orders.total_orders, 0) as total_orders,
        coalesce(orders.revenue, 0) as revenue,
        coalesce(orders.unique_customers, 0) as unique_customers
    from recipients
    full outer join orders
        on recipients.organization_id = orders.organization_id
        and recipients.campaign_id = orders.campaign_id
        and recipients.is_holdout = orders.is_holdout
    left join converted
        on converted.organization_id = coalesce(recipients.organization_id, orders.organization_id)
        and converted.campaign_id = coalesce(recipients.campaign_id, orders.campaign_id)
        and converted.is_holdout = coalesce(recipients.is_holdout, orders.is_holdout)
),

actual as (
    select
        m.organization_id, m.campaign_id, m.is_holdout, m.recipients, m.converted_recipients,
        m.total_orders, m.revenue, m.unique_customers
    from {{ ref('agg_campaign_recipient_totals') }} as m
    inner join campaigns on m.campaign_id = campaigns.campaign_id and m.organization_id = campaigns.organization_id
)

select 'missing_or_different' as problem, * from (select * from expected except select * from actual) as d
union all
select 'extra_or_different' as problem, * from (select * from actual except select * from expected) as d
