{#- Per workspace and UTC hour of the last 30 days: executions by status and the additive
    measures (averages and rates are derived at read time). Reads only mart tables
    (never a dbt view: a view rebuild would drop this view with it). -#}
{{ config(materialized='concurrent_materialized_view', unique_key=['workspace_id', 'bucket_start']) }}

with hourly as (
    select * from {{ ref('agg_execution_metrics_hourly') }}
),

recent as (
    select hourly.*
    from hourly
    where hourly.bucket_start >= date_trunc('hour', now(), 'UTC') - interval '30 days'
),

final as (
    select
        recent.workspace_id,
        recent.bucket_start,
        cast(sum(recent.executions) as bigint) as executions,
        cast(coalesce(sum(recent.executions) filter (where recent.status = 'succeeded'), 0) as bigint) as succeeded_executions,
        cast(coalesce(sum(recent.executions) filter (where recent.status = 'failed'), 0) as bigint) as failed_executions,
        cast(coalesce(sum(recent.executions) filter (where recent.status = 'cancelled'), 0) as bigint) as cancelled_executions,
        cast(coalesce(sum(recent.executions) filter (where recent.status = 'other'), 0) as bigint) as other_executions,
        cast(sum(recent.duration_ms_sum) as bigint) as duration_ms_sum,
        max(recent.duration_ms_max) as duration_ms_max,
        sum(recent.credits_used) as credits_used,
        max(recent.last_updated) as last_updated
    from recent
    group by 1, 2
)

select * from final
