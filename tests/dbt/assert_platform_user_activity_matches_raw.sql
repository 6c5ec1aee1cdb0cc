{#- Reconciliation: agg_user_activity_hourly equals a from-scratch aggregate of raw
    user activity (last `reconcile_days`, finished hours, days raw still fully holds). -#}
{{ config(meta={'dagster': {'ref': {'name': 'agg_user_activity_hourly'}}}) }}
with bounds as (
    select
        greatest(
            date_trunc('hour', now(), 'UTC') - interval '{{ var("reconcile_days") }} days',
            coalesce((
                select h.horizon from ops.retention_horizons as h where h.relation = 'raw.user_activity'
            ), '-infinity')
        ) as lo,
        date_trunc('hour', now(), 'UTC') as hi
),

expected as (
    select
        ua.workspace_id,
        ua.user_id,
        date_trunc('hour', ua.occurred_at, 'UTC') as bucket_start,
        count(*) as events,
        count(distinct ua.activity_type) as distinct_activity_types
    from {{ ref('stg_platform__user_activity') }} as ua
    inner join {{ ref('stg_platform__workspaces') }} as ws on ua.workspace_id = ws.workspace_id
    cross join bounds
    where ua.user_id is not null
        and ua.occurred_at >= bounds.lo
        and ua.occurred_at < bounds.hi
    group by 1, 2, 3
),

actual as (
    select m.workspace_id, m.user_id, m.bucket_start, m.events, m.distinct_activity_types
    from {{ ref('agg_user_activity_hourly') }} as m
    cross join bounds
    where m.bucket_start >= bounds.lo and m.bucket_start < bounds.hi
),

diff as (
    (select 'missing_or_different' as problem, * from expected except select 'missing_or_different', * from actual)
    union all
    (select 'unexpected_or_different' as problem, * from actual except select 'unexpected_or_different', * from expected)
)

select * from diff
