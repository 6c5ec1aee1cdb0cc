{#- One row per (registered reporting event, dimension) for the accounts that are
    rolled up: the event's local day in the account's timezone, its metric from the
    registry, and the dimension it counts for - the account itself, the agent
    (user_id), the inbox (inbox_id) and the team (its conversation's current team,
    issue 18); a NULL agent, inbox or team skips that dimension (seed 002's
    BackfillService). Not filtered by time: the mart applies the sliding
    window to `created_at`, which PostgreSQL pushes down to raw's
    (account_id, created_at) index through this view. -#}
with events as (
    select * from {{ ref('stg_support__reporting_events') }}
),

accounts as (
    select * from {{ ref('stg_support__accounts') }}
),

conversations as (
    select * from {{ ref('stg_support__conversations') }}
),

registry as (
    -- the kinds the rollup holds ('events_excluding_bot_handoffs' is read from raw)
    select * from {{ ref('metric_registry') }}
    where count_kind in ('events', 'distinct_conversations')
),

final as (
    select
        events.account_id,
        {{ tally.day_bucket('events.created_at', 'accounts.timezone') }} as day_bucket,
        dims.dimension_type,
        dims.dimension_id,
        registry.metric,
        registry.count_kind,
        events.conversation_id,
        events.value,
        events.value_in_business_hours,
        events.created_at
    from events
    inner join accounts
        on events.account_id = accounts.account_id
    inner join registry
        on events.event_name = registry.event_name
    -- the team: the event's conversation's current team (issue 18)
    left join conversations
        on events.conversation_id = conversations.conversation_id
        and events.account_id = conversations.account_id
    cross join lateral (
        values
            (cast('account' as text), events.account_id),
            (cast('agent' as text), events.user_id),
            (cast('inbox' as text), events.inbox_id),
            (cast('team' as text), conversations.team_id)
    ) as dims (dimension_type, dimension_id)
    where accounts.timezone is not null
        and dims.dimension_id is not null
        -- no time, no day (issue 16 F4: assert_support_raw_rules counts these rows; a
        -- NULL day_bucket failed the mart's full build)
        and events.created_at is not null
)

select * from final
