{#- Credits and executions per workspace and UTC hour. -#}
{{ tally.platform_hourly_mart(
    source='executions',
    ts='started_at',
    keys=['workspace_id', 'bucket_start'],
    where=['executions.is_valid'],
    measures=[
        'cast(coalesce(sum(counted.credits_used), 0) as numeric(18, 4)) as credits_used',
        'count(*) as executions',
    ],
) }}
