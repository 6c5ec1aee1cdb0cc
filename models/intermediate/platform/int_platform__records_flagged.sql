{#- Raw platform rows the rollups cannot count as they are: one row per problem.
    A leaf on purpose: the checks on it (warn for unknown statuses, error for rows left
    out) never stop the marts from building. -#}
with executions as (
    select * from {{ ref('stg_platform__executions') }}
),

user_activity as (
    select * from {{ ref('stg_platform__user_activity') }}
),

execution_issues as (
    select
        'executions' as table_name,
        executions.execution_id as record_id,
        executions.workspace_id,
        case
            when executions.started_at is null then 'missing_started_at'
            when executions.duration_ms < 0 then 'negative_duration'
            when executions.credits_used < 0 then 'negative_credits'
            else 'unknown_status'
        end as issue,
        case when executions.is_valid then 'counted_as_other' else 'excluded' end as outcome,
        executions.raw_status as detail,
        executions.updated_at
    from executions
    where not executions.is_valid
        or executions.status = 'other'
),

activity_issues as (
    select
        'user_activity' as table_name,
        user_activity.activity_id as record_id,
        user_activity.workspace_id,
        case
            when user_activity.occurred_at is null then 'missing_occurred_at'
            else 'missing_user_id'
        end as issue,
        'excluded' as outcome,
        user_activity.activity_type as detail,
        user_activity.updated_at
    from user_activity
    where user_activity.occurred_at is null
        or user_activity.user_id is null
),

final as (
    select * from execution_issues
    union all
    select * from activity_issues
)

select * from final
