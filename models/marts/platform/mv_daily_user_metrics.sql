{#- Per workspace and UTC day: distinct active users and their events (exact: computed
    from the per-user hourly rows). Reads only mart tables. -#}
{{ config(materialized='concurrent_materialized_view', unique_key=['workspace_id', 'day_bucket']) }}

with activity as (
    select * from {{ ref('agg_user_activity_hourly') }}
),

final as (
    select
        activity.workspace_id,
        cast(activity.bucket_start at time zone 'UTC' as date) as day_bucket,
        count(distinct activity.user_id) as active_users,
        cast(sum(activity.events) as bigint) as events,
        max(activity.last_updated) as last_updated
    from activity
    group by 1, 2
)

select * from final
