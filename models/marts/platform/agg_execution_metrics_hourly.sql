{#- Executions per workspace, UTC hour and status; queues its changes for the daily and
    weekly rollups. -#}
{{ tally.platform_hourly_mart(
    source='executions',
    ts='started_at',
    keys=['workspace_id', 'bucket_start', 'status'],
    where=['executions.is_valid'],
    measures=[
        'count(*) as executions',
        'cast(coalesce(sum(counted.duration_ms), 0) as bigint) as duration_ms_sum',
        'cast(coalesce(max(counted.duration_ms), 0) as bigint) as duration_ms_max',
        'cast(coalesce(sum(counted.credits_used), 0) as numeric(18, 4)) as credits_used',
    ],
    rollups=['agg_execution_metrics_daily', 'agg_execution_metrics_weekly'],
) }}
