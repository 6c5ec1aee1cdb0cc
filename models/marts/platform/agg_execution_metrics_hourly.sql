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
            'events': [{'model': 'stg_platform__executions', 'tenant': 'workspace_id',
                        'ts': 'started_at', 'raw_table': 'executions'}],
            'rebuild_var': 'rebuild_workspace_id',
        },
        tags=['sliding_window', 'platform_hourly'],
        pre_hook=[
            "{{ tally.platform_lock() }}",
            "{{ tally.sliding_window_prepare() }}",
            "{{ tally.platform_clamp_to_horizon('raw.executions') }}",
        ],
        post_hook=[
            "{{ tally.platform_enqueue_rollups(['agg_execution_metrics_daily', 'agg_execution_metrics_weekly']) }}",
            "{{ tally.sliding_window_record() }}",
        ],
    )
}}

with executions as (
    select * from {{ ref('stg_platform__executions') }}
),

workspaces as (
    select * from {{ ref('stg_platform__workspaces') }}
),

counted as (
    select executions.*
    from executions
    inner join workspaces on executions.workspace_id = workspaces.workspace_id
    where executions.is_valid
        and {{ tally.sliding_window_filter('executions.workspace_id', 'executions.started_at') }}
),

final as (
    select
        counted.workspace_id,
        date_trunc('hour', counted.started_at, 'UTC') as bucket_start,
        counted.status,
        count(*) as executions,
        cast(coalesce(sum(counted.duration_ms), 0) as bigint) as duration_ms_sum,
        cast(coalesce(max(counted.duration_ms), 0) as bigint) as duration_ms_max,
        cast(coalesce(sum(counted.credits_used), 0) as numeric(18, 4)) as credits_used,
        {{ tally.lineage_columns() }}
    from counted
    group by 1, 2, 3
)

select * from final
