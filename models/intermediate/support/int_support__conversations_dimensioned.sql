{#- One row per (conversation, dimension) of the rolled-up accounts for the registry's
    'conversations' metrics (conversations_count; issue 18): the conversation's local
    day of creation, and the account, inbox, agent (assignee) and team it counts for -
    the current ones (a change bumps the conversation's updated_at, so the sliding
    window recomputes its day). -#}
with conversations as (
    select * from {{ ref('stg_support__conversations') }}
),

accounts as (
    select * from {{ ref('stg_support__accounts') }}
),

registry as (
    select * from {{ ref('metric_registry') }}
    where count_kind = 'conversations'
),

final as (
    select
        conversations.account_id,
        {{ tally.day_bucket('conversations.created_at', 'accounts.timezone') }} as day_bucket,
        dims.dimension_type,
        dims.dimension_id,
        registry.metric,
        registry.count_kind,
        conversations.conversation_id,
        cast(null as double precision) as value,
        cast(null as double precision) as value_in_business_hours,
        conversations.created_at
    from conversations
    inner join accounts
        on conversations.account_id = accounts.account_id
    inner join registry
        on conversations.event_name = registry.event_name
    cross join lateral (
        values
            (cast('account' as text), conversations.account_id),
            (cast('agent' as text), conversations.assignee_id),
            (cast('inbox' as text), conversations.inbox_id),
            (cast('team' as text), conversations.team_id)
    ) as dims (dimension_type, dimension_id)
    where accounts.timezone is not null
        and dims.dimension_id is not null
        and conversations.created_at is not null
)

select * from final
