{#- Activity events per workspace, user and UTC hour. -#}
{{ tally.platform_hourly_mart(
    source='user_activity',
    ts='occurred_at',
    keys=['workspace_id', 'user_id', 'bucket_start'],
    where=['user_activity.occurred_at is not null', 'user_activity.user_id is not null'],
    measures=[
        'count(*) as events',
        'count(distinct counted.activity_type) as distinct_activity_types',
    ],
) }}
