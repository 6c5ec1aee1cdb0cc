{#- Per (organization, campaign, is_holdout) lifetime totals. Key-mode sliding window:
    a run recomputes whole campaigns - those holding an attribution or recipient row
    changed since the watermark (or a captured delete), every campaign of a tenant
    whose configuration changed, and the rebuild scope. Orders, revenue and unique
    customers and converted recipients (distinct recipients with >= 1 qualifying order;
    holdout side as recorded on the attribution) from the qualifying attributions of
    the affected campaigns (one index probe per affected campaign or whole tenant via
    `orders_campaign_rows`; a filter form was planned as two full scans of raw even
    when nothing changed), recipients from staging. It does
    not ref the other order marts on purpose: an in-asset dependency between partitioned
    dbt assets breaks Dagster's unpartitioned (tick/rebuild) runs. -#}
{{ tally.orders_campaign_mart_config(
    unique_key=['organization_id', 'campaign_id', 'is_holdout'],
) }}
-- depends_on: {{ ref('stg_orders__attributions') }}

with organizations as (
    select * from {{ ref('stg_orders__organizations') }}
    where aggregation_timezone is not null
),

recipients as (
    select r.*
    from {{ tally.orders_campaign_rows(ref('stg_orders__campaign_recipients')) }} as r
    where r.campaign_id is not null
),

qualified as (
    select q.*
    from {{ tally.orders_campaign_rows(ref('int_orders__attributions_qualified')) }} as q
),

recipient_counts as (
    select
        recipients.organization_id,
        recipients.campaign_id,
        coalesce(recipients.is_holdout, false) as is_holdout,
        count(*) as recipients
    from recipients
    inner join organizations on recipients.organization_id = organizations.organization_id
    group by 1, 2, 3
),

order_totals as (
    select
        qualified.organization_id,
        qualified.campaign_id,
        qualified.is_holdout,
        count(*) as total_orders,
        sum(qualified.order_value) as revenue,
        count(distinct qualified.customer_id) as unique_customers,
        count(distinct qualified.recipient_id) as converted_recipients
    from qualified
    group by 1, 2, 3
),

final as (
    select
        coalesce(recipient_counts.organization_id, order_totals.organization_id)
            as organization_id,
        coalesce(recipient_counts.campaign_id, order_totals.campaign_id) as campaign_id,
        coalesce(recipient_counts.is_holdout, order_totals.is_holdout) as is_holdout,
        cast(coalesce(recipient_counts.recipients, 0) as bigint) as recipients,
        cast(coalesce(order_totals.converted_recipients, 0) as bigint) as converted_recipients,
        cast(coalesce(order_totals.total_orders, 0) as bigint) as total_orders,
        cast(coalesce(order_totals.revenue, 0) as numeric(16, 2)) as revenue,
        cast(coalesce(order_totals.unique_customers, 0) as bigint) as unique_customers,
        {{ tally.lineage_columns() }}
    from recipient_counts
    full outer join order_totals
        on recipient_counts.organization_id = order_totals.organization_id
        and recipient_counts.campaign_id = order_totals.campaign_id
        and recipient_counts.is_holdout = order_totals.is_holdout
)

select * from final
