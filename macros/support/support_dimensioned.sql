{#- The body of an int_support__*_dimensioned view (issue 18): one row per (registered row
    of `model`, dimension) for the rolled-up accounts - the row's local day in the
    account's timezone, its metric and count kind from the registry (`count_kinds`), and
    the dimension it counts for: the account, the agent (`agent`), the row's inbox and its
    conversation's team. Agent and team come from the conversation as raw holds it now:
    a row other than a conversation left-joins its conversation of the same account
    (none: no team row, and no agent row when `agent` is the conversation's). A NULL
    agent, inbox or team skips that dimension (seed 002's BackfillService); rows of an
    account without a valid timezone or without `created_at` are left out. `measured`:
    the row carries `value` / `value_in_business_hours` (reporting events); otherwise
    both are NULL. Not filtered by time: the mart's lateral lookup on `account_id` and
    `created_at` reaches raw's (account_id, created_at) index through the view.
    `conversation_lookup`: how a row finds its conversation - 'join' (the views: one
    hash join, right when most of an account's rows are read) or 'probe' (one
    `conversations_pkey` probe per row; the mart's reads of single account-days,
    tally.support_dimensioned_rows: a join hashed the account's every conversation for
    each account-day, 237 ms per account-day at scale 100). -#}
{% macro support_dimensioned(model, rows, count_kinds, agent, measured=false, conversation_lookup='join') %}
    {%- if conversation_lookup not in ('join', 'probe') -%}
        {{ exceptions.raise_compiler_error("support_dimensioned: conversation_lookup is 'join' or 'probe', not " ~ conversation_lookup) }}
    {%- endif -%}
    {{- return(adapter.dispatch('support_dimensioned', 'tally')(model, rows, count_kinds, agent, measured, conversation_lookup)) -}}
{%- endmacro %}

{% macro default__support_dimensioned(model, rows, count_kinds, agent, measured=false, conversation_lookup='join') %}
    {{- tally.not_implemented('support_dimensioned') -}}
{%- endmacro %}

{#- `cross join lateral (values ...)`: one row per dimension of each row (PostgreSQL; Spark would use `stack` or a union) -#}
{% macro postgres__support_dimensioned(model, rows, count_kinds, agent, measured=false, conversation_lookup='join') %}
{%- set joins_conversation = rows != 'conversations' -%}
with {{ rows }} as (
    select * from {{ ref(model) }}
),

accounts as (
    select * from {{ ref('stg_support__accounts') }}
),
{%- if joins_conversation %}

conversations as (
    select * from {{ ref('stg_support__conversations') }}
),
{%- endif %}

registry as (
    select * from {{ ref('metric_registry') }}
    where count_kind in ('{{ count_kinds | join("', '") }}')
),

final as (
    select
        {{ rows }}.account_id,
        {{ tally.day_bucket(rows ~ '.created_at', 'accounts.timezone') }} as day_bucket,
        dims.dimension_type,
        dims.dimension_id,
        registry.metric,
        registry.count_kind,
        {{ rows }}.conversation_id,
        {%- if measured %}
        {{ rows }}.value,
        {{ rows }}.value_in_business_hours,
        {%- else %}
        cast(null as double precision) as value,
        cast(null as double precision) as value_in_business_hours,
        {%- endif %}
        {{ rows }}.created_at
    from {{ rows }}
    inner join accounts
        on {{ rows }}.account_id = accounts.account_id
    inner join registry
        on {{ rows }}.event_name = registry.event_name
    {%- if joins_conversation %}
    -- the team (and a message's agent): the row's conversation, as raw holds it now
    {%- if conversation_lookup == 'probe' %}
    -- one primary-key probe per row; LIMIT 1 keeps the planner from flattening it
    -- back into a join (conversation ids are unique, so it drops nothing)
    left join lateral (
        select c.team_id, c.assignee_id
        from conversations as c
        where c.conversation_id = {{ rows }}.conversation_id
            and c.account_id = {{ rows }}.account_id
        limit 1
    ) as conversations on true
    {%- else %}
    left join conversations
        on {{ rows }}.conversation_id = conversations.conversation_id
        and {{ rows }}.account_id = conversations.account_id
    {%- endif %}
    {%- endif %}
    cross join lateral (
        values
            (cast('account' as text), {{ rows }}.account_id),
            (cast('agent' as text), {{ agent }}),
            (cast('inbox' as text), {{ rows }}.inbox_id),
            (cast('team' as text), conversations.team_id)
    ) as dims (dimension_type, dimension_id)
    where accounts.timezone is not null
        and dims.dimension_id is not null
        -- no time, no day (issue 16 F4: assert_support_raw_rules counts these rows; a
        -- NULL day_bucket failed the mart's full build)
        and {{ rows }}.created_at is not null
)

select * from final
{%- endmacro %}
