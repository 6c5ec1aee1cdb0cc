{#- The rows of the affected buckets as a FROM item - how a mart reads its input:
    `from {{ tally.sliding_window_rows(ref('int_x'), 'tenant_col', 'ts_col') }} as q`.
    One LATERAL index range scan per affected row (sliding_window_lateral), so the cost
    follows the affected buckets, not the history: a plain join or EXISTS with range
    conditions is mis-estimated and ends in a scan of the whole table. With a bucket
    key (`key_col`), `key_day` rows use an index on (key, ts) and `tenant`/`day` rows
    one on (tenant, ts); the affected set never holds a key's day inside a `day` row of
    the same tenant and day, so no row comes twice. Full mode: the relation itself. -#}
{% macro sliding_window_rows(relation, tenant_col, ts_col, scope_col=none, key_col=none) -%}
    {%- if tally.sliding_window_mode() == 'full' -%}
    {{ relation }}
    {%- else -%}
    {%- set conditions = tally.sliding_window_conditions(tenant_col, ts_col, scope_col, key_col) -%}
    (
        {{ tally.sliding_window_lateral(relation, conditions.day, conditions.day_kinds) }}
        {%- if key_col is not none %}
        union all
        {{ tally.sliding_window_lateral(relation, conditions.key, conditions.key_kinds) }}
        {%- endif %}
    )
    {%- endif -%}
{%- endmacro %}


{#- The lookup conditions of sliding_window_rows / sliding_window_grouped (relation alias
    r, affected row sw): `day` for `tenant`, `day` (and platform `range`) rows,
    restricted to the scope of a scoped rebuild; `key` for `key_day` rows (none without
    a key column); `day_kinds`/`key_kinds`: the filter on sw of each (none: every row). -#}
{% macro sliding_window_conditions(tenant_col, ts_col, scope_col, key_col) -%}
    {%- set scope = tally.sliding_window_scope() -%}
    {%- set in_bucket = ['r.' ~ tenant_col ~ ' = sw.tenant_id', 'r.' ~ ts_col ~ ' >= sw.lo', 'r.' ~ ts_col ~ ' < sw.hi'] -%}
    {%- set in_scope = ['r.' ~ scope_col ~ ' = ' ~ scope[1]] if scope is not none and scope_col is not none else [] -%}
    {{ return({
        'day': in_bucket + in_scope,
        'day_kinds': "sw.kind <> 'key_day'" if key_col is not none else none,
        'key': (['r.' ~ key_col ~ ' = sw.key_value'] + in_bucket) if key_col is not none else none,
        'key_kinds': "sw.kind = 'key_day'",
    }) }}
{%- endmacro %}
