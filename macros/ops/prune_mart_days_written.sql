{#- on-run-end: ops.mart_days_written rows older than 30 days go (as ops.model_failures').
    A run's partition marks read its rows right after its dbt invocation; the 30 days
    keep "which days did run X change" answerable for a month. An index range scan on
    recorded_at. -#}
{% macro prune_mart_days_written() %}
    {{ return(adapter.dispatch('prune_mart_days_written', 'tally')()) }}
{% endmacro %}

{% macro default__prune_mart_days_written() %}
    {{ tally.not_implemented('prune_mart_days_written') }}
{% endmacro %}

{#- interval arithmetic on now() -#}
{% macro postgres__prune_mart_days_written() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    delete from ops.mart_days_written where recorded_at < now() - interval '30 days'
{% endmacro %}
