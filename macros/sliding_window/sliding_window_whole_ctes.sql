{#- Rebuild (and backfill with spec backfill_whole): whole tenants only - the rebuilt
    one, or every tenant of a backfill (optionally the one of backfill_tenant_var): a
    mart whose rows depend on every earlier day, e.g. running totals. -#}
{% macro sliding_window_whole_ctes(spec, mode) -%}
    {%- set tenant = tally.sliding_window_tenant(spec, mode) -%}
    whole as (
        select valid.tenant_id from valid
        {%- if tenant is not none %}
        where valid.tenant_id = {{ tenant }}
        {%- endif %}
    ),

    days as (
        select cast(null as bigint) as tenant_id, cast(null as date) as day_bucket,
            cast(null as bigint) as key_value
        where false
    ),

    keys as (
        select cast(null as bigint) as tenant_id, cast(null as bigint) as key_value where false
    ),
{%- endmacro %}
