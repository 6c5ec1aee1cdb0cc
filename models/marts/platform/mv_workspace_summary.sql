{#- One row per workspace: all-time totals (from the daily rollup, kept forever) and the
    last 30 days (executions, credits, distinct active users). Reads only mart tables. -#}
{{ config(materialized='concurrent_materialized_view', unique_key=['workspace_id']) }}

with daily as (
    select * from {{ ref('agg_execution_metrics_daily') }}
),

activity as (
    select * from {{ ref('agg_user_activity_hourly') }}
),

execution_totals as (
    select
        daily.workspace_id,
        cast(sum(daily.executions) as bigint) as executions_total,
        cast(sum(daily.duration_ms_sum) as bigint) as duration_ms_sum_total,
        sum(daily.credits_used) as credits_used_total,
        cast(coalesce(sum(daily.executions) filter (where daily.bucket_start >= now() - interval '30 days'), 0) as bigint) as executions_30d,
        cast(coalesce(sum(daily.executions) filter (where daily.bucket_start >= now() - interval '30 days' and daily.status = 'failed'), 0) as bigint) as failed_executions_30d,
        coalesce(sum(daily.credits_used) filter (where daily.bucket_start >= now() - interval '30 days'), 0) as credits_used_30d,
        min(daily.bucket_start) as first_execution_day,
        max(daily.bucket_start) as last_execution_day
    from daily
    group by 1
),

activity_30d as (
    select
        activity.workspace_id,
        count(distinct activity.user_id) as active_users_30d,
        max(activity.bucket_start) as last_activity_hour
    from activity
    where activity.bucket_start >= now() - interval '30 days'
    group by 1
),

final as (
    select
        coalesce(execution_totals.workspace_id, activity_30d.workspace_id) as workspace_id,
        coalesce(execution_totals.executions_total, 0) as executions_total,
        coalesce(execution_totals.duration_ms_sum_total, 0) as duration_ms_sum_total,
        coalesce(execution_totals.credits_used_total, 0) as credits_used_total,
        coalesce(execution_totals.executions_30d, 0) as executions_30d,
        coalesce(execution_totals.failed_executions_30d, 0) as failed_executions_30d,
        coalesce(execution_totals.credits_used_30d, 0) as credits_used_30d,
        coalesce(activity_30d.active_users_30d, 0) as active_users_30d,
        execution_totals.first_execution_day,
        execution_totals.last_execution_day,
        activity_30d.last_activity_hour,
        now() as refreshed_at
    from execution_totals
    full outer join activity_30d on execution_totals.workspace_id = activity_30d.workspace_id
)

select * from final
