{#- Reconciliation: agg_execution_metrics_hourly equals a from-scratch aggregate of raw
    executions over the last `reconcile_days` (finished hours only, and only days raw
    still fully holds - retention cleanup removes raw rows, not aggregates). -#}
{{ config(meta={'dagster': {'ref': {'name': 'agg_execution_metrics_hourly'}}}) }}
with bounds as (
    select
        greatest(
            date_trunc('hour', now(), 'UTC') - interval '{{ var("reconcile_days") }} days',
            coalesce((
                select h.horizon from ops.retention_horizons as h where h.relation = 'raw.executions'
            ), '-infinity')
        ) as lo,
        date_trunc('hour', now(), 'UTC') as hi
),

raw_rows as (
    select
        ex.workspace_id,
        date_trunc('hour', ex.started_at, 'UTC') as bucket_start,
        ex.status,
        count(*) as executions,
        coalesce(sum(ex.duration_ms), 0) as duration_ms_sum,
        coalesce(max(ex.duration_ms), 0) as duration_ms_max,
        coalesce(sum(ex.credits_used), 0) as credits_used
    from {{ ref('stg_platform__executions') }} as ex
    inner join {{ ref('stg_platform__workspaces') }} as ws on ex.workspace_id = ws.workspace_id
    cross join bounds
    where ex.is_valid
        and ex.started_at >= bounds.lo
        and ex.started_at < bounds.hi
    group by 1, 2, 3
),

expected as (
    select raw_rows.* from raw_rows
),

actual as (
    select
        m.workspace_id, m.bucket_start, m.status, m.executions,
        m.duration_ms_sum, m.duration_ms_max, m.credits_used
    from {{ ref('agg_execution_metrics_hourly') }} as m
    cross join bounds
    where m.bucket_start >= bounds.lo and m.bucket_start < bounds.hi
),

diff as (
    (select 'missing_or_different' as problem, * from expected except select 'missing_or_different', * from actual)
    union all
    (select 'unexpected_or_different' as problem, * from actual except select 'unexpected_or_different', * from expected)
)

select * from diff
