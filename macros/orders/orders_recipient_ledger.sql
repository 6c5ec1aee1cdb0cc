{#-
    The ledger of agg_campaign_recipient_totals: lifetime distinct counts per campaign
    are not additive over days, so a late change to one order would otherwise make a run
    re-read the whole campaign (random late updates land in campaigns holding ~40 % of
    raw). Two tables in the internal schema (tally.internal_relation), kept in the
    model's transaction by its pre-hook:

        <mart>__customers  (organization_id, campaign_id, is_holdout, customer_id,
                            orders, revenue)  - qualifying orders of each customer of a
                            campaign side; one row for the orders without a customer
        <mart>__recipients (organization_id, campaign_id, is_holdout, recipient_id)
                            - the converted recipients: campaign_recipients rows of the
                            arm as sent (is_holdout of the recipient row, not of the
                            order) whose recipient has >= 1 qualifying order of that
                            campaign (issue 16 F2: an order re-attributed to a campaign
                            its recipient was never sent converts nobody there)

    The mart row of a campaign side is then: total_orders = sum(orders), revenue =
    sum(revenue), unique_customers = count(customer_id) over its customer rows,
    converted_recipients = count of its recipient rows (recipients from staging), so
    converted_recipients <= recipients always.

    Tick: the entities of the changed rows (<mart>__changed: new and captured old
    versions of attributions and of campaign_recipients, both carrying recipient_id) -
    (campaign, customer) and (campaign, recipient) - are recomputed from raw (one index
    lookup each: raw (campaign_id, customer_id) / (organization_id, recipient_id) /
    campaign_recipients (campaign_id, recipient_id)), the difference new - old per
    campaign side goes to <mart>__delta for the model (old mart row + delta), and the
    entities' ledger rows are replaced. Recomputing an entity twice (watermark lag) adds
    nothing the second time, so the mart always equals the sum of its ledger rows.
    Whole tenants (new, re-versioned, gone, rebuilt; with a rebuild's campaign scope)
    and a backfill's campaigns: their ledger rows are recomputed from raw and the model
    aggregates them. Full build: both tables rebuilt from raw. Runs of the mart take a
    transaction-level advisory lock first (tally.mart_lock; two concurrent runs would
    both add the same difference).
-#}

{% macro orders_recipient_ledger(kind) -%}
    {{ return(tally.internal_relation(this.identifier ~ '__' ~ kind)) }}
{%- endmacro %}


{#- The ledger rows of `relation` (qualifying attributions, alias q) as a SELECT. -#}
{% macro _orders_customer_ledger_rows(relation) -%}
    select q.organization_id, q.campaign_id, q.is_holdout, q.customer_id,
        count(*) as orders, sum(q.order_value) as revenue
    from {{ relation }} as q
    group by 1, 2, 3, 4
{%- endmacro %}

{#- The converted recipients as a SELECT: the recipient rows of `recipients` (alias r,
    campaign_recipients) with an arm and a recipient id, of which `orders` (qualifying
    attributions) holds >= 1 order of the same organization, campaign and recipient. -#}
{% macro _orders_recipient_ledger_rows(recipients, orders) -%}
    select distinct r.organization_id, r.campaign_id, r.is_holdout, r.recipient_id
    from {{ recipients }} as r
    where r.campaign_id is not null
        and r.is_holdout is not null
        and r.recipient_id is not null
        and exists (
            select 1 from {{ orders }} as q
            where q.organization_id = r.organization_id
                and q.campaign_id = r.campaign_id
                and q.recipient_id = r.recipient_id
        )
{%- endmacro %}


{% macro orders_recipient_ledger_refresh() %}
    {{ return(adapter.dispatch('orders_recipient_ledger_refresh', 'tally')()) }}
{% endmacro %}

{% macro default__orders_recipient_ledger_refresh() %}
    {{ tally.not_implemented('orders_recipient_ledger_refresh') }}
{% endmacro %}

{% macro postgres__orders_recipient_ledger_refresh() %}
    {%- if not execute -%}
        select 1
    {%- else -%}
    {%- set mode = tally.sliding_window_mode() -%}
    {%- set customers = tally.orders_recipient_ledger('customers') -%}
    {%- set recipients = tally.orders_recipient_ledger('recipients') -%}
    {%- set qualified = ref('int_orders__attributions_qualified') -%}
    {%- set sent = ref('stg_orders__campaign_recipients') -%}
    {%- if mode == 'full' %}
    drop table if exists {{ customers }};
    create table {{ customers }} as {{ tally._orders_customer_ledger_rows(qualified) }};
    create unique index on {{ customers }} (organization_id, campaign_id, customer_id, is_holdout) nulls not distinct;
    drop table if exists {{ recipients }};
    create table {{ recipients }} as {{ tally._orders_recipient_ledger_rows(sent, qualified) }};
    create unique index on {{ recipients }} (organization_id, campaign_id, recipient_id, is_holdout);
    analyze {{ customers }};
    analyze {{ recipients }}
    {%- else -%}
    {{- tally.orders_require_side_tables([customers, recipients], 'ledger') -}}
    {%- set affected = tally.sliding_window_affected() -%}
    {%- set scope = tally.sliding_window_scope() -%}
    {#- recomputed whole: tenants, and in a backfill the window days' campaigns -#}
    {%- for ledger in [customers, recipients] %}
    {{ tally.orders_delete_whole_scopes(ledger) }};
    {%- if mode == 'backfill' %}
    delete from {{ ledger }} as l
    using {{ affected }} as sw
    where l.organization_id = sw.tenant_id
        and l.campaign_id = sw.key_value;
    {%- endif %}
    {%- endfor %}
    -- their qualifying rows, read once for both ledgers
    drop table if exists {{ this.identifier ~ '__whole_rows' }};
    create temporary table {{ this.identifier ~ '__whole_rows' }} on commit drop as
    select q.organization_id, q.campaign_id, q.is_holdout, q.customer_id, q.recipient_id, q.order_value
    from {{ tally.orders_campaign_rows(qualified, by_key=(mode == 'backfill')) }} as q;
    insert into {{ customers }} {{ tally._orders_customer_ledger_rows(this.identifier ~ '__whole_rows') }};
    insert into {{ recipients }} {{ tally._orders_recipient_ledger_rows(
        tally.orders_campaign_rows(sent, by_key=(mode == 'backfill')), this.identifier ~ '__whole_rows') }};
    {%- if mode == 'tick' %}
    {%- set prefix = this.identifier ~ '__' %}
    -- tick: the changed rows' entities outside whole tenants
    create temporary table {{ prefix }}customer_keys on commit drop as
    {{ tally._orders_changed_entities('customer_id', event='attributions') }};
    create temporary table {{ prefix }}recipient_keys on commit drop as
    {{ tally._orders_changed_entities('recipient_id', require=true) }};
    analyze {{ prefix }}customer_keys;
    analyze {{ prefix }}recipient_keys;
    -- their rows now: one index lookup per entity (OFFSET 0 keeps each a lookup)
    create temporary table {{ prefix }}customers_new on commit drop as
    {{ tally._orders_customer_ledger_rows('(' ~ tally.postgres__orders_entity_rows(qualified, prefix ~ 'customer_keys', 'customer_id') ~ ')') }};
    -- a changed recipient's rows as sent (its arms) with >= 1 qualifying order of the
    -- campaign now: campaign_recipients (campaign_id, recipient_id), raw attributions
    -- (organization_id, recipient_id)
    create temporary table {{ prefix }}recipients_new on commit drop as
    select distinct r.organization_id, r.campaign_id, r.is_holdout, r.recipient_id
    from {{ prefix }}recipient_keys as e
    cross join lateral (
        select r.*
        from {{ sent }} as r
        where r.organization_id = e.tenant_id
            and r.campaign_id = e.campaign_id
            and r.recipient_id = e.recipient_id
        offset 0
    ) as r
    where r.is_holdout is not null
        and exists (
            select 1 from {{ qualified }} as q
            where q.organization_id = e.tenant_id
                and q.campaign_id = e.campaign_id
                and q.recipient_id = e.recipient_id
        );
    -- new - old per campaign side, read before the ledger rows are replaced
    create temporary table {{ prefix }}delta on commit drop as
    with parts as (
        select n.organization_id, n.campaign_id, n.is_holdout,
            n.orders, n.revenue, case when n.customer_id is null then 0 else 1 end as customers,
            0 as converted
        from {{ prefix }}customers_new as n
        union all
        select o.organization_id, o.campaign_id, o.is_holdout,
            -o.orders, -o.revenue, case when o.customer_id is null then 0 else -1 end, 0
        from ({{ tally.postgres__orders_entity_rows(customers, prefix ~ 'customer_keys', 'customer_id') }}) as o
        union all
        select n.organization_id, n.campaign_id, n.is_holdout, 0, 0, 0, 1
        from {{ prefix }}recipients_new as n
        union all
        select o.organization_id, o.campaign_id, o.is_holdout, 0, 0, 0, -1
        from ({{ tally.postgres__orders_entity_rows(recipients, prefix ~ 'recipient_keys', 'recipient_id') }}) as o
    )

    select
        parts.organization_id, parts.campaign_id, parts.is_holdout,
        sum(parts.orders) as orders,
        sum(parts.revenue) as revenue,
        sum(parts.customers) as customers,
        sum(parts.converted) as converted
    from parts
    group by 1, 2, 3;
    {%- for ledger, keys, col in [(customers, 'customer_keys', 'customer_id'), (recipients, 'recipient_keys', 'recipient_id')] %}
    delete from {{ ledger }} as l
    using {{ prefix ~ keys }} as e
    where l.organization_id = e.tenant_id
        and l.campaign_id = e.campaign_id
        and l.{{ col }} = e.{{ col }};
    {%- if col == 'customer_id' %}
    delete from {{ ledger }} as l
    using {{ prefix ~ keys }} as e
    where l.organization_id = e.tenant_id
        and l.campaign_id = e.campaign_id
        and l.{{ col }} is null
        and e.{{ col }} is null;
    {%- endif %}
    insert into {{ ledger }} select * from {{ prefix }}{{ 'customers' if col == 'customer_id' else 'recipients' }}_new;
    {%- endfor %}
    {%- endif %}
    select 1
    {%- endif -%}
    {%- endif -%}
{% endmacro %}


{#- SELECT of the distinct (tenant_id, campaign_id, <col>) of a tick's changed rows
    (<model>__changed: new and captured old versions) outside whole tenants; with
    `require` only those with a <col> (a NULL <col> stands for the campaign's rows
    without one). Shared by the recipient-totals and running-totals ledgers. -#}
{% macro _orders_changed_entities(col, require=false, event=none) -%}
    select distinct ch.tenant_id, ch.key_value as campaign_id, ch.{{ col }}
    from {{ this.identifier ~ '__changed' }} as ch
    where ch.key_value is not null
        {%- if event is not none %}
        and ch.event = '{{ event }}'
        {%- endif %}
        {%- if require %}
        and ch.{{ col }} is not null
        {%- endif %}
        and not exists (
            select 1 from {{ tally.sliding_window_affected() }} as sw
            where sw.tenant_id = ch.tenant_id and sw.kind = 'tenant'
        )
{%- endmacro %}


{#- The rows of `relation` (alias r) of each entity (tenant_id, campaign_id, <col>) of
    `keys`: one LATERAL lookup per entity; a NULL <col> means the campaign's rows
    without one. -#}
{% macro postgres__orders_entity_rows(relation, keys, col) -%}
    {%- for match, entity in [('r.' ~ col ~ ' = e.' ~ col, 'e.' ~ col ~ ' is not null'),
                              ('r.' ~ col ~ ' is null', 'e.' ~ col ~ ' is null')] %}
        select r.*
        from {{ keys }} as e
        cross join lateral (
            select r.*
            from {{ relation }} as r
            where r.organization_id = e.tenant_id
                and r.campaign_id = e.campaign_id
                and {{ match }}
            offset 0
        ) as r
        where {{ entity }}
        {%- if not loop.last %}
        union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}


{#- The ledger rows of the model's whole scopes (CTE `scopes`: tenant_id, key_value
    NULL = the whole tenant), read after the pre-hook recomputed them. -#}
{% macro _orders_scope_rows(ledger) -%}
    {%- set scope = tally.sliding_window_scope() -%}
    select l.*
    from scopes
    inner join {{ ledger }} as l
        on l.organization_id = scopes.tenant_id
        and (scopes.key_value is null or l.campaign_id = scopes.key_value)
    {%- if scope is not none %}
    where l.{{ scope[0] }} = {{ scope[1] }}
    {%- endif %}
{%- endmacro %}
