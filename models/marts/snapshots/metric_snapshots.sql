{{
    config(
        materialized='incremental',
        incremental_strategy='bucket_replace',
        on_schema_change='fail',
        unique_key=['report_slug', 'window_name', 'bucket_start', 'dimension_key', 'dimension_value', 'metric_name'],
        bucket_column='bucket_start',
        bucket_kind='instant',
        affected_relation={'relation': 'metric_snapshots__ranges', 'match': ['report_slug', 'window_name']},
        sliding_window=tally.snapshots_sliding_window(),
        pre_hook=[
            "{{ tally.mart_lock() }}",
            "{{ tally.sliding_window_prepare() }}",
            "{{ tally.snapshot_ranges_prepare() }}",
        ],
        post_hook=[
            "{{ tally.snapshot_ranges_record() }}",
            "{{ tally.snapshot_rank_prefix_refresh() }}",
            "{{ tally.snapshot_week_check_refresh() }}",
            "{{ tally.sliding_window_record() }}",
            "{{ tally.mart_index('metric_snapshots_metric_idx', '(report_slug, window_name, metric_name, bucket_start) include (dimension_value, metric_value, run_id)') }}",
        ],
        tags=['sliding_window'],
    )
}}
{#- The report catalog's snapshots (seed 001): one row per report, window, UTC bucket,
    dimension value and metric. A report = a line in seeds/report_definitions.csv whose
    dimension_key is one of tally.snapshot_dimensions() and whose metrics are among
    tally.snapshot_metrics(). Buckets: date_trunc(window_name, occurred_at in UTC)
    (week = ISO Monday). Which buckets a run replaces: macros/snapshots/snapshot_ranges.sql. -#}
-- depends_on: {{ ref('int_snapshots__sources_versioned') }}
{%- set dimensions = tally.snapshot_dimensions() %}
{%- set metrics = tally.snapshot_metrics() %}

with events as (
    select * from {{ ref('stg_snapshots__analytics_events') }}
),

sources as (
    select * from {{ ref('stg_snapshots__event_sources') }}
),

reports as (
    select * from {{ ref('report_definitions') }}
),

windows as (
    select
        aggregate_windows.window_name,
        {{ tally.snapshot_cutoff('aggregate_windows.window_name', 'aggregate_windows.retention_days') }} as cutoff
    from {{ ref('aggregate_windows') }} as aggregate_windows
),

in_scope as (
    -- the raw rows of the buckets this run replaces (index range scans on occurred_at)
    select
        events.occurred_at,
        sources.source_slug,
        events.status,
        events.entity_id,
        events.amount_cents,
        events.processing_ms
    from events
    inner join sources on events.source_id = sources.source_id
    inner join metric_snapshots__spans as spans
        on events.occurred_at >= spans.lo
        and events.occurred_at < spans.hi
),

bucketed as (
    select
        windows.window_name,
        date_trunc(windows.window_name, in_scope.occurred_at at time zone 'UTC') at time zone 'UTC' as bucket_start,
        in_scope.*
    from in_scope
    cross join windows
    where in_scope.occurred_at >= windows.cutoff
),

grouped as (
    -- one pass, one grouping set per dimension
    select
        bucketed.window_name,
        bucketed.bucket_start,
        case
            {%- for key, column in dimensions.items() %}
            when grouping(bucketed.{{ column }}) = 0 then '{{ key }}'
            {%- endfor %}
        end as dimension_key,
        case
            {%- for key, column in dimensions.items() %}
            when grouping(bucketed.{{ column }}) = 0 then coalesce(cast(bucketed.{{ column }} as text), '(none)')
            {%- endfor %}
        end as dimension_value,
        {%- for name, aggregate in metrics.items() %}
        {{ aggregate }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from bucketed
    group by grouping sets (
        {%- for key, column in dimensions.items() %}
        (bucketed.window_name, bucketed.bucket_start, bucketed.{{ column }}){{ ',' if not loop.last }}
        {%- endfor %}
    )
),

catalog as (
    select
        reports.slug as report_slug,
        reports.dimension_key,
        string_to_array(reports.metrics, ' ') as metric_names
    from reports
),

final as (
    select
        cast(catalog.report_slug as text) as report_slug,
        cast(grouped.window_name as text) as window_name,
        grouped.bucket_start,
        cast(grouped.dimension_key as text) as dimension_key,
        cast(grouped.dimension_value as text) as dimension_value,
        cast(metric.metric_name as text) as metric_name,
        cast(metric.metric_value as numeric(24, 4)) as metric_value,
        {{ tally.lineage_columns() }}
    from grouped
    inner join catalog on grouped.dimension_key = catalog.dimension_key
    cross join lateral (
        values
            {%- for name in metrics %}
            ('{{ name }}', cast(grouped.{{ name }} as numeric)){{ ',' if not loop.last }}
            {%- endfor %}
    ) as metric (metric_name, metric_value)
    inner join metric_snapshots__ranges as ranges
        on catalog.report_slug = ranges.report_slug
        and grouped.window_name = ranges.window_name
        and grouped.bucket_start >= ranges.lo
        and grouped.bucket_start < ranges.hi
    where metric.metric_name = any(catalog.metric_names)
)

select * from final
