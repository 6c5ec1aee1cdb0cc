{#- Each message's account and time with its conversation's `updated_at` (issue 18):
    an event source of the support rollup's sliding window, read only to find changed
    buckets. A conversation moved to another team or reassigned bumps its updated_at;
    through this view every local day holding one of its messages is recomputed (their
    team and agent rows change). The filter on updated_at reaches raw.conversations'
    updated_at index, the join raw.messages' conversation_id index. The body is
    tally.support_conversation_dated. -#}
{{ tally.support_conversation_dated(model='stg_support__messages', rows='messages') }}
