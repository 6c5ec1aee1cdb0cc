{#- UTC days rolled up from agg_execution_metrics_hourly, never rescanned from raw.
    Recomputes only the days the hourly mart changed since the last run (its queue in
    ops.platform_rollup_queue) and still fully covers; older rows are kept forever. -#}
{{ tally.platform_rollup_mart(
    grain='day',
    hourly='agg_execution_metrics_hourly',
    keys=['workspace_id', 'bucket_start', 'status'],
    measures=tally.platform_execution_rollup_measures(),
) }}
