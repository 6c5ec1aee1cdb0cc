{#- The rows of the affected (organization, campaign) pairs of a key-mode sliding window
    as a FROM item: `from {{ tally.orders_campaign_rows(ref('int_x')) }} as q`.

    Up to var('orders_campaign_lookups_max', 500) affected campaigns: one LATERAL lookup
    per campaign (raw index on campaign_id; OFFSET 0 so it is not flattened). Above that,
    one scan of the relation with a hashed (organization, campaign) check - thousands of
    index lookups of whole campaign histories cost more than reading raw once. The
    choice is made at run time (one-time filters on the affected set's size), so both
    forms are planned and one runs. Whole tenants: one lookup per tenant (index on
    organization_id). Full mode: the relation itself; a campaign-scoped rebuild keeps
    that campaign. `by_key=false`: only the whole tenants' rows. -#}
{% macro orders_campaign_rows(relation, tenant_col='organization_id', key_col='campaign_id', by_key=true) -%}
    {%- if tally.sliding_window_mode() == 'full' -%}
    {{ relation }}
    {%- elif not by_key -%}
    {#- whole tenants only (the key rows are handled by the caller) -#}
    ({{ tally._orders_campaign_lookup(relation, tenant_col, key_col, tally.sliding_window_scope(), by_key=false) }})
    {%- else -%}
    {%- set scope = tally.sliding_window_scope() -%}
    {%- set affected = tally.sliding_window_affected() -%}
    {%- set max_lookups = var('orders_campaign_lookups_max', 500) | int -%}
    {%- set n_keys = "(select count(*) from " ~ affected ~ " as swn where swn.kind = 'key')" -%}
    (
        {{ tally._orders_campaign_lookup(relation, tenant_col, key_col, scope, by_key=true) }}
            and {{ n_keys }} <= {{ max_lookups }}
        union all
        select r.*
        from {{ relation }} as r
        where {{ n_keys }} > {{ max_lookups }}
            and (r.{{ tenant_col }}, r.{{ key_col }}) in (
                select sw.tenant_id, sw.key_value from {{ affected }} as sw where sw.kind = 'key'
            )
            {%- if scope is not none %}
            and r.{{ key_col }} = {{ scope[1] }}
            {%- endif %}
        union all
        {{ tally._orders_campaign_lookup(relation, tenant_col, key_col, scope, by_key=false) }}
    )
    {%- endif -%}
{%- endmacro %}


{#- One LATERAL lookup per affected row: by (tenant, key) for key rows, by tenant for
    `tenant` rows. -#}
{% macro _orders_campaign_lookup(relation, tenant_col, key_col, scope, by_key) -%}
    {%- set conditions = ['r.' ~ tenant_col ~ ' = sw.tenant_id'] -%}
    {%- if by_key -%}{%- do conditions.append('r.' ~ key_col ~ ' = sw.key_value') -%}{%- endif -%}
    {%- if scope is not none -%}{%- do conditions.append('r.' ~ key_col ~ ' = ' ~ scope[1]) -%}{%- endif -%}
    {{ tally.sliding_window_lateral(relation, conditions, "sw.kind = '" ~ ('key' if by_key else 'tenant') ~ "'") }}
{%- endmacro %}
