{#- Every raw message, renamed (issue 18); `event_name` ('message_incoming',
    'message_outgoing', ...) is what the metric registry maps to a metric. Unfiltered so
    the sliding window sees every change. -#}
with messages as (
    select * from {{ source('raw_support', 'messages') }}
),

final as (
    select
        messages.id as message_id,
        messages.conversation_id,
        messages.account_id,
        messages.inbox_id,
        messages.sender_type,
        messages.message_type,
        'message_' || messages.message_type as event_name,
        messages.created_at,
        messages.updated_at
    from messages
)

select * from final
