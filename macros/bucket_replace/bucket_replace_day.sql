{#- The partition day of a mart row whose bucket value is the SQL expression `bucket`, by
    the model's bucket_kind: 'day' the date itself; 'instant' (hourly and weekly platform
    buckets, metric_snapshots) its UTC date; none for 'key' (not day-bucketed: nothing to
    mark). The same days as orchestration/partition_status.py's _DAY_COLUMNS. -#}
{% macro bucket_replace_day(bucket) %}
    {{ return(adapter.dispatch('bucket_replace_day', 'tally')(bucket)) }}
{% endmacro %}

{% macro default__bucket_replace_day(bucket) %}
    {%- set kind = config.get('bucket_kind', 'day') -%}
    {%- if kind == 'day' -%}
        {{ return(bucket) }}
    {%- elif kind == 'key' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ tally.not_implemented('bucket_replace_day') }}
{% endmacro %}

{#- `at time zone 'UTC'` of a timestamptz is its UTC wall time -#}
{% macro postgres__bucket_replace_day(bucket) %}
    {%- if config.get('bucket_kind', 'day') == 'instant' -%}
        {{ return('cast((' ~ bucket ~ ") at time zone 'UTC' as date)") }}
    {%- endif -%}
    {{ return(tally.default__bucket_replace_day(bucket)) }}
{% endmacro %}
