{#- Each message's account and time with its conversation's `updated_at` (issue 18):
    an event source of the support rollup's sliding window, read only to find changed
    buckets. A conversation moved to another team or reassigned bumps its updated_at;
    through this view every local day holding one of its messages is recomputed (their
    team and agent rows change). The filter on updated_at reaches raw.conversations'
    updated_at index, the join raw.messages' conversation_id index. -#}
with messages as (
    select * from {{ ref('stg_support__messages') }}
),

conversations as (
    select * from {{ ref('stg_support__conversations') }}
),

final as (
    select
        messages.account_id,
        messages.created_at,
        conversations.updated_at
    from conversations
    inner join messages
        on conversations.conversation_id = messages.conversation_id
        and conversations.account_id = messages.account_id
)

select * from final
