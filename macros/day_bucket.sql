{#- Timezone-aware day bucketing. A local day in an IANA zone is 23, 24 or 25 hours
    long; half-hour and 45-minute offsets work because PostgreSQL's tz database does
    the conversion. -#}

{% macro day_bucket(ts, tz) -%}
    {{ return(adapter.dispatch('day_bucket', 'tally')(ts, tz)) }}
{%- endmacro %}

{% macro default__day_bucket(ts, tz) -%}
    {{ tally.not_implemented('day_bucket') }}
{%- endmacro %}

{#- `at time zone` with an IANA name: PostgreSQL's tz database -#}
{% macro postgres__day_bucket(ts, tz) -%}
    cast(({{ ts }}) at time zone ({{ tz }}) as date)
{%- endmacro %}

{#- the JVM's tz database; the session time zone is UTC (profiles.yml), so a timestamp
    is the UTC instant and from_utc_timestamp gives its local wall time -#}
{% macro spark__day_bucket(ts, tz) -%}
    to_date(from_utc_timestamp({{ ts }}, {{ tz }}))
{%- endmacro %}


{#- The instant a local day starts: `local_day_start(d, tz) <= ts < local_day_start(d + 1, tz)`
    is exactly `day_bucket(ts, tz) = d`, and it is sargable on `ts`. -#}
{% macro local_day_start(day, tz) -%}
    {{ return(adapter.dispatch('local_day_start', 'tally')(day, tz)) }}
{%- endmacro %}

{% macro default__local_day_start(day, tz) -%}
    {{ tally.not_implemented('local_day_start') }}
{%- endmacro %}

{#- a local timestamp `at time zone` an IANA name is the instant it names -#}
{% macro postgres__local_day_start(day, tz) -%}
    (cast({{ day }} as timestamp) at time zone ({{ tz }}))
{%- endmacro %}

{#- the local midnight read as wall time in the zone, converted to the UTC instant (the
    session time zone is UTC) -#}
{% macro spark__local_day_start(day, tz) -%}
    to_utc_timestamp(cast({{ day }} as timestamp), {{ tz }})
{%- endmacro %}


{#- Today's local date in a zone (today's running bucket). -#}
{% macro local_today(tz) -%}
    {{ tally.day_bucket('now()', tz) }}
{%- endmacro %}


{#- The set of valid IANA zone names, to left-join tenants against: an invalid name
    would make `at time zone` fail the whole statement, so staging nulls it out and one
    tenant's typo skips that tenant only (a failing check names it). Read from
    `ops.timezone_names`, a copy of pg_timezone_names refreshed at the start of every dbt
    invocation: scanning pg_timezone_names reads the tz database from disk (~20 ms), and a
    plan that re-evaluates the tenants view per affected bucket would pay that each time. -#}
{% macro timezone_names() -%}
    {{ return(adapter.dispatch('timezone_names', 'tally')()) }}
{%- endmacro %}

{#- portable: a plain table (filled from pg_catalog.pg_timezone_names by ensure_ops_schema) -#}
{% macro default__timezone_names() -%}
    (select tzn.name from ops.timezone_names as tzn)
{%- endmacro %}


{#- The first day of the block of `days` local days holding date `day`; blocks are
    counted from Monday 2001-01-01 (so 7- and 28-day blocks start on Mondays). Used by
    agg_order_running_totals, whose running totals restart at every block. -#}
{% macro day_block_start(day, days) -%}
    {{ return(adapter.dispatch('day_block_start', 'tally')(day, days)) }}
{%- endmacro %}

{% macro default__day_block_start(day, days) -%}
    {{ tally.not_implemented('day_block_start') }}
{%- endmacro %}

{#- date - date is a number of days -#}
{% macro postgres__day_block_start(day, days) -%}
    cast({{ day }} - (((cast({{ day }} as date) - date '2001-01-01') % {{ days }} + {{ days }}) % {{ days }}) as date)
{%- endmacro %}
