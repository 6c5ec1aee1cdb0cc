{#- Per (organization, campaign, is_holdout) lifetime totals. Key-mode sliding window
    with a ledger (macros/orders/orders_recipient_ledger.sql): orders, revenue, unique
    customers and converted recipients (the arm's campaign_recipients rows - arm as
    sent - whose recipient has >= 1 qualifying order of the campaign, so never more than
    the arm's recipients; issue 16 F2) are sums and counts of the ledger's
    per-customer and per-recipient rows, so a tick changes a campaign side by the
    difference its changed customers and recipients made (<model>__delta) instead of
    re-reading the campaign. Whole tenants (new, re-versioned, gone, rebuilt) and a
    backfill's campaigns are aggregated from their recomputed ledger rows; the full build
    from the whole ledger. Recipients come from staging: recounted for whole scopes and
    for campaigns with a changed recipient row, carried over otherwise. It does not ref
    the other order marts on purpose: an in-asset dependency between partitioned dbt
    assets breaks Dagster's unpartitioned (tick/rebuild) runs.
    On Spark (docs/scale-out.md) there is no ledger: the mart is partitioned by
    organization, and every affected organization (a change of its attributions or
    recipients, a whole tenant, a rebuild; every organization in a backfill) is
    recomputed whole, from the ledger's own row definitions over raw, and its partition
    overwritten. -#}
{{ tally.orders_campaign_mart_config(
    unique_key=['organization_id', 'campaign_id', 'is_holdout'],
    pre_hook="{{ tally.orders_recipient_ledger_refresh() }}",
) }}
-- depends_on: {{ ref('stg_orders__attributions') }}
-- depends_on: {{ ref('int_orders__attributions_qualified') }}
{%- set mode = tally.sliding_window_mode() %}
{%- set customer_ledger = tally.orders_recipient_ledger('customers') if execute else none %}
{%- set recipient_ledger = tally.orders_recipient_ledger('recipients') if execute else none %}

with organizations as (
    select * from {{ ref('int_orders__organizations_validated') }}
    where aggregation_timezone is not null
),

{%- if adapter.type() == 'spark' %}

-- Spark: the affected organizations whole (every one in a full build), from raw
qualified as (
    select q.*
    from {{ ref('int_orders__attributions_qualified') }} as q
    {%- if mode != 'full' %}
    where q.organization_id in (select sw.tenant_id from {{ tally.spark_affected() }} as sw)
    {%- endif %}
),

recipients as (
    select r.*
    from {{ ref('stg_orders__campaign_recipients') }} as r
    where r.campaign_id is not null
    {%- if mode != 'full' %}
        and r.organization_id in (select sw.tenant_id from {{ tally.spark_affected() }} as sw)
    {%- endif %}
),

customer_rows as (
    {{ tally._orders_customer_ledger_rows('qualified') }}
),

recipient_rows as (
    {{ tally._orders_recipient_ledger_rows('recipients', 'qualified') }}
),
{%- elif mode == 'full' %}

recipients as (
    select r.*
    from {{ ref('stg_orders__campaign_recipients') }} as r
    where r.campaign_id is not null
),

customer_rows as (
    select * from {{ customer_ledger }}
),

recipient_rows as (
    select * from {{ recipient_ledger }}
),
{%- else %}

-- whole scopes: tenants (with a rebuild's campaign), a backfill's campaigns
scopes as (
    select sw.tenant_id, sw.key_value
    from {{ tally.sliding_window_affected() }} as sw
    {%- if mode != 'backfill' %}
    where sw.kind = 'tenant'
    {%- endif %}
),

recipients as (
    select r.*
    from {{ tally.orders_campaign_rows(ref('stg_orders__campaign_recipients'), by_key=(mode == 'backfill')) }} as r
    where r.campaign_id is not null
),

customer_rows as (
    {{ tally._orders_scope_rows(customer_ledger) }}
),

recipient_rows as (
    {{ tally._orders_scope_rows(recipient_ledger) }}
),
{%- endif %}

recipient_counts as (
    select
        recipients.organization_id,
        recipients.campaign_id,
        recipients.is_holdout,
        count(*) as recipients
    from recipients
    inner join organizations on recipients.organization_id = organizations.organization_id
    -- a recipient row without an arm is in neither (assert_orders_raw_rules counts it)
    where recipients.is_holdout is not null
    group by 1, 2, 3
),

order_totals as (
    select
        customer_rows.organization_id,
        customer_rows.campaign_id,
        customer_rows.is_holdout,
        sum(customer_rows.orders) as total_orders,
        sum(customer_rows.revenue) as revenue,
        count(customer_rows.customer_id) as unique_customers
    from customer_rows
    group by 1, 2, 3
),

converted as (
    select
        recipient_rows.organization_id,
        recipient_rows.campaign_id,
        recipient_rows.is_holdout,
        count(*) as converted_recipients
    from recipient_rows
    group by 1, 2, 3
),

sides as (
    select organization_id, campaign_id, is_holdout from recipient_counts
    union
    select organization_id, campaign_id, is_holdout from order_totals
),

recomputed as (
    select
        sides.organization_id,
        sides.campaign_id,
        sides.is_holdout,
        coalesce(recipient_counts.recipients, 0) as recipients,
        coalesce(converted.converted_recipients, 0) as converted_recipients,
        coalesce(order_totals.total_orders, 0) as total_orders,
        coalesce(order_totals.revenue, 0) as revenue,
        coalesce(order_totals.unique_customers, 0) as unique_customers
    from sides
    left join recipient_counts using (organization_id, campaign_id, is_holdout)
    left join order_totals using (organization_id, campaign_id, is_holdout)
    left join converted using (organization_id, campaign_id, is_holdout)
),
{%- if mode == 'tick' and adapter.type() != 'spark' %}

-- tick: the campaigns of changed rows outside whole tenants - old row + ledger delta
changed_campaigns as (
    select sw.tenant_id, sw.key_value
    from {{ tally.sliding_window_affected() }} as sw
    where sw.kind = 'key'
),

-- campaigns with a changed recipient row: recounted (index on (organization, campaign))
recount as (
    select distinct ch.tenant_id, ch.key_value
    from {{ this.identifier ~ '__changed' }} as ch
    inner join changed_campaigns
        on ch.tenant_id = changed_campaigns.tenant_id
        and ch.key_value = changed_campaigns.key_value
    where ch.event = 'campaign_recipients'
),

recounted as (
    select r.organization_id, r.campaign_id, r.is_holdout, count(*) as recipients
    from recount
    cross join lateral (
        select r.*
        from {{ ref('stg_orders__campaign_recipients') }} as r
        where r.organization_id = recount.tenant_id
            and r.campaign_id = recount.key_value
        offset 0
    ) as r
    where r.is_holdout is not null
    group by 1, 2, 3
),

old_rows as (
    select t.*
    from changed_campaigns
    inner join {{ this }} as t
        on t.organization_id = changed_campaigns.tenant_id
        and t.campaign_id = changed_campaigns.key_value
),

delta as (
    select d.* from {{ this.identifier ~ '__delta' }} as d
),

changed_sides as (
    select organization_id, campaign_id, is_holdout from old_rows
    union
    select organization_id, campaign_id, is_holdout from delta
    union
    select organization_id, campaign_id, is_holdout from recounted
),

updated as (
    select
        changed_sides.organization_id,
        changed_sides.campaign_id,
        changed_sides.is_holdout,
        case
            when recount.key_value is not null then coalesce(recounted.recipients, 0)
            else coalesce(old_rows.recipients, 0)
        end as recipients,
        coalesce(old_rows.converted_recipients, 0) + coalesce(delta.converted, 0) as converted_recipients,
        coalesce(old_rows.total_orders, 0) + coalesce(delta.orders, 0) as total_orders,
        coalesce(old_rows.revenue, 0) + coalesce(delta.revenue, 0) as revenue,
        coalesce(old_rows.unique_customers, 0) + coalesce(delta.customers, 0) as unique_customers
    from changed_sides
    left join old_rows using (organization_id, campaign_id, is_holdout)
    left join delta using (organization_id, campaign_id, is_holdout)
    left join recounted using (organization_id, campaign_id, is_holdout)
    left join recount
        on changed_sides.organization_id = recount.tenant_id
        and changed_sides.campaign_id = recount.key_value
),

totals as (
    select * from recomputed
    union all
    -- a side without recipients and orders is gone
    select * from updated
    where updated.recipients > 0 or updated.total_orders > 0
),
{%- else %}

totals as (
    select * from recomputed
),
{%- endif %}

final as (
    select
        totals.organization_id,
        totals.campaign_id,
        totals.is_holdout,
        cast(totals.recipients as bigint) as recipients,
        cast(totals.converted_recipients as bigint) as converted_recipients,
        cast(totals.total_orders as bigint) as total_orders,
        cast(totals.revenue as numeric(16, 2)) as revenue,
        cast(totals.unique_customers as bigint) as unique_customers,
        {{ tally.lineage_columns() }}
    from totals
)

select * from final
