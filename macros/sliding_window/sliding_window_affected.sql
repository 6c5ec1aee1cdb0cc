{#-
    The affected set: the temporary table `<model>__affected`, one row per bucket a run
    recomputes, for the model's transaction. Written by sliding_window_prepare (every
    sliding-window mart) and platform_rollup_prepare (the platform rollups); read by
    bucket_replace (what to delete), sliding_window_rows / _grouped / _filter (what to
    read) and the marts' own hooks. Every row says what it is in `kind`:

      kind      key_value  day_bucket  [lo, hi)                 the rows of ...
      tenant    null       null        (-infinity, infinity)    the whole tenant
      day       null       the day     the local day's instants one local day of the tenant
      key_day   the key    the day     the local day's instants one key's local day (bucket_key)
      key       the key    null        (-infinity, infinity)    one key, every day (key mode)
      range     null       first day   any instants             the tenant's instants in [lo, hi)
                                                                 (platform: UTC hours/days/weeks)

    The check constraint holds every producer to that table.
-#}
{% macro sliding_window_affected() -%}
    {{ this.identifier ~ '__affected' }}
{%- endmacro %}


{#- The affected set's DDL (dropped first: a second model in one session). -#}
{% macro sliding_window_affected_create() -%}
    {{ return(adapter.dispatch('sliding_window_affected_create', 'tally')()) }}
{%- endmacro %}

{% macro default__sliding_window_affected_create() -%}
    {{ tally.not_implemented('sliding_window_affected_create') }}
{%- endmacro %}

{#- a temporary table dropped at commit -#}
{% macro postgres__sliding_window_affected_create() -%}
    {%- set affected = tally.sliding_window_affected() %}
    drop table if exists {{ affected }};
    create temporary table {{ affected }} (
        kind text not null,
        tenant_id bigint not null,
        key_value bigint,
        day_bucket date,
        lo timestamp with time zone not null,
        hi timestamp with time zone not null,
        check (
            (kind = 'tenant' and key_value is null and day_bucket is null)
            or (kind = 'day' and key_value is null and day_bucket is not null)
            or (kind = 'key_day' and key_value is not null and day_bucket is not null)
            or (kind = 'key' and key_value is not null and day_bucket is null)
            or (kind = 'range' and key_value is null)
        )
    ) on commit drop
{%- endmacro %}
