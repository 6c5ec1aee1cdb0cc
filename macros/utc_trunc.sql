{#- The start of the UTC `grain` ('hour', 'day', 'week' = ISO Monday) holding the
    instant `ts` (a timestamptz expression), whatever the session's time zone. The
    platform marts' buckets. -#}
{% macro utc_trunc(grain, ts) -%}
    {{ return(adapter.dispatch('utc_trunc', 'tally')(grain, ts)) }}
{%- endmacro %}

{% macro default__utc_trunc(grain, ts) -%}
    {{ tally.not_implemented('utc_trunc') }}
{%- endmacro %}

{#- date_trunc's third argument (a time zone) is PostgreSQL's -#}
{% macro postgres__utc_trunc(grain, ts) -%}
    date_trunc('{{ grain }}', {{ ts }}, 'UTC')
{%- endmacro %}

{#- the session time zone is UTC (profiles.yml); Spark's weeks start on Monday -#}
{% macro spark__utc_trunc(grain, ts) -%}
    date_trunc('{{ grain }}', {{ ts }})
{%- endmacro %}
