{#- Each reporting event's account and time with its conversation's `updated_at`
    (issue 18): a sliding-window event source of the support rollup, read only to find
    changed buckets - a conversation moved to another team recomputes every local day
    holding one of its reporting events (their team rows change). The filter on
    updated_at reaches raw.conversations' updated_at index, the join raw.reporting_events'
    conversation_id index. -#}
with events as (
    select * from {{ ref('stg_support__reporting_events') }}
),

conversations as (
    select * from {{ ref('stg_support__conversations') }}
),

final as (
    select
        events.account_id,
        events.created_at,
        conversations.updated_at
    from conversations
    inner join events
        on conversations.conversation_id = events.conversation_id
        and conversations.account_id = events.account_id
)

select * from final
