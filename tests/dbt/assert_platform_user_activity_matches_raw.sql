{#- Reconciliation: agg_user_activity_hourly equals a from-scratch aggregate of raw
    user activity (last `reconcile_days`, finished hours, days raw still fully holds). -#}
{{ tally.platform_hourly_matches_raw(
    mart='agg_user_activity_hourly',
    source='user_activity',
    ts='occurred_at',
    keys=['workspace_id', 'user_id', 'bucket_start'],
    where='src.user_id is not null',
    measures={'events': 'count(*)', 'distinct_activity_types': 'count(distinct src.activity_type)'},
) }}
