{#-
    The customer-day ledger of agg_order_running_totals: the pair measures of a day
    (customer days, returns, revenue products) are sums over the customers on that day
    of a term that depends on the customer's whole campaign history (revenue through /
    from the day, earlier / later days). A late change to one order changes the terms of
    that customer only, on every one of its days - but recomputing those days from raw
    meant reading the campaign history of every customer on them (~125k lookups for
    5,000 late updates). The ledger keeps what the mart was last computed from:

        <mart>__customer_days (organization_id, campaign_id, is_holdout, customer_id,
                               day_bucket, revenue)  - qualifying revenue per customer
                               and local day; primary key (organization_id,
                               campaign_id, customer_id, is_holdout, day_bucket)

    Tick (pre-hook, after the sliding window's prepare): the (campaign, customer) pairs
    of the changed rows (<mart>__changed: new and captured old versions) outside whole
    tenants go to <mart>__changed_customers; their ledger rows (the history the mart was
    computed from) to <mart>__customer_days_old, their rows now (one index-only lookup
    each on raw (campaign_id, customer_id)) to <mart>__customer_days_new; then their
    ledger rows are replaced. The model adds, per affected day, the terms of the new
    histories and takes away those of the old ones (the other customers' terms are
    unchanged). Recomputing a customer twice (watermark lag) adds nothing the second
    time, so the mart's pair measures always equal the terms of its ledger.
    Whole tenants (new, re-versioned, gone, rebuilt - with a rebuild's campaign scope;
    every tenant in a backfill): their ledger rows are rebuilt from raw. Full build:
    rebuilt from raw. Runs of the mart take turns (tally.mart_lock).
-#}

{% macro orders_running_ledger_relation() -%}
    {{ return(tally.internal_relation(this.identifier ~ '__customer_days')) }}
{%- endmacro %}


{#- The ledger rows of `relation` (qualifying attributions with day_bucket, alias q). -#}
{% macro _orders_customer_day_rows(relation) -%}
    select q.organization_id, q.campaign_id, q.is_holdout, q.customer_id, q.day_bucket,
        sum(q.order_value) as revenue
    from {{ relation }} as q
    where q.customer_id is not null
    group by 1, 2, 3, 4, 5
{%- endmacro %}


{% macro orders_running_ledger_refresh() %}
    {{ return(adapter.dispatch('orders_running_ledger_refresh', 'tally')()) }}
{% endmacro %}

{% macro default__orders_running_ledger_refresh() %}
    {{ tally.not_implemented('orders_running_ledger_refresh') }}
{% endmacro %}

{% macro postgres__orders_running_ledger_refresh() %}
    {%- if not execute -%}
        select 1
    {%- else -%}
    {%- set ledger = tally.orders_running_ledger_relation() -%}
    {%- set mode = tally.sliding_window_mode() -%}
    {%- set qualified = ref('int_orders__attributions_qualified') -%}
    {%- if mode == 'full' %}
    drop table if exists {{ ledger }};
    create table {{ ledger }} as {{ tally._orders_customer_day_rows(qualified) }};
    alter table {{ ledger }} add primary key (organization_id, campaign_id, customer_id, is_holdout, day_bucket);
    analyze {{ ledger }}
    {%- else -%}
    {{- tally.orders_require_side_tables([ledger], 'customer-day ledger') -}}
    {%- set affected = tally.sliding_window_affected() -%}
    {%- set prefix = this.identifier ~ '__' %}
    -- whole tenants (a rebuild's campaign scope): rebuilt from raw
    {{ tally.orders_delete_whole_scopes(ledger) }};
    insert into {{ ledger }}
    {{ tally._orders_customer_day_rows(tally.orders_campaign_rows(qualified, by_key=false)) }};
    {%- if mode == 'tick' %}
    -- tick: the changed rows' (campaign, customer) pairs outside whole tenants
    create temporary table {{ prefix }}changed_customers on commit drop as
    {{ tally._orders_changed_entities('customer_id', require=true) }};
    analyze {{ prefix }}changed_customers;
    -- the histories the mart was computed from ...
    create temporary table {{ prefix }}customer_days_old on commit drop as
    select l.*
    from {{ prefix }}changed_customers as e
    inner join {{ ledger }} as l
        on l.organization_id = e.tenant_id
        and l.campaign_id = e.campaign_id
        and l.customer_id = e.customer_id;
    -- ... and the histories now
    create temporary table {{ prefix }}customer_days_new on commit drop as
    {{ tally._orders_customer_day_rows('(' ~ tally.postgres__orders_entity_rows(qualified, prefix ~ 'changed_customers', 'customer_id') ~ ')') }};
    -- every day of those histories is rewritten: the prepare found them through raw
    -- a moment ago, but a write in between can move an order to a day it did not see
    insert into {{ affected }} (kind, tenant_id, key_value, day_bucket, lo, hi)
    select
        'key_day',
        d.organization_id,
        d.campaign_id,
        d.day_bucket,
        {{ tally.local_day_start('d.day_bucket', 'o.aggregation_timezone') }},
        {{ tally.local_day_start('d.day_bucket + 1', 'o.aggregation_timezone') }}
    from (
        select c.organization_id, c.campaign_id, c.day_bucket from {{ prefix }}customer_days_old as c
        union
        select c.organization_id, c.campaign_id, c.day_bucket from {{ prefix }}customer_days_new as c
    ) as d
    inner join {{ ref('int_orders__organizations_validated') }} as o
        on o.organization_id = d.organization_id
    where o.aggregation_timezone is not null
        and not exists (
            select 1 from {{ affected }} as sw
            where sw.tenant_id = d.organization_id
                and sw.key_value = d.campaign_id
                and sw.day_bucket = d.day_bucket
        );
    delete from {{ ledger }} as l
    using {{ prefix }}changed_customers as e
    where l.organization_id = e.tenant_id
        and l.campaign_id = e.campaign_id
        and l.customer_id = e.customer_id;
    insert into {{ ledger }} select * from {{ prefix }}customer_days_new;
    analyze {{ prefix }}customer_days_old;
    analyze {{ prefix }}customer_days_new;
    {%- endif %}
    select 1
    {%- endif -%}
    {%- endif -%}
{% endmacro %}
