{#- The rows of the affected (organization, campaign) pairs of a key-mode sliding window
    as a FROM item: `from {{ tally.orders_campaign_rows(ref('int_x')) }} as q`. One
    LATERAL lookup per affected campaign (raw index on campaign_id) and per whole tenant
    (index on organization_id), OFFSET 0 so it is not flattened: the OR form of
    sliding_window_key_filter is planned as a scan of every raw row when the model reads
    the rows more than once. In full mode it is the relation itself; a campaign-scoped
    rebuild keeps only that campaign. -#}
{% macro orders_campaign_rows(relation, tenant_col='organization_id', key_col='campaign_id') -%}
    {%- if tally.sliding_window_mode() == 'full' -%}
    {{ relation }}
    {%- else -%}
    {%- set scope = tally.sliding_window_scope() -%}
    (
        select ocr.*
        from {{ tally.sliding_window_affected() }} as sw
        cross join lateral (
            select r.*
            from {{ relation }} as r
            where r.{{ tenant_col }} = sw.tenant_id
                and r.{{ key_col }} = sw.key_value
                {%- if scope is not none %}
                and r.{{ key_col }} = {{ scope[1] }}
                {%- endif %}
            offset 0
        ) as ocr
        where sw.key_value is not null
        union all
        select ocr.*
        from {{ tally.sliding_window_affected() }} as sw
        cross join lateral (
            select r.*
            from {{ relation }} as r
            where r.{{ tenant_col }} = sw.tenant_id
                {%- if scope is not none %}
                and r.{{ key_col }} = {{ scope[1] }}
                {%- endif %}
            offset 0
        ) as ocr
        where sw.key_value is null
    )
    {%- endif -%}
{%- endmacro %}
