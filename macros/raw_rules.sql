{#- The failing rows of a raw-rules check (issue 16 F4): one row per (raw table,
    column) whose declared `not_null` rule (the domain's _<domain>__sources.yml) some
    rows changed in the last var('reconcile_days') days break, with their number - those
    rows are left out of the domain's marts. `source_name`: the dbt source; `rules`:
    {table: [column, ...]}; `left_out`: where the rows are left out (for the message).
    The tick counts through the raw (updated_at) index; the source tests
    (`tally dbt -- test --select source:<source_name>`) count every row. -#}
{% macro raw_rules_failures(source_name, rules, left_out) -%}
with
{%- for table, columns in rules.items() %}
{{ table }}_rows as (
    select
        {%- for c in columns %}
        count(*) filter (where r.{{ c }} is null) as {{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ source(source_name, table) }} as r
    where r.updated_at > now() - interval '{{ var("reconcile_days") | int }} days'
),
{%- endfor %}

final as (
    {%- for table, columns in rules.items() %}
    {%- set outer = loop %}
    {%- for c in columns %}
    select
        'raw.{{ table }}' as table_name,
        '{{ c }}' as column_name,
        {{ table }}_rows.{{ c }} as null_rows,
        'raw.{{ table }}.{{ c }} is NULL in ' || {{ table }}_rows.{{ c }}
            || ' rows changed in the last {{ var("reconcile_days") | int }} days: they are left out of {{ left_out }}' as problem
    from {{ table }}_rows
    where {{ table }}_rows.{{ c }} > 0
    {%- if not (outer.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
)

select * from final
{%- endmacro %}
