{#- agg_support_rollup_daily equals a from-scratch aggregate of raw reporting events,
    messages and conversations (issue 18) for the last `reconcile_days` local days of
    every account with a valid timezone.
    Written independently of the model (raw tables, per-dimension union, own day
    bucketing).
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

-- every raw row the rollup counts, in one shape: reporting events and (issue 18)
-- conversations (on their day of creation) and messages, each with the registry kinds it
-- may count as
raw_rows as (
    select 'reporting_events' as source, ev.account_id, ev.created_at, ev.conversation_id,
        ev.inbox_id, ev.user_id, ev.name as event_name,
        array['events', 'distinct_conversations'] as count_kinds, ev.value,
        ev.value_in_business_hours
    from {{ source('raw_support', 'reporting_events') }} as ev
    union all
    select 'conversations', conv.account_id, conv.created_at, conv.id, conv.inbox_id, null,
        'conversation_created', array['conversations'], null, null
    from {{ source('raw_support', 'conversations') }} as conv
    union all
    select 'messages', msg.account_id, msg.created_at, msg.conversation_id, msg.inbox_id, null,
        'message_' || msg.message_type, array['messages'], null, null
    from {{ source('raw_support', 'messages') }} as msg
),

counted_rows as (
    select
        raw_rows.account_id,
        cast(raw_rows.created_at at time zone accounts.tz as date) as day_bucket,
        -- a reporting event's agent is its user; a conversation's or message's agent is the
        -- conversation's assignee; the team is always the conversation's (current, raw)
        case when raw_rows.source = 'reporting_events' then raw_rows.user_id
            else conv.assignee_id end as agent_id,
        raw_rows.inbox_id,
        conv.team_id,
        raw_rows.conversation_id,
        raw_rows.value,
        raw_rows.value_in_business_hours,
        registry.metric,
        registry.count_kind
    from raw_rows
    inner join accounts on raw_rows.account_id = accounts.account_id
    inner join {{ ref('metric_registry') }} as registry
        on raw_rows.event_name = registry.event_name
        and registry.count_kind = any(raw_rows.count_kinds)
    left join {{ source('raw_support', 'conversations') }} as conv
        on conv.id = raw_rows.conversation_id and conv.account_id = raw_rows.account_id
    where raw_rows.created_at >= cast(accounts.first_day as timestamp) at time zone accounts.tz
),

-- one row per dimension a row counts for; a NULL agent, inbox or team skips it
per_dimension as (
    {%- for dimension_type, dimension_id in [
        ('account', 'account_id'), ('agent', 'agent_id'), ('inbox', 'inbox_id'), ('team', 'team_id'),
    ] %}
    select account_id, day_bucket, '{{ dimension_type }}' as dimension_type,
        {{ dimension_id }} as dimension_id, metric, count_kind, conversation_id, value,
        value_in_business_hours
    from counted_rows
    where {{ dimension_id }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
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
