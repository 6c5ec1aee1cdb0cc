{#- metric_snapshots equals a from-scratch aggregate of raw (seed 001 rules) for every
    report, window, bucket and metric of the last `reconcile_days` (within retention).
    Written independently of the model: plain group-bys per report. Returns mismatches. -#}
{{ config(meta={'dagster': {'ref': {'name': 'metric_snapshots'}}}, severity='error', tags=['reconciliation']) }}

with events as (
    select
        e.occurred_at,
        s.slug as source_slug,
        coalesce(e.status, '(none)') as status,
        coalesce(e.entity_id, '(none)') as entity_id,
        e.amount_cents,
        e.processing_ms
    from {{ source('raw_snapshots', 'analytics_events') }} as e
    inner join {{ source('raw_snapshots', 'event_sources') }} as s on e.source_id = s.id
),

windows as (
    select
        w.window_name,
        greatest(
            date_trunc(w.window_name, (now() at time zone 'UTC') - w.retention_days * interval '1 day'),
            date_trunc(w.window_name, (now() at time zone 'UTC') - {{ tally.run_var('reconcile_days') }} * interval '1 day')
        ) at time zone 'UTC' as since
    from {{ ref('aggregate_windows') }} as w
),

bucketed as (
    select
        windows.window_name,
        date_trunc(windows.window_name, events.occurred_at at time zone 'UTC') at time zone 'UTC' as bucket_start,
        events.*
    from events
    inner join windows on events.occurred_at >= windows.since
),

expected as (
    select 'volume-by-period' as report_slug, window_name, bucket_start, 'source' as dimension_key,
        source_slug as dimension_value, 'events' as metric_name, cast(count(*) as numeric) as metric_value
    from bucketed group by 1, 2, 3, 4, 5
    union all
    select 'volume-by-period', window_name, bucket_start, 'source', source_slug, 'amount_cents', sum(amount_cents)
    from bucketed group by 1, 2, 3, 4, 5
    union all
    select 'volume-by-period', window_name, bucket_start, 'source', source_slug, 'processing_ms_sum', sum(processing_ms)
    from bucketed group by 1, 2, 3, 4, 5
    union all
    select 'status-counts', window_name, bucket_start, 'status', status, 'events', count(*)
    from bucketed group by 1, 2, 3, 4, 5
    union all
    select 'top-entities', window_name, bucket_start, 'entity_id', entity_id, 'events', count(*)
    from bucketed group by 1, 2, 3, 4, 5
    union all
    select 'top-entities', window_name, bucket_start, 'entity_id', entity_id, 'amount_cents', sum(amount_cents)
    from bucketed group by 1, 2, 3, 4, 5
    union all
    select 'top-entities', window_name, bucket_start, 'entity_id', entity_id, 'processing_ms_sum', sum(processing_ms)
    from bucketed group by 1, 2, 3, 4, 5
),

actual as (
    select snapshots.*
    from {{ ref('metric_snapshots') }} as snapshots
    inner join windows
        on snapshots.window_name = windows.window_name
        and snapshots.bucket_start >= windows.since
)

select
    coalesce(actual.report_slug, expected.report_slug) as report_slug,
    coalesce(actual.window_name, expected.window_name) as window_name,
    coalesce(actual.bucket_start, expected.bucket_start) as bucket_start,
    coalesce(actual.dimension_value, expected.dimension_value) as dimension_value,
    coalesce(actual.metric_name, expected.metric_name) as metric_name,
    actual.metric_value as snapshot_value,
    expected.metric_value as raw_value
from actual
full outer join expected
    on actual.report_slug = expected.report_slug
    and actual.window_name = expected.window_name
    and actual.bucket_start = expected.bucket_start
    and actual.dimension_key = expected.dimension_key
    and actual.dimension_value = expected.dimension_value
    and actual.metric_name = expected.metric_name
where actual.metric_value is distinct from expected.metric_value
