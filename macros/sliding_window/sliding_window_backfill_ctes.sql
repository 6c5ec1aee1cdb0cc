{#- Backfill: the local days window_start..window_end of every valid tenant (or of the
    one of spec backfill_tenant_var). With a `follow` event later buckets depend on
    these days: through today. Key mode: every (tenant, key) with a row in those days. -#}
{% macro sliding_window_backfill_ctes(spec) %}
    {{ return(adapter.dispatch('sliding_window_backfill_ctes', 'tally')(spec)) }}
{% endmacro %}

{% macro default__sliding_window_backfill_ctes(spec) %}
    {{ tally.not_implemented('sliding_window_backfill_ctes') }}
{% endmacro %}

{% macro postgres__sliding_window_backfill_ctes(spec) -%}
    {%- set tenant = tally.sliding_window_tenant(spec, 'backfill') -%}
    whole as (
        select cast(null as bigint) as tenant_id where false
    ),

    days as (
        select valid.tenant_id, cast(d as date) as day_bucket, cast(null as bigint) as key_value
        from valid
        cross join generate_series(
            cast('{{ tally.run_var("window_start") }}' as date),
            {%- if spec.events | selectattr('follow') | list %}
            -- later buckets depend on these days (spec `follow`): recompute through today
            greatest(cast('{{ tally.run_var("window_end") }}' as date), {{ tally.local_today('valid.tz') }}),
            {%- else %}
            cast('{{ tally.run_var("window_end") }}' as date),
            {%- endif %}
            interval '1 day'
        ) as d
        {%- if tenant is not none %}
        -- optional: a backfill of one tenant only (spec key backfill_tenant_var)
        where valid.tenant_id = {{ tenant }}
        {%- endif %}
    ),

    keys as (
        {%- if spec.key %}
        {%- for e in spec.events %}
        select distinct ev.{{ e.tenant }} as tenant_id, ev.{{ e.key }} as key_value
        from days
        inner join valid on days.tenant_id = valid.tenant_id
        inner join {{ ref(e.model) }} as ev
            on ev.{{ e.tenant }} = days.tenant_id
            and ev.{{ e.ts }} >= {{ tally.local_day_start('days.day_bucket', 'valid.tz') }}
            and ev.{{ e.ts }} < {{ tally.local_day_start('days.day_bucket + 1', 'valid.tz') }}
        {%- if not loop.last %}
        union
        {%- endif %}
        {%- endfor %}
        {%- else %}
        select cast(null as bigint) as tenant_id, cast(null as bigint) as key_value where false
        {%- endif %}
    ),
{%- endmacro %}
