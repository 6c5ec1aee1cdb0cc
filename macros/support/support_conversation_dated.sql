{#- The body of an int_support__*_conversation_dated view (issue 18): each row of `model`
    (its account and `created_at`) with its conversation's `updated_at`. A sliding-window
    event source of agg_support_rollup_daily, read only to find changed buckets: a
    conversation moved to another team (or reassigned) bumps its updated_at, and every
    local day holding one of its rows is recomputed. The window's filter on updated_at
    reaches raw.conversations' updated_at index, the join the row table's
    conversation_id index. -#}
{% macro support_conversation_dated(model, rows) -%}
with {{ rows }} as (
    select * from {{ ref(model) }}
),

conversations as (
    select * from {{ ref('stg_support__conversations') }}
),

final as (
    select
        {{ rows }}.account_id,
        {{ rows }}.created_at,
        conversations.updated_at
    from conversations
    inner join {{ rows }}
        on conversations.conversation_id = {{ rows }}.conversation_id
        and conversations.account_id = {{ rows }}.account_id
)

select * from final
{%- endmacro %}
