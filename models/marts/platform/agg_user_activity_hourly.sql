{{
    config(
        materialized='incremental',
        incremental_strategy='bucket_replace',
        unique_key=['workspace_id', 'user_id', 'bucket_start'],
        bucket_column='bucket_start',
        bucket_kind='instant',
        full_refresh=false,
        on_schema_change='append_new_columns',
        sliding_window={
            'tenants': 'stg_platform__workspaces',
            'tenant_id': 'workspace_id',
            'timezone': 'timezone',
            'version': 'config_version',
            'events': [{'model': 'stg_platform__user_activity', 'tenant': 'workspace_id',
                        'ts': 'occurred_at', 'raw_table': 'user_activity'}],
            'rebuild_var': 'rebuild_workspace_id',
        },
        tags=['sliding_window', 'platform_hourly'],
        pre_hook=[
            "{{ tally.platform_lock() }}",
            "{{ tally.sliding_window_prepare() }}",
            "{{ tally.platform_clamp_to_horizon('raw.user_activity') }}",
        ],
        post_hook="{{ tally.sliding_window_record() }}",
    )
}}

with user_activity as (
    select * from {{ ref('stg_platform__user_activity') }}
),

workspaces as (
    select * from {{ ref('stg_platform__workspaces') }}
),

counted as (
    select user_activity.*
    from user_activity
    inner join workspaces on user_activity.workspace_id = workspaces.workspace_id
    where user_activity.occurred_at is not null
        and user_activity.user_id is not null
        and {{ tally.sliding_window_filter('user_activity.workspace_id', 'user_activity.occurred_at') }}
),

final as (
    select
        counted.workspace_id,
        counted.user_id,
        date_trunc('hour', counted.occurred_at, 'UTC') as bucket_start,
        count(*) as events,
        count(distinct counted.activity_type) as distinct_activity_types,
        {{ tally.lineage_columns() }}
    from counted
    group by 1, 2, 3
)

select * from final
