{#- Every row of `relation` (qualifying attributions) of the (organization_id,
    campaign_id, customer_id) rows of the CTE `customers` - the whole campaign history of
    those customers, one lookup each on the raw (campaign_id, customer_id) index (OFFSET 0
    keeps each lookup an index scan). Used by agg_order_customer_day_pairs and
    agg_order_running_totals for the customers of their affected days. -#}
{% macro orders_customer_history(customers, relation) -%}
    select history.*
    from {{ customers }}
    cross join lateral (
        select q.*
        from {{ relation }} as q
        where q.campaign_id = {{ customers }}.campaign_id
            and q.customer_id = {{ customers }}.customer_id
            and q.organization_id = {{ customers }}.organization_id
        offset 0
    ) as history
{%- endmacro %}
