{{
    config(
        materialized='incremental',
        incremental_strategy='bucket_replace',
        unique_key=['account_id', 'day_bucket', 'dimension_type', 'dimension_id', 'metric'],
        on_schema_change='fail',
        tags=['sliding_window'],
        bucket_column='day_bucket',
        bucket_kind='day',
        sliding_window={
            'tenants': 'stg_support__accounts',
            'tenant_id': 'account_id',
            'timezone': 'timezone',
            'version': 'tn.timezone',
            'events': [{
                'name': 'reporting_events',
                'model': 'stg_support__reporting_events',
                'tenant': 'account_id',
                'ts': 'created_at',
                'raw_table': 'reporting_events',
            }, {
                'name': 'messages',
                'model': 'stg_support__messages',
                'tenant': 'account_id',
                'ts': 'created_at',
                'raw_table': 'messages',
            }, {
                'name': 'conversations',
                'model': 'stg_support__conversations',
                'tenant': 'account_id',
                'ts': 'created_at',
                'raw_table': 'conversations',
            }, {
                'name': 'messages_of_changed_conversations',
                'model': 'int_support__messages_conversation_dated',
                'tenant': 'account_id',
                'ts': 'created_at',
                'raw_table': 'conversations',
            }, {
                'name': 'events_of_changed_conversations',
                'model': 'int_support__events_conversation_dated',
                'tenant': 'account_id',
                'ts': 'created_at',
                'raw_table': 'conversations',
            }],
            'rebuild_var': 'rebuild_account_id',
            'backfill_tenant_var': 'backfill_account_id',
        },
        indexes=[
            {'columns': ['account_id', 'day_bucket']},
        ],
        pre_hook="{{ tally.sliding_window_prepare() }}",
        post_hook="{{ tally.sliding_window_record() }}",
    )
}}

-- depends_on: {{ ref('stg_support__accounts') }}
-- depends_on: {{ ref('stg_support__reporting_events') }}
-- depends_on: {{ ref('stg_support__messages') }}
-- depends_on: {{ ref('stg_support__conversations') }}
-- depends_on: {{ ref('int_support__messages_conversation_dated') }}
-- depends_on: {{ ref('int_support__events_conversation_dated') }}
-- depends_on: {{ ref('metric_registry') }}
{#- The five event sources of the sliding window: reporting events, messages and
    conversations (issue 18) by their own time, and the two *_conversation_dated views -
    a conversation moved to another team (or reassigned) recomputes the days of its
    messages and reporting events. -#}

{#- Seed 002's reporting_events_rollups: per account, local day (account's
    reporting_timezone), dimension (account / agent / inbox) and metric - count and sums.
    Metrics counted as distinct conversations (bot_handoffs) are counted per dimension
    here, never summed from a finer grain: count(distinct) does not add up. #}

with events as (
    -- the affected account-days' (or whole accounts') rows of each source view (reporting
    -- events; messages and conversations, issue 18): one (account_id, created_at) index
    -- range scan on raw per affected row and view, an account-day's rows probing their
    -- conversation by primary key; everything in a full build
    {%- for source in ['int_support__events_dimensioned', 'int_support__messages_dimensioned',
                       'int_support__conversations_dimensioned'] %}
    select rows_.*
    from {{ tally.support_dimensioned_rows(source) }} as rows_
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

counted_events as (
    select
        events.account_id,
        events.day_bucket,
        events.dimension_type,
        events.dimension_id,
        events.metric,
        count(*) as count,
        coalesce(sum(events.value), 0) as sum_value,
        coalesce(sum(events.value_in_business_hours), 0) as sum_value_business_hours
    from events
    -- reporting events, messages (issue 18) and conversations (issue 18): counts and sums
    where events.count_kind in ('events', 'messages', 'conversations')
    group by 1, 2, 3, 4, 5
),

counted_conversations as (
    select
        events.account_id,
        events.day_bucket,
        events.dimension_type,
        events.dimension_id,
        events.metric,
        count(distinct events.conversation_id) as count,
        cast(0 as double precision) as sum_value,
        cast(0 as double precision) as sum_value_business_hours
    from events
    where events.count_kind = 'distinct_conversations'
    group by 1, 2, 3, 4, 5
),

final as (
    select
        cast(unioned.account_id as bigint) as account_id,
        cast(unioned.day_bucket as date) as day_bucket,
        cast(unioned.dimension_type as text) as dimension_type,
        cast(unioned.dimension_id as bigint) as dimension_id,
        cast(unioned.metric as text) as metric,
        cast(unioned.count as bigint) as count,
        cast(unioned.sum_value as double precision) as sum_value,
        cast(unioned.sum_value_business_hours as double precision) as sum_value_business_hours,
        {{ tally.lineage_columns() }}
    from (
        select * from counted_events
        union all
        select * from counted_conversations
    ) as unioned
)

select * from final
