{#- Reconciliation: agg_execution_metrics_weekly equals the roll-up of the hourly mart for
    every week the hourly mart still fully covers and has no change queued for (the
    hourly mart itself is reconciled against raw). -#}
{{ tally.platform_rollup_matches_hourly(
    rollup='agg_execution_metrics_weekly',
    grain='week',
    hourly='agg_execution_metrics_hourly',
    keys=['workspace_id', 'bucket_start', 'status'],
    measures={'executions': 'sum', 'duration_ms_sum': 'sum', 'duration_ms_max': 'max', 'credits_used': 'sum'},
) }}
