{#- agg_support_rollup_daily equals a from-scratch aggregate of raw reporting events,
    messages and conversations (issue 18) for the last `reconcile_days` local days of
    every account with a valid timezone.
    Written independently of the model (per-dimension union, own day bucketing).
    Returns the keys that differ, are missing or extra. -#}
{{
    config(
        tags=['support', 'reconcile', 'sliding_window'],
        meta={'dagster': {'ref': {'name': 'agg_support_rollup_daily'}}},
    )
}}

with accounts as (
    select
        accounts.id as account_id,
        accounts.reporting_timezone as tz,
        cast(now() at time zone accounts.reporting_timezone as date)
            - {{ tally.run_var('reconcile_days') }} as first_day
    from {{ source('raw_support', 'accounts') }} as accounts
    where accounts.reporting_timezone in (select tzn.name from pg_catalog.pg_timezone_names as tzn)
),

events as (
    select
        ev.account_id,
        cast(ev.created_at at time zone accounts.tz as date) as day_bucket,
        ev.user_id,
        ev.inbox_id,
        ev.conversation_id,
        conv.team_id,
        ev.value,
        ev.value_in_business_hours,
        registry.metric,
        registry.count_kind
    from {{ source('raw_support', 'reporting_events') }} as ev
    inner join accounts on ev.account_id = accounts.account_id
    left join {{ source('raw_support', 'conversations') }} as conv
        on conv.id = ev.conversation_id and conv.account_id = ev.account_id
    inner join {{ ref('metric_registry') }} as registry on ev.name = registry.event_name
        and registry.count_kind in ('events', 'distinct_conversations')  -- the rolled-up kinds
    where ev.created_at >= cast(accounts.first_day as timestamp) at time zone accounts.tz
),

-- issue 18: messages (agent and team through the conversation, current) and conversations
conversation_rows as (
    select
        conv.account_id,
        cast(conv.created_at at time zone accounts.tz as date) as day_bucket,
        conv.id as conversation_id,
        conv.assignee_id,
        conv.inbox_id,
        conv.team_id,
        registry.metric,
        registry.count_kind
    from {{ source('raw_support', 'conversations') }} as conv
    inner join accounts on conv.account_id = accounts.account_id
    inner join {{ ref('metric_registry') }} as registry
        on registry.event_name = 'conversation_created' and registry.count_kind = 'conversations'
    where conv.created_at >= cast(accounts.first_day as timestamp) at time zone accounts.tz
),

message_rows as (
    select
        msg.account_id,
        cast(msg.created_at at time zone accounts.tz as date) as day_bucket,
        msg.conversation_id,
        conv.assignee_id,
        msg.inbox_id,
        conv.team_id,
        registry.metric,
        registry.count_kind
    from {{ source('raw_support', 'messages') }} as msg
    inner join accounts on msg.account_id = accounts.account_id
    inner join {{ ref('metric_registry') }} as registry
        on registry.event_name = 'message_' || msg.message_type and registry.count_kind = 'messages'
    left join {{ source('raw_support', 'conversations') }} as conv
        on conv.id = msg.conversation_id and conv.account_id = msg.account_id
    where msg.created_at >= cast(accounts.first_day as timestamp) at time zone accounts.tz
),

threads as (
    select * from conversation_rows
    union all
    select * from message_rows
),

per_dimension as (
    select account_id, day_bucket, 'account' as dimension_type, account_id as dimension_id, metric,
        count_kind, conversation_id, value, value_in_business_hours
    from events
    union all
    select account_id, day_bucket, 'agent', user_id, metric,
        count_kind, conversation_id, value, value_in_business_hours
    from events where user_id is not null
    union all
    select account_id, day_bucket, 'inbox', inbox_id, metric,
        count_kind, conversation_id, value, value_in_business_hours
    from events where inbox_id is not null
    union all
    select account_id, day_bucket, 'team', team_id, metric,
        count_kind, conversation_id, value, value_in_business_hours
    from events where team_id is not null
    union all
    select account_id, day_bucket, 'account', account_id as dimension_id, metric,
        count_kind, conversation_id, null, null
    from threads
    union all
    select account_id, day_bucket, 'agent', assignee_id, metric,
        count_kind, conversation_id, null, null
    from threads where assignee_id is not null
    union all
    select account_id, day_bucket, 'inbox', inbox_id, metric,
        count_kind, conversation_id, null, null
    from threads where inbox_id is not null
    union all
    select account_id, day_bucket, 'team', team_id, metric,
        count_kind, conversation_id, null, null
    from threads where team_id is not null
),

expected as (
    select
        account_id, day_bucket, dimension_type, dimension_id, metric,
        case when min(count_kind) = 'distinct_conversations'
            then count(distinct conversation_id) else count(*) end as count,
        case when min(count_kind) = 'distinct_conversations'
            then 0 else coalesce(sum(value), 0) end as sum_value,
        case when min(count_kind) = 'distinct_conversations'
            then 0 else coalesce(sum(value_in_business_hours), 0) end as sum_value_business_hours
    from per_dimension
    group by account_id, day_bucket, dimension_type, dimension_id, metric
),

actual as (
    select mart.*
    from {{ ref('agg_support_rollup_daily') }} as mart
    inner join accounts on mart.account_id = accounts.account_id
    where mart.day_bucket >= accounts.first_day
),

final as (
    select
        coalesce(expected.account_id, actual.account_id) as account_id,
        coalesce(expected.day_bucket, actual.day_bucket) as day_bucket,
        coalesce(expected.dimension_type, actual.dimension_type) as dimension_type,
        coalesce(expected.dimension_id, actual.dimension_id) as dimension_id,
        coalesce(expected.metric, actual.metric) as metric,
        expected.count as expected_count,
        actual.count as actual_count,
        expected.sum_value as expected_sum_value,
        actual.sum_value as actual_sum_value
    from expected
    full outer join actual
        on expected.account_id = actual.account_id
        and expected.day_bucket = actual.day_bucket
        and expected.dimension_type = actual.dimension_type
        and expected.dimension_id = actual.dimension_id
        and expected.metric = actual.metric
    where expected.account_id is null
        or actual.account_id is null
        or expected.count <> actual.count
        or abs(expected.sum_value - actual.sum_value) > 1e-6 * greatest(1, abs(expected.sum_value))
        or abs(expected.sum_value_business_hours - actual.sum_value_business_hours)
            > 1e-6 * greatest(1, abs(expected.sum_value_business_hours))
)

select * from final
