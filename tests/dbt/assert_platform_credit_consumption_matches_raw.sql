{#- Reconciliation: agg_credit_consumption_hourly equals a from-scratch aggregate of raw
    executions (last `reconcile_days`, finished hours, days raw still fully holds). -#}
{{ config(meta={'dagster': {'ref': {'name': 'agg_credit_consumption_hourly'}}}) }}
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

expected as (
    select
        ex.workspace_id,
        date_trunc('hour', ex.started_at, 'UTC') as bucket_start,
        coalesce(sum(ex.credits_used), 0) as credits_used,
        count(*) as executions
    from {{ ref('stg_platform__executions') }} as ex
    inner join {{ ref('stg_platform__workspaces') }} as ws on ex.workspace_id = ws.workspace_id
    cross join bounds
    where ex.is_valid
        and ex.started_at >= bounds.lo
        and ex.started_at < bounds.hi
    group by 1, 2
),

actual as (
    select m.workspace_id, m.bucket_start, m.credits_used, m.executions
    from {{ ref('agg_credit_consumption_hourly') }} as m
    cross join bounds
    where m.bucket_start >= bounds.lo and m.bucket_start < bounds.hi
),

diff as (
    (select 'missing_or_different' as problem, * from expected except select 'missing_or_different', * from actual)
    union all
    (select 'unexpected_or_different' as problem, * from actual except select 'unexpected_or_different', * from expected)
)

select * from diff
