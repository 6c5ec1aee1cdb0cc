{#- Reconciliation: agg_execution_metrics_hourly equals a from-scratch aggregate of raw
    executions over the last `reconcile_days` (finished hours only, and only days raw
    still fully holds - retention cleanup removes raw rows, not aggregates). -#}
{{ tally.platform_hourly_matches_raw(
    mart='agg_execution_metrics_hourly',
    source='executions',
    ts='started_at',
    keys=['workspace_id', 'bucket_start', 'status'],
    where='src.is_valid',
    measures={
        'executions': 'count(*)',
        'duration_ms_sum': 'coalesce(sum(src.duration_ms), 0)',
        'duration_ms_max': 'coalesce(max(src.duration_ms), 0)',
        'credits_used': 'coalesce(sum(src.credits_used), 0)',
    },
) }}
