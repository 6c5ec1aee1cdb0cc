{#- ISO weeks (Monday, UTC) rolled up from agg_execution_metrics_hourly, never rescanned from raw.
    Recomputes only the weeks the hourly mart changed since the last run (its queue in
    ops.platform_rollup_queue) and still fully covers; older rows are kept forever. -#}
-- depends_on: {{ ref('stg_platform__workspaces') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='bucket_replace',
        unique_key=['workspace_id', 'bucket_start', 'status'],
        bucket_column='bucket_start',
        bucket_kind='instant',
        full_refresh=false,
        on_schema_change='append_new_columns',
        sliding_window={
            'tenants': 'stg_platform__workspaces',
            'tenant_id': 'workspace_id',
            'timezone': 'timezone',
            'version': 'config_version',
            'events': [],
            'rebuild_var': 'rebuild_workspace_id',
        },
        tags=['platform_rollup'],
        pre_hook=[
            "{{ tally.platform_lock() }}",
            "{{ tally.platform_rollup_prepare('week', 'marts.agg_execution_metrics_hourly') }}",
        ],
        post_hook="{{ tally.sliding_window_record() }}",
    )
}}

with hourly as (
    select * from {{ ref('agg_execution_metrics_hourly') }}
),

affected as (
    select hourly.*
    from hourly
    where {{ tally.sliding_window_filter('hourly.workspace_id', 'hourly.bucket_start') }}
),

final as (
    select
        affected.workspace_id,
        date_trunc('week', affected.bucket_start, 'UTC') as bucket_start,
        affected.status,
        cast(sum(affected.executions) as bigint) as executions,
        cast(sum(affected.duration_ms_sum) as bigint) as duration_ms_sum,
        max(affected.duration_ms_max) as duration_ms_max,
        cast(sum(affected.credits_used) as numeric(18, 4)) as credits_used,
        {{ tally.lineage_columns() }}
    from affected
    group by 1, 2, 3
)

select * from final
