{#- The lineage columns every mart row carries: when and by which dbt run its current
    values were written. -#}
{% macro lineage_columns() -%}
    now() as last_updated,
    cast('{{ invocation_id }}' as {{ tally.text_type() }}) as run_id
{%- endmacro %}
