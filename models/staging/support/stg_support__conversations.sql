{#- Every raw conversation, renamed (issue 18). The team and assignee are the current
    ones; the sliding window reads `updated_at` here to find changed conversations. -#}
with conversations as (
    select * from {{ source('raw_support', 'conversations') }}
),

final as (
    select
        conversations.id as conversation_id,
        conversations.account_id,
        conversations.inbox_id,
        conversations.assignee_id,
        conversations.team_id,
        conversations.status,
        cast('conversation_created' as text) as event_name,
        conversations.created_at,
        conversations.updated_at
    from conversations
)

select * from final
