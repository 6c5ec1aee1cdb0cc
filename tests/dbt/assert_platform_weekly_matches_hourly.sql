{#- Reconciliation: agg_execution_metrics_weekly equals the roll-up of the hourly mart for
    every week the hourly mart still fully covers and has no change queued for (the
    hourly mart itself is reconciled against raw). -#}
{{ config(meta={'dagster': {'ref': {'name': 'agg_execution_metrics_weekly'}}}) }}
with horizon as (
    select greatest(
        date_trunc('week', now() - interval '{{ var("reconcile_days") }} days', 'UTC'),
        {{ tally.platform_ceil("coalesce((select h.horizon from ops.retention_horizons as h where h.relation = 'marts.agg_execution_metrics_hourly'), '-infinity')", 'week') }}
    ) as lo
),

pending as (
    select q.workspace_id, q.lo, q.hi
    from ops.platform_rollup_queue as q
    where q.consumer = 'agg_execution_metrics_weekly'
),

expected as (
    select
        h.workspace_id,
        date_trunc('week', h.bucket_start, 'UTC') as bucket_start,
        h.status,
        sum(h.executions) as executions,
        sum(h.duration_ms_sum) as duration_ms_sum,
        max(h.duration_ms_max) as duration_ms_max,
        sum(h.credits_used) as credits_used
    from {{ ref('agg_execution_metrics_hourly') }} as h
    where h.bucket_start >= (select horizon.lo from horizon)
    group by 1, 2, 3
),

actual as (
    select m.workspace_id, m.bucket_start, m.status, m.executions, m.duration_ms_sum, m.duration_ms_max, m.credits_used
    from {{ ref('agg_execution_metrics_weekly') }} as m
    where m.bucket_start >= (select horizon.lo from horizon)
),

diff as (
    (select 'missing_or_different' as problem, * from expected except select 'missing_or_different', * from actual)
    union all
    (select 'unexpected_or_different' as problem, * from actual except select 'unexpected_or_different', * from expected)
)

select diff.*
from diff
cross join horizon
where diff.bucket_start >= horizon.lo
    and not exists (
        select 1 from pending
        where pending.workspace_id = diff.workspace_id
            and pending.hi > diff.bucket_start
            and pending.lo < diff.bucket_start + interval '1 week'
    )
