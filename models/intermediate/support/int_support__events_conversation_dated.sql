{#- Each reporting event's account and time with its conversation's `updated_at`
    (issue 18): a sliding-window event source of the support rollup, read only to find
    changed buckets - a conversation moved to another team recomputes every local day
    holding one of its reporting events (their team rows change). The filter on
    updated_at reaches raw.conversations' updated_at index, the join raw.reporting_events'
    conversation_id index. The body is tally.support_conversation_dated. -#}
{{ tally.support_conversation_dated(model='stg_support__reporting_events', rows='events') }}
