{#- Every raw reporting event, unfiltered (the sliding window reads `updated_at` here
    to find changed buckets; filtering by name or account happens downstream). -#}
with events as (
    select * from {{ source('raw_support', 'reporting_events') }}
),

final as (
    select
        events.id as reporting_event_id,
        events.account_id,
        events.name as event_name,
        events.value,
        events.value_in_business_hours,
        events.user_id,
        events.inbox_id,
        events.conversation_id,
        events.event_start_time as event_start_at,
        events.event_end_time as event_end_at,
        events.created_at,
        events.updated_at
    from events
)

select * from final
