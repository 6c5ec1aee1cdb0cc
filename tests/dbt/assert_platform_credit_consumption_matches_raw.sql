{#- Reconciliation: agg_credit_consumption_hourly equals a from-scratch aggregate of raw
    executions (last `reconcile_days`, finished hours, days raw still fully holds). -#}
{{ tally.platform_hourly_matches_raw(
    mart='agg_credit_consumption_hourly',
    source='executions',
    ts='started_at',
    keys=['workspace_id', 'bucket_start'],
    where='src.is_valid',
    measures={'credits_used': 'coalesce(sum(src.credits_used), 0)', 'executions': 'count(*)'},
) }}
