{#- The rows to compute per-customer day sequences from, for the rows of the affected
    buckets in the CTE `rows` (qualifying attributions): in full mode and for whole
    tenants the rows themselves (whole histories already); for key-day buckets the whole
    campaign history of every customer in them - one lookup per customer on the raw
    (campaign_id, customer_id) index (OFFSET 0 keeps each lookup an index scan). Used
    by agg_order_customer_day_pairs. -#}
{% macro orders_customer_history(rows, relation) %}
    {{ return(adapter.dispatch('orders_customer_history', 'tally')(rows, relation)) }}
{% endmacro %}

{% macro default__orders_customer_history(rows, relation) %}
    {{ tally.not_implemented('orders_customer_history') }}
{% endmacro %}

{% macro postgres__orders_customer_history(rows, relation) -%}
    {%- if tally.sliding_window_mode() == 'full' -%}
    select {{ rows }}.* from {{ rows }}
    {%- else -%}
    {%- set whole_tenants -%}
        select sw.tenant_id from {{ tally.sliding_window_affected() }} as sw
        where sw.kind = 'tenant'
    {%- endset -%}
    select {{ rows }}.*
    from {{ rows }}
    where {{ rows }}.organization_id in ({{ whole_tenants }})
    union all
    select history.*
    from (
        select distinct r.organization_id, r.campaign_id, r.customer_id
        from {{ rows }} as r
        where r.customer_id is not null
            and r.organization_id not in ({{ whole_tenants }})
    ) as customers
    cross join lateral (
        select q.*
        from {{ relation }} as q
        where q.campaign_id = customers.campaign_id
            and q.customer_id = customers.customer_id
            and q.organization_id = customers.organization_id
        offset 0
    ) as history
    {%- endif -%}
{%- endmacro %}
