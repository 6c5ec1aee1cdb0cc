{#- One row per (registered message, dimension) of the rolled-up accounts (issue 18):
    the message's local day in the account's timezone, its metric from the registry
    (event_name 'message_' || message_type), and the dimensions it counts for - the
    account, the inbox (the message's), the agent (its conversation's assignee) and
    the team (its conversation's team). Agent and team are the conversation's current
    ones: raw keeps no history, so a moved or reassigned conversation takes its
    messages along (the mart recomputes their days through
    int_support__messages_conversation_dated). A message without a conversation of its
    account is in no agent and no team row. Not filtered by time (the mart's lateral
    lookup uses raw's (account_id, created_at) index). -#}
with messages as (
    select * from {{ ref('stg_support__messages') }}
),

conversations as (
    select * from {{ ref('stg_support__conversations') }}
),

accounts as (
    select * from {{ ref('stg_support__accounts') }}
),

registry as (
    select * from {{ ref('metric_registry') }}
    where count_kind = 'messages'
),

final as (
    select
        messages.account_id,
        {{ tally.day_bucket('messages.created_at', 'accounts.timezone') }} as day_bucket,
        dims.dimension_type,
        dims.dimension_id,
        registry.metric,
        registry.count_kind,
        messages.conversation_id,
        cast(null as double precision) as value,
        cast(null as double precision) as value_in_business_hours,
        messages.created_at
    from messages
    inner join accounts
        on messages.account_id = accounts.account_id
    inner join registry
        on messages.event_name = registry.event_name
    left join conversations
        on messages.conversation_id = conversations.conversation_id
        and messages.account_id = conversations.account_id
    cross join lateral (
        values
            (cast('account' as text), messages.account_id),
            (cast('agent' as text), conversations.assignee_id),
            (cast('inbox' as text), messages.inbox_id),
            (cast('team' as text), conversations.team_id)
    ) as dims (dimension_type, dimension_id)
    where accounts.timezone is not null
        and dims.dimension_id is not null
        and messages.created_at is not null
)

select * from final
