{#- Hooks of the platform marts (seed 004). See docs/platform.md. -#}

{#- After `sliding_window_prepare`: never recompute buckets before the retention horizon
    of the raw table (their raw rows are gone, the stored aggregates are the only copy).
    Whole-tenant entries of workspaces that still exist become [horizon, infinity):
    every clamped entry is a `range` (sliding_window_affected.sql). -#}
{% macro platform_clamp_to_horizon(relation_name) %}
    {{ return(adapter.dispatch('platform_clamp_to_horizon', 'tally')(relation_name)) }}
{% endmacro %}

{% macro default__platform_clamp_to_horizon(relation_name) %}
    {{ tally.not_implemented('platform_clamp_to_horizon') }}
{% endmacro %}

{% macro postgres__platform_clamp_to_horizon(relation_name) %}
    {%- if tally.sliding_window_mode() == 'full' -%}
    select 1
    {%- else -%}
    {%- set affected = tally.sliding_window_affected() -%}
    update {{ affected }} as sw set
        kind = 'range',
        lo = h.horizon,
        day_bucket = coalesce(sw.day_bucket, cast(h.horizon at time zone 'UTC' as date))
    from ops.retention_horizons as h
    where h.relation = '{{ relation_name }}'
        and sw.lo < h.horizon
        and exists (
            select 1 from {{ ref('stg_platform__workspaces') }} as tn
            where tn.workspace_id = sw.tenant_id
        );
    delete from {{ affected }} where lo >= hi
    {%- endif -%}
{% endmacro %}


{#- Post-hook of an hourly mart: queue what this run recomputed for each coarser rollup
    (`consumers`: model names). A full build queues every workspace whole. -#}
{% macro platform_enqueue_rollups(consumers) %}
    {{ return(adapter.dispatch('platform_enqueue_rollups', 'tally')(consumers)) }}
{% endmacro %}

{% macro default__platform_enqueue_rollups(consumers) %}
    {{ tally.not_implemented('platform_enqueue_rollups') }}
{% endmacro %}

{% macro postgres__platform_enqueue_rollups(consumers) %}
    insert into ops.platform_rollup_queue (consumer, workspace_id, lo, hi)
    select distinct c.consumer, a.tenant_id, a.lo, a.hi
    from (
        {%- if tally.sliding_window_mode() == 'full' %}
        select
            tn.workspace_id as tenant_id,
            cast('-infinity' as timestamptz) as lo,
            cast('infinity' as timestamptz) as hi
        from {{ ref('stg_platform__workspaces') }} as tn
        {%- else %}
        select sw.tenant_id, sw.lo, sw.hi from {{ tally.sliding_window_affected() }} as sw
        {%- endif %}
    ) as a
    cross join (
        values {% for c in consumers %}('{{ c }}'){{ ', ' if not loop.last }}{% endfor %}
    ) as c (consumer)
    on conflict do nothing
{% endmacro %}


{#- Pre-hook of a rollup built from an hourly mart (grain 'day' or 'week').
    Consumes this model's queue entries and turns them into `range` rows of the
    `<model>__affected` table that bucket_replace and sliding_window_rows read: each [lo, hi) widened to
    whole UTC days/weeks, then cut to what the hourly mart still fully covers
    (bucket start >= its retention horizon) - older rollup rows are kept forever. -#}
{% macro platform_rollup_prepare(grain, hourly_relation) %}
    {{ return(adapter.dispatch('platform_rollup_prepare', 'tally')(grain, hourly_relation)) }}
{% endmacro %}

{% macro default__platform_rollup_prepare(grain, hourly_relation) %}
    {{ tally.not_implemented('platform_rollup_prepare') }}
{% endmacro %}

{% macro postgres__platform_rollup_prepare(grain, hourly_relation) %}
    {%- set affected = tally.sliding_window_affected() -%}
    {%- set step = "interval '1 " ~ grain ~ "'" -%}
    {%- if tally.sliding_window_mode() == 'full' -%}
    delete from ops.platform_rollup_queue where consumer = '{{ this.identifier }}'
    {%- else -%}
    {{ tally.sliding_window_affected_create() }};
    with consumed as (
        delete from ops.platform_rollup_queue as q
        where q.consumer = '{{ this.identifier }}'
        returning q.workspace_id, q.lo, q.hi
    ),

    horizon as (
        select coalesce(max(h.horizon), '-infinity') as horizon
        from ops.retention_horizons as h
        where h.relation = '{{ hourly_relation }}'
    ),

    widened as (
        select
            consumed.workspace_id,
            greatest(
                date_trunc('{{ grain }}', consumed.lo, 'UTC'),
                {{ tally.platform_ceil('horizon.horizon', grain) }}
            ) as lo,
            {{ tally.platform_ceil('consumed.hi', grain) }} as hi
        from consumed
        cross join horizon
    )

    insert into {{ affected }} (kind, tenant_id, day_bucket, lo, hi)
    select distinct
        'range',
        widened.workspace_id,
        cast(widened.lo at time zone 'UTC' as date),
        widened.lo,
        widened.hi
    from widened
    where widened.lo < widened.hi;
    analyze {{ affected }}
    {%- endif -%}
{% endmacro %}


{#- The first UTC day/week boundary at or after ts (infinities stay). -#}
{% macro platform_ceil(ts, grain) -%}
    case
        when {{ tally.utc_trunc(grain, ts) }} = {{ ts }} then {{ ts }}
        else {{ tally.utc_trunc(grain, ts) }} + interval '1 {{ grain }}'
    end
{%- endmacro %}
